"""Money in integer minor units with an ISO 4217 currency code; never a float.

One rounding rule everywhere (pages, API, reports): Decimal arithmetic, ROUND_HALF_UP, applied
once per line. ``line_total(unit_price_minor, quantity, discount_percent)`` is that rule.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import get_currency_precision, list_currencies

MAX_MINOR = 10**15  # a sane ceiling: anything bigger is a typing mistake, not an order


class MoneyError(ValueError):
    """An amount or currency the user typed cannot be used; ``str()`` is the reason in English."""


def currency_exponent(code: str) -> int:
    """Number of decimals of ``code`` (CNY 2, JPY 0, KWD 3)."""
    return int(get_currency_precision(code))


_KNOWN = None


def is_currency(code: str) -> bool:
    """True for an ISO 4217 code Babel knows."""
    global _KNOWN
    if _KNOWN is None:
        _KNOWN = frozenset(list_currencies())
    return isinstance(code, str) and code in _KNOWN


def parse_amount(text: str | int | Decimal, currency: str) -> int:
    """Turn what a user typed ("1,234.5") into minor units of ``currency``.

    Refuses more decimals than the currency has, negative numbers and absurd sizes.
    """
    if not is_currency(currency):
        raise MoneyError(f"unknown currency {currency!r}")
    if isinstance(text, Decimal):
        value = text
    else:
        raw = str(text).strip().replace(",", "").replace("\u00a0", "").replace(" ", "")
        if not raw:
            raise MoneyError("amount is empty")
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise MoneyError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise MoneyError(f"{text!r} is not a number")
    exp = currency_exponent(currency)
    scaled = value.scaleb(exp)
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{currency} has {exp} decimals at most")
    if value < 0:
        raise MoneyError("amount must not be negative")
    minor = int(scaled)
    if minor >= MAX_MINOR:
        raise MoneyError("amount is too large")
    return minor


def to_decimal(minor: int, currency: str) -> Decimal:
    """Minor units back to a Decimal in major units (for display and export)."""
    return Decimal(int(minor)).scaleb(-currency_exponent(currency))


def format_plain(minor: int, currency: str) -> str:
    """Major units as plain text with exactly the currency's decimals, e.g. ``'1234.50'``."""
    exp = currency_exponent(currency)
    return f"{to_decimal(minor, currency):.{exp}f}"


def round_half_up(value: Decimal) -> int:
    """Round a Decimal to the nearest integer, halves away from zero."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def line_total(unit_price_minor: int, quantity: int | Decimal, discount_percent: Decimal | int | str = 0) -> int:
    """Total of one order line in minor units: price x quantity less the discount, rounded half-up once.

    >>> line_total(34835, 16, Decimal("4"))   # 348.35 x 16 at 4% = 5350.656 -> 5350.66
    535066
    >>> line_total(12345, 1, 10)              # JPY 12,345 at 10% -> 11,110.5 -> 11,111
    11111
    """
    gross = Decimal(int(unit_price_minor)) * Decimal(quantity)
    discount = Decimal(str(discount_percent))
    if discount < 0 or discount > 100:
        raise MoneyError("discount must be between 0 and 100 percent")
    return round_half_up(gross * (Decimal(100) - discount) / Decimal(100))


def format_money(minor: int | None, currency: str, locale: str | None = None) -> str:
    """Localised display of an amount, e.g. ``¥1,234.50`` or ``CN¥1,234.50`` in zh_CN."""
    from babel.numbers import format_currency

    if minor is None:
        return ""
    if locale is None:
        from flask_babel import get_locale

        loc = get_locale()
        locale = str(loc) if loc else "en"
    return format_currency(to_decimal(minor, currency), currency, locale=locale)
