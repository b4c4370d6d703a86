"""A base schema for API input whose validation messages follow the asked language.

marshmallow's own messages are English only. :class:`ApiSchema` gives every field of a request
schema translated messages for the common failures (missing, null, wrong type, too large), so a
422 problem+json answers ``Accept-Language: zh-CN`` in Chinese beside each field::

    class PaymentIn(ApiSchema):
        amount_minor = WholeNumber(required=True, validate=ma.validate.Range(min=1))

Validators take their message from :func:`range_error` and friends (lazy, formatted when the
request is validated).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import ClassVar

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from ..db import MAX_ID
from ..errors import NotFound
from ..inputs import find_text_problem

# Day filters are brought inside these bounds before they become times.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9999, 12, 30)

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
    """Request schema with messages in the user's language; unknown fields are refused."""

    error_messages = {"unknown": _l("Unknown field."), "type": _l("Invalid input type.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            _translate(field)

    def load(self, *args, **kwargs):
        try:
            return super().load(*args, **kwargs)
        except ma.ValidationError as exc:
            exc.messages = _plain(exc.messages)
            raise


def range_error(low: int | None = None, high: int | None = None):
    """A translated message for ``ma.validate.Range(min=low, max=high)``."""
    if low is not None and high is not None:
        return _l("Must be between {min} and {max}.")
    if low is not None:
        return _l("Must be at least {min}.")
    return _l("Must be at most {max}.")


def length_error(high: int):
    """A translated message for ``ma.validate.Length(max=high)``."""
    return _l("At most {max} characters.")


def code_error():
    """A translated message for a code's ``ma.validate.Regexp`` (see :data:`CODE_PATTERN`)."""
    return _l("Only letters, digits and _ . : - are allowed.")


# What a code (payment method, source type, currency...) is made of, for query filters: a
# schema-valid query then never carries characters the site refuses (NUL, control characters).
CODE_PATTERN = r"^[A-Za-z0-9_.:-]*$"


def choice_error():
    """A translated message for ``ma.validate.OneOf``."""
    return _l("Must be one of: {choices}.")


def id_field(**kw) -> WholeNumber:
    """A database id in a request (1 to :data:`MAX_ID`)."""
    return WholeNumber(validate=ma.validate.Range(min=1, max=MAX_ID, error=range_error(1, MAX_ID)), **kw)


def text_field(limit: int, **kw) -> ma.fields.String:
    """Text of at most ``limit`` characters."""
    return ma.fields.String(validate=ma.validate.Length(max=limit, error=length_error(limit)), **kw)


def code_field(limit: int, **kw) -> ma.fields.String:
    """A code (see :data:`CODE_PATTERN`) of at most ``limit`` characters."""
    return ma.fields.String(validate=[ma.validate.Length(max=limit, error=length_error(limit)),
                                      ma.validate.Regexp(CODE_PATTERN, error=code_error())], **kw)


def choice_field(values, **kw) -> ma.fields.String:
    """One of ``values``."""
    return ma.fields.String(validate=ma.validate.OneOf(list(values), error=choice_error()), **kw)


def existing_id(value: int, message) -> int:
    """``value`` when it can be an id; else NotFound with ``message`` (before the database is asked)."""
    if not 1 <= value <= MAX_ID:
        raise NotFound(message)
    return value
