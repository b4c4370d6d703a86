"""The one schema layer of the JSON API: every plugin's ``rest_api`` builds its schemas from here.

marshmallow's own messages are English only. :class:`ApiSchema` gives every field of a request
schema translated messages for the common failures (missing, null, wrong type, too large), so a
422 problem+json answers ``Accept-Language: zh-CN`` in Chinese beside each field, and field
errors come flat, one key per field (``lines.0.quantity``)::

    class PaymentIn(ApiSchema):
        amount_minor = WholeNumber(required=True, validate=in_range(1, 10**9))
        note = text_field(500, NO_NUL, load_default="")

    class PaymentFilter(PageQuerySchema):          # query arguments: page, per_page, filters
        sort = choice_field(sort_choices(["id", "paid_at"]), load_default="-id")

What is here:

- bases: :class:`ApiSchema` (request bodies; unknown fields refused), :class:`QuerySchema`
  (query arguments; unknown ones ignored), :class:`PageQuerySchema` (with ``page`` and
  ``per_page``), :func:`page_schema` (a page of results);
- fields: :class:`WholeNumber` (the one integer field), :class:`AwareDateTime` (a time with its
  time zone; a naive time is refused), :func:`id_field`, :func:`text_field`, :func:`code_field`,
  :func:`choice_field`;
- validators with translated messages: :func:`in_range`, :func:`length`, :func:`count`,
  :func:`pattern`, :func:`one_of`, and the patterns the services' rules imply (:data:`NO_NUL`,
  :data:`NON_BLANK`, :data:`EMAIL`, :data:`PHONE`...), so the OpenAPI document says what is
  accepted;
- helpers for views: :func:`existing_id` (a path id that cannot exist is a 404 before the
  database is asked), :func:`clamp_date`, :func:`sort_choices`, :func:`currencies`.

Validator messages are translated when an error is written, in the request's language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date
from typing import ClassVar

import marshmallow as ma
from flask import abort
from flask_babel import lazy_gettext as _l

from ..db import MAX_ID
from ..errors import NotFound
from ..inputs import find_text_problem

# Day filters are brought inside these bounds before they become times.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9999, 12, 30)
MAX_PER_PAGE = 200

# ----------------------------------------------------------------------------- patterns

# What a code (payment method, source type, currency...) is made of, for query filters: a
# schema-valid query then never carries characters the site refuses (NUL, control characters).
CODE_PATTERN = r"^[A-Za-z0-9_.:-]*$"
# The core refuses a NUL character in any input (400) before a view runs; a pattern says so.
NO_NUL = r"^[^\x00]*$"
NON_BLANK = r"^\s*[^\s\x00][^\x00]*$"
PHONE = (r"^([+(]?[0-9][0-9 ()./#-]*[0-9][0-9 ()./#-]*[0-9][0-9 ()./#-]*"
         r"( ?(ext|EXT|x|X)\.? ?[0-9]{1,6})?)?$")
# ASCII addresses the e-mail check accepts: at most 64 characters before the @, labels without "--".
_LABEL = r"[A-Za-z0-9]{1,20}(-[A-Za-z0-9]{1,20}){0,2}"
EMAIL = (r"^([A-Za-z0-9_+-]{1,16}(\.[A-Za-z0-9_+-]{1,15}){0,3}@" + _LABEL + r"(\." + _LABEL + r"){0,3}"
         r"\.[A-Za-z]{2,20})?$")
SKU = r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$"
COUNTRY = r"^([A-Za-z]{2})?$"
DECIMAL = r"^[0-9]{1,10}(\.[0-9]{1,4})?$"
PERCENT = r"^(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)$"


# ----------------------------------------------------------------------------- fields


class WholeNumber(ma.fields.Integer):
    """A whole number, strictly: the one integer field of every API schema.

    Refused, all with the same message ("Not a valid whole number."): a number with a fraction
    (``1999.99``, never truncated), ``true``/``false``, and text (``"15"``, ``"1.5"``) in a JSON
    body. ``2.0`` is the whole number 2. In a query string, where every value is text, digits
    with an optional minus sign are read as the number they spell.
    """

    _DIGITS = re.compile(r"-?[0-9]{1,30}")
    default_error_messages: ClassVar[dict] = {"invalid": _l("Not a valid whole number.")}

    def _refuse(self) -> ma.ValidationError:
        # The message as plain text in the request's language, whichever schema base translates.
        return ma.ValidationError(str(self.error_messages["invalid"]))

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self._refuse()
        if isinstance(value, str):
            # A JSON body is a dict; the query string (and form data) a multi-dict of text.
            if isinstance(data, dict) or not self._DIGITS.fullmatch(value):
                raise self._refuse()
            return int(value)
        if isinstance(value, float):
            if not value.is_integer():
                raise self._refuse()
            return int(value)
        if not isinstance(value, int):
            raise self._refuse()
        return value


class AwareDateTime(ma.fields.AwareDateTime):
    """A date and time with its time zone (ISO 8601), loaded as an aware datetime in UTC.

    A time without a zone (``2026-01-15T09:30:00``) is refused (422, "Give the time with its time
    zone..."), never guessed as UTC or the company's zone: the API has always answered so. A time
    that is not in UTC's years 1900-9999 once converted is refused as not valid.
    """

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            moment = moment.astimezone(UTC)
        except (OverflowError, ValueError):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from None
        if moment.year < FIRST_DAY.year:
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        return moment


_INVALID = {
    ma.fields.Integer: _l("Not a valid whole number."),
    ma.fields.Number: _l("Not a valid number."),
    ma.fields.Boolean: _l("Not a valid boolean (use true or false)."),
    ma.fields.AwareDateTime: _l("Not a valid date and time with a time zone (ISO 8601)."),
    ma.fields.DateTime: _l("Not a valid date and time (ISO 8601)."),
    ma.fields.Date: _l("Not a valid date (YYYY-MM-DD)."),
    ma.fields.List: _l("Not a valid list."),
    ma.fields.Nested: _l("Not a valid object."),
    ma.fields.String: _l("Not a valid text."),
}


def _invalid_message(field: ma.fields.Field):
    for cls, message in _INVALID.items():
        if isinstance(field, cls):
            return message
    return _l("Not a valid value.")


def _translate(field: ma.fields.Field) -> None:
    messages = {"required": _l("This field is required."), "null": _l("This field may not be null."),
                "invalid": _invalid_message(field), "validator_failed": _l("Invalid value.")}
    if isinstance(field, ma.fields.Number):
        messages["too_large"] = _l("The number is too large.")
    if isinstance(field, ma.fields.AwareDateTime):
        messages["invalid_awareness"] = _l("Give the time with its time zone, e.g. 2026-01-15T09:30:00+08:00.")
    if isinstance(field, ma.fields.List):
        _translate(field.inner)
    field.error_messages = {**field.error_messages, **messages}


def _plain(messages):
    """Lazy messages as plain strings in the request's language, each field's in a list."""
    if isinstance(messages, dict):
        return {key: _plain(value) for key, value in messages.items()}
    if isinstance(messages, list):
        return [_plain(item) if isinstance(item, (dict, list)) else str(item) for item in messages]
    return [str(messages)]


def flatten_errors(messages, prefix: str = "") -> dict[str, list]:
    """``{"lines": {0: {"quantity": [..]}}}`` -> ``{"lines.0.quantity": [..]}`` (one level of keys)."""
    flat: dict[str, list] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                flat.update(flatten_errors(value, name))
            else:
                flat.setdefault(name or "_", []).extend(value if isinstance(value, list) else [value])
    else:
        flat[prefix or "_"] = messages if isinstance(messages, list) else [messages]
    return flat


# ----------------------------------------------------------------------------- schema bases


class StorableText(ma.Schema):
    """Mixin of every API request schema: text that cannot be stored (NUL, lone surrogates; see
    :func:`erp_core.inputs.text_problem`) is refused beside its field, before any field reads it."""

    @ma.pre_load
    def _refuse_unstorable_text(self, data, **kwargs):
        if isinstance(data, Mapping):
            errors = {key: [problem] for key, value in data.items()
                      if (problem := find_text_problem([key, value]))}
            if errors:
                raise ma.ValidationError(errors)
        return data


class ApiSchema(StorableText):
    """Request schema with messages in the user's language; unknown fields are refused.

    Errors are plain strings in lists, one flat key per field: a nested field's key is its path
    (``lines.0.quantity``), an error of the whole body is under ``_schema``.
    """

    error_messages: ClassVar[dict] = {"unknown": _l("Unknown field."), "type": _l("Invalid input type.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            _translate(field)

    def load(self, *args, **kwargs):
        """marshmallow's ``load``; a ValidationError carries translated, flat messages."""
        try:
            return super().load(*args, **kwargs)
        except ma.ValidationError as exc:
            exc.messages = flatten_errors(_plain(exc.messages))
            raise


class QuerySchema(ApiSchema):
    """Query arguments (list filters): unknown arguments are ignored, as the pages do."""

    class Meta:
        unknown = ma.EXCLUDE


# ----------------------------------------------------------------------------- validators


class _Deferred:
    """A validator message translated when an error is written, never before: marshmallow tests
    its ``error`` for truth when the schema is built (at import), and a lazy string would then
    be translated there, outside any request (reading the locale can query the database)."""

    def __init__(self, lazy):
        self.lazy = lazy

    def __bool__(self) -> bool:
        return True

    def format(self, *args, **kwargs) -> str:
        return str(self.lazy).format(*args, **kwargs)

    def __str__(self) -> str:
        return str(self.lazy)


def range_error(low: int | None = None, high: int | None = None):
    """A translated message for ``ma.validate.Range(min=low, max=high)``."""
    if low is not None and high is not None:
        return _Deferred(_l("Must be between {min} and {max}."))
    if low is not None:
        return _Deferred(_l("Must be at least {min}."))
    return _Deferred(_l("Must be at most {max}."))


def length_error(high: int, low: int = 0):
    """A translated message for ``ma.validate.Length(min=low, max=high)`` of a text."""
    if low:
        return _Deferred(_l("Between {min} and {max} characters."))
    return _Deferred(_l("At most {max} characters."))


def code_error():
    """A translated message for a code's ``ma.validate.Regexp`` (see :data:`CODE_PATTERN`)."""
    return _Deferred(_l("Only letters, digits and _ . : - are allowed."))


def choice_error():
    """A translated message for ``ma.validate.OneOf``."""
    return _Deferred(_l("Must be one of: {choices}."))


def in_range(low: int | None = None, high: int | None = None) -> ma.validate.Range:
    """``low <= value <= high`` (either may be None), with a translated message."""
    return ma.validate.Range(min=low, max=high, error=range_error(low, high))


def length(high: int, low: int = 0) -> ma.validate.Length:
    """A text of ``low`` to ``high`` characters, with a translated message."""
    return ma.validate.Length(min=low or None, max=high, error=length_error(high, low))


def count(low: int, high: int) -> ma.validate.Length:
    """A list of ``low`` to ``high`` items, with a translated message."""
    return ma.validate.Length(min=low, max=high, error=_Deferred(_l("Give between {min} and {max} items.")))


def pattern(regex: str) -> ma.validate.Regexp:
    """A text matching ``regex`` (shown in the OpenAPI document), with a translated message."""
    if regex == CODE_PATTERN:
        return ma.validate.Regexp(regex, error=code_error())
    return ma.validate.Regexp(regex, error=_Deferred(_l("Not in the expected form.")))


def one_of(values) -> ma.validate.OneOf:
    """One of ``values`` (the OpenAPI ``enum``), with a translated message."""
    return ma.validate.OneOf(list(values), error=choice_error())


def id_field(**kw) -> WholeNumber:
    """A database id in a request (1 to :data:`MAX_ID`); pass ``required=True`` when it is."""
    return WholeNumber(validate=in_range(1, MAX_ID), **kw)


def text_field(limit: int, regex: str | None = None, minimum: int = 0, **kw) -> ma.fields.String:
    """Text of at most ``limit`` characters (at least ``minimum``), matching ``regex`` if given
    (:data:`NO_NUL`, :data:`NON_BLANK`, :data:`EMAIL`...)."""
    validators = [length(limit, minimum)]
    if regex is not None:
        validators.append(pattern(regex))
    return ma.fields.String(validate=validators, **kw)


def code_field(limit: int, **kw) -> ma.fields.String:
    """A code (see :data:`CODE_PATTERN`) of at most ``limit`` characters."""
    return text_field(limit, CODE_PATTERN, **kw)


def choice_field(values, **kw) -> ma.fields.String:
    """One of ``values``."""
    return ma.fields.String(validate=one_of(values), **kw)


# ----------------------------------------------------------------------------- pages


class PageArgsSchema(ma.Schema):
    """``page`` (from 1) and ``per_page`` (1-200) query arguments, as a mixin."""

    class Meta:
        unknown = ma.EXCLUDE

    page = WholeNumber(load_default=1, validate=in_range(1, 1_000_000))
    per_page = WholeNumber(load_default=25, validate=in_range(1, MAX_PER_PAGE))


class PageQuerySchema(QuerySchema, PageArgsSchema):
    """Query arguments of a paginated list: ``page``, ``per_page`` and the filters declared."""


class LinksSchema(ma.Schema):
    self_ = ma.fields.String(data_key="self", attribute="self", required=True)
    next = ma.fields.String(allow_none=True)
    prev = ma.fields.String(allow_none=True)


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A schema ``{items, page, per_page, total, links}`` for lists of ``item_schema``."""
    return type(name, (ma.Schema,), {
        "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
        "page": WholeNumber(required=True),
        "per_page": WholeNumber(required=True),
        "total": WholeNumber(required=True),
        "links": ma.fields.Nested(LinksSchema, required=True),
    })


# ----------------------------------------------------------------------------- helpers for views


def existing_id(value: int, message=None) -> int:
    """``value`` when it can be an id; else 404 (NotFound with ``message`` when given) before the
    database is asked: a path id beyond the INTEGER range cannot exist."""
    if not 1 <= value <= MAX_ID:
        if message is None:
            abort(404)
        raise NotFound(message)
    return value


def clamp_date(value: date | None, first: date = FIRST_DAY, last: date = LAST_DAY) -> date | None:
    """A filter day brought inside ``first``-``last`` (nothing is recorded outside them), so the
    time-zone arithmetic of a day's bounds stays away from the calendar's ends."""
    if value is None:
        return None
    return min(max(value, first), last)


def sort_choices(keys) -> list[str]:
    """``["name", "-name", "id", "-id"]`` for ``keys`` ``["name", "id"]``."""
    return [k for key in keys for k in (key, "-" + key)]


def currencies() -> list[str]:
    """Every ISO 4217 code Babel knows, sorted."""
    from babel.numbers import list_currencies

    return sorted(list_currencies())
