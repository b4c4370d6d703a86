"""ApiSchema: request validation messages in the asked language, always as lists per field."""

from datetime import UTC, date, datetime

import marshmallow as ma
import pytest
from flask_babel import force_locale

from erp_core.api.schemas import (
    FIRST_DAY,
    NO_NUL,
    NON_BLANK,
    ApiSchema,
    AwareDateTime,
    PageQuerySchema,
    choice_error,
    clamp_date,
    count,
    currencies,
    existing_id,
    length_error,
    range_error,
    sort_choices,
    text_field,
)


class Line(ApiSchema):
    quantity = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=9, error=range_error(1, 9)))


class Body(ApiSchema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(max=3, error=length_error(3)))
    kind = ma.fields.String(validate=ma.validate.OneOf(["a", "b"], error=choice_error()))
    paid = ma.fields.Boolean()
    at = ma.fields.AwareDateTime()
    lines = ma.fields.List(ma.fields.Nested(Line))


@pytest.fixture
def ctx(make_app):
    app = make_app(plugins=[])
    with app.test_request_context():
        yield


def _errors(data):
    with pytest.raises(ma.ValidationError) as caught:
        Body().load(data)
    return caught.value.messages


def test_messages_follow_the_locale_and_are_lists(ctx):
    data = {"name": "long", "kind": "c", "paid": "perhaps", "at": "2026-01-15T09:30:00",
            "lines": [{"quantity": 0}, {}], "extra": 1}
    with force_locale("en"):
        en = _errors(data)
    assert en == {"name": ["At most 3 characters."], "kind": ["Must be one of: a, b."],
                  "paid": ["Not a valid boolean (use true or false)."],
                  "at": ["Give the time with its time zone, e.g. 2026-01-15T09:30:00+08:00."],
                  "lines.0.quantity": ["Must be between 1 and 9."],
                  "lines.1.quantity": ["This field is required."],
                  "extra": ["Unknown field."]}
    with force_locale("zh_CN"):
        zh = _errors(data)
    assert zh["name"] == ["最多 3 个字符。"] and zh["lines.1.quantity"] == ["此项为必填项。"]
    assert zh["extra"] == ["未知字段。"] and zh["kind"] == ["必须是以下之一：a, b。"]
    with force_locale("zh_CN"):
        assert _errors({"name": None}) == {"name": ["此项不能为 null。"]}


def test_valid_input_loads(ctx):
    assert Body().load({"name": "abc", "lines": [{"quantity": 2}]}) == {"name": "abc", "lines": [{"quantity": 2}]}


class Event(ApiSchema):
    at = AwareDateTime(required=True)
    lines = ma.fields.List(ma.fields.Nested(Line), validate=count(1, 2))
    note = text_field(5, NON_BLANK)


class Filter(PageQuerySchema):
    q = text_field(10, NO_NUL)


def test_aware_times_are_utc_and_naive_or_unreachable_ones_refused(ctx):
    loaded = Event().load({"at": "2026-01-15T09:30:00+08:00"})
    assert loaded["at"] == datetime(2026, 1, 15, 1, 30, tzinfo=UTC)
    for value in ("2026-01-15T09:30:00", "0001-01-01T00:00:00+08:00", "1899-12-31T23:00:00+00:00", "soon"):
        with pytest.raises(ma.ValidationError) as caught:
            Event().load({"at": value})
        assert list(caught.value.messages) == ["at"], value
    with force_locale("zh_CN"), pytest.raises(ma.ValidationError) as caught:
        Event().load({"at": "2026-01-15T09:30:00"})
    assert caught.value.messages["at"][0].startswith("请")


def test_lists_texts_and_queries_have_translated_checks(ctx):
    with force_locale("zh_CN"), pytest.raises(ma.ValidationError) as caught:
        Event().load({"at": "2026-01-15T09:30:00Z", "lines": [], "note": " "})
    assert caught.value.messages == {"lines": ["请给出 1 到 2 项。"], "note": ["格式不符合要求。"]}
    with pytest.raises(ma.ValidationError) as caught:
        Event().load({"at": "2026-01-15T09:30:00Z", "lines": [{"quantity": 1}] * 3})
    assert caught.value.messages == {"lines": ["Give between 1 and 2 items."]}
    # query arguments: unknown ones ignored, page and per_page come along
    assert Filter().load({"q": "x", "other": "y"}) == {"q": "x", "page": 1, "per_page": 25}
    with pytest.raises(ma.ValidationError) as caught:
        Filter().load({"per_page": 500})
    assert caught.value.messages == {"per_page": ["Must be between 1 and 200."]}


def test_view_helpers(ctx):
    from werkzeug.exceptions import NotFound as HttpNotFound

    from erp_core.errors import NotFound

    assert existing_id(5) == 5
    with pytest.raises(HttpNotFound):
        existing_id(2**40)
    with pytest.raises(NotFound):
        existing_id(0, "No such thing.")
    assert clamp_date(date(1, 1, 1)) == FIRST_DAY and clamp_date(None) is None
    assert clamp_date(date(9999, 12, 31), last=date(2999, 12, 31)) == date(2999, 12, 31)
    assert sort_choices(["a", "b"]) == ["a", "-a", "b", "-b"] and "CNY" in currencies()
