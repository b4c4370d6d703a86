"""ApiSchema: request validation messages in the asked language, always as lists per field."""

import marshmallow as ma
import pytest
from flask_babel import force_locale

from erp_core.api.schemas import ApiSchema, choice_error, length_error, range_error


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
