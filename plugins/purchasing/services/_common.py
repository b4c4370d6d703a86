"""Helpers shared by the purchasing service modules (not part of the public surface)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import gettext as _

from erp_core.errors import DomainError
from erp_core.inputs import text_problem
from erp_core.money import MoneyError, parse_amount
from plugins.orders.public import rates_for_products

MAX_COUNT = 10_000_000


def clean(value, limit: int, field: str | None = None) -> str:
    """Text stripped and checked (no NUL, not longer than ``limit``)."""
    text = str(value or "").strip()
    problem = text_problem(text)
    if problem:
        raise DomainError(problem, field=field)
    if len(text) > limit:
        raise DomainError(_("At most %(n)d characters.", n=limit), field=field)
    return text


def whole(raw, field: str, *, minimum: int = 0, default: int | None = None) -> int:
    """A whole number of at least ``minimum`` as typed; blank is ``default`` (or refused)."""
    text = str(raw if raw is not None else "").strip()
    if not text and default is not None:
        return default
    if not text.isdigit() or int(text) < minimum or int(text) > MAX_COUNT:
        raise DomainError(_("Enter a whole number from %(min)d to %(max)d.", min=minimum, max=MAX_COUNT),
                          field=field)
    return int(text)


def price(raw, currency: str, field: str) -> int:
    """A price typed in major units (``12.50``) as minor units of ``currency``; blank is 0."""
    text = str(raw if raw is not None else "").strip()
    if not text:
        return 0
    try:
        return parse_amount(text, currency)
    except MoneyError:
        raise DomainError(_("Enter a price of 0 or more, like 12.50."), field=field) from None


def parse_day(raw, field: str) -> date | None:
    """A ``YYYY-MM-DD`` date (or a date); blank is None."""
    if isinstance(raw, date) or raw is None:
        return raw
    text = str(raw).strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DomainError(_("Dates are written YYYY-MM-DD."), field=field) from None


def product_rate(product) -> tuple[Decimal, bool]:
    """``(percent, exempt)`` of the VAT rate a product is bought at: its own rate, else the
    company's default rate (the orders setting ``orders.default_tax_rate``, when active), else
    no tax (0 %). Only the rate is looked up here; amounts come from ``line_amounts``."""
    rate = rates_for_products([product])[product.id]
    if rate is None:
        return Decimal(0), False
    return (Decimal(0) if rate.exempt else Decimal(rate.percent)), bool(rate.exempt)
