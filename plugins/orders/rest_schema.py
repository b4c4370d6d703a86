"""Building blocks of the orders and inventory JSON APIs: a marshmallow base schema whose field
errors come out in the asked language, validators with translated messages, and id checks.

marshmallow's own messages are English; :class:`ApiSchema` maps the usual ones to translated
texts, and the validators made here carry translated messages of their own.
"""

from __future__ import annotations

from datetime import date

import marshmallow as ma
from flask import abort
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from erp_core.api.schemas import MAX_ID, StorableText, WholeNumber

EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)


def _known_messages() -> dict[str, str]:
    return {
        "Missing data for required field.": _("This field is required."),
        "Field may not be null.": _("This field cannot be empty (null)."),
        "Unknown field.": _("Unknown field."),
        "Not a valid integer.": _("Not a whole number."),
        "Not a valid string.": _("Not a text."),
        "Not a valid boolean.": _("Not true or false."),
        "Not a valid date.": _("Not a date (YYYY-MM-DD)."),
        "Not a valid list.": _("Not a list."),
        "Invalid input type.": _("Invalid input type."),
        "Invalid input.": _("Invalid input."),
        "Invalid value.": _("Invalid value."),
    }


def translate_messages(messages):
    """marshmallow's error messages (nested dicts and lists) with the known ones translated."""
    known = _known_messages()
    if isinstance(messages, dict):
        return {key: translate_messages(value) for key, value in messages.items()}
    if isinstance(messages, list):
        return [translate_messages(m) for m in messages]
    if isinstance(messages, str):
        return known.get(messages, messages)
    return str(messages)


def flatten_errors(messages, prefix: str = "") -> dict[str, list[str]]:
    """``{"lines": {0: {"quantity": [..]}}}`` -> ``{"lines.0.quantity": [..]}`` (one level of keys)."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                flat.update(flatten_errors(value, name))
            else:
                flat.setdefault(name or "_", []).extend(value if isinstance(value, list) else [str(value)])
    else:
        flat[prefix or "_"] = messages if isinstance(messages, list) else [str(messages)]
    return flat


class ApiSchema(StorableText):
    """Base schema of the API: unknown fields are refused, errors are translated and flat."""

    class Meta:
        unknown = ma.RAISE

    def handle_error(self, error: ma.ValidationError, data, **kwargs):
        raise ma.ValidationError(flatten_errors(translate_messages(error.normalized_messages())))


class QuerySchema(ApiSchema):
    """Query arguments: page and per_page come along, other unknown arguments are ignored."""

    class Meta:
        unknown = ma.EXCLUDE


# Patterns the services' rules imply, so that the OpenAPI document says what is accepted.
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


def text(maximum: int, pattern: str = NO_NUL, minimum: int = 0, **kwargs) -> ma.fields.String:
    """A string field with a length limit and a pattern (by default: anything but NUL)."""
    return ma.fields.String(validate=[length(maximum, minimum),
                                      ma.validate.Regexp(pattern, error=_Deferred(_l("Not in the expected form.")))],
                            **kwargs)


def currencies() -> list[str]:
    from babel.numbers import list_currencies

    return sorted(list_currencies())


def length(maximum: int, minimum: int = 0) -> ma.validate.Length:
    if minimum:
        return ma.validate.Length(min=minimum, max=maximum,
                                  error=_Deferred(_l("Between {min} and {max} characters.")))
    return ma.validate.Length(max=maximum, error=_Deferred(_l("At most {max} characters.")))


def int_range(minimum: int = 1, maximum: int = MAX_ID) -> ma.validate.Range:
    return ma.validate.Range(min=minimum, max=maximum, error=_Deferred(_l("Between {min} and {max}.")))


def one_of(choices) -> ma.validate.OneOf:
    return ma.validate.OneOf(list(choices), error=_Deferred(_l("Must be one of: {choices}.")))


def id_field(**kwargs) -> WholeNumber:
    """A required (unless told otherwise) database id in a request body."""
    kwargs.setdefault("required", True)
    return WholeNumber(validate=int_range(), **kwargs)


def check_id(value: int) -> int:
    """A path id beyond the INTEGER range cannot exist: 404 before the database is asked."""
    if not 1 <= value <= MAX_ID:
        abort(404)
    return value


def clamp_date(value: date | None) -> date | None:
    """Filter dates outside 1900-2999 are brought inside (nothing is recorded outside them)."""
    if value is None:
        return None
    return min(max(value, EARLIEST), LATEST)


def sort_choices(keys) -> list[str]:
    return [k for key in keys for k in (key, "-" + key)]
