"""Helpers shared by the orders services: parsing of typed values and the order's version lock.

Public helpers here (``phone_key``, ``parse_quantity``...) are re-exported by the package; the
private ones serve only the modules next to this one.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import update

from erp_core.errors import Conflict, DomainError
from erp_core.extensions import db
from erp_core.money import MoneyError

from ..models import Order

MAX_QUANTITY = 1_000_000
MAX_LINES = 2_000


def as_id(raw) -> int | None:
    """``raw`` (text or int) as a database id, or None when it is not one: ASCII digits only
    ("\u00b2" passes ``str.isdigit`` but not ``int``) and within an INTEGER column (1 to MAX_ID)."""
    from erp_core.db import MAX_ID

    text = str(raw if raw is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def phone_key(phone: str | None) -> str:
    """Digits of a phone number (with a leading + kept), for matching and search."""
    phone = (phone or "").strip()
    digits = re.sub(r"\D", "", phone)
    return ("+" + digits) if phone.startswith("+") and digits else digits


def normalise_email(email: str | None) -> str:
    """Lower-cased and validated e-mail, or "" when empty. Raises DomainError when malformed."""
    email = (email or "").strip()
    if not email:
        return ""
    try:
        return validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise DomainError(_("%(email)s is not a valid e-mail address.", email=email), field="email") from None


def _clean(text: str | None, limit: int) -> str:
    return (text or "").strip()[:limit]


def check_phone(phone: str | None) -> str:
    """The phone as typed (trimmed), or a DomainError when it cannot be a phone number."""
    phone = _clean(phone, 40)
    if not phone:
        return ""
    if not re.fullmatch(r"[0-9+()\-./ \u00a0extEXT#]+", phone) or len(re.sub(r"\D", "", phone)) < 3:
        raise DomainError(_("%(phone)s is not a phone number.", phone=phone), field="phone")
    return phone


def parse_quantity(raw) -> int:
    """A whole, positive quantity within limits."""
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise DomainError(_("Quantity must be a whole number.")) from None
    if not value.is_finite() or value != value.to_integral_value():
        raise DomainError(_("Quantity must be a whole number."))
    if value <= 0:
        raise DomainError(_("Quantity must be more than zero."))
    if value > MAX_QUANTITY:
        raise DomainError(_("Quantity cannot exceed %(max)s.", max=MAX_QUANTITY))
    return int(value)


def parse_discount(raw) -> Decimal:
    """A discount percentage between 0 and 100 with at most two decimals."""
    text = str(raw if raw is not None else "").strip().rstrip("%").strip()
    if not text:
        return Decimal(0)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise DomainError(_("Discount must be a percentage between 0 and 100.")) from None
    if not value.is_finite() or value < 0 or value > 100:
        raise DomainError(_("Discount must be a percentage between 0 and 100."))
    if value != value.quantize(Decimal("0.01")):
        raise DomainError(_("Discount has at most two decimals."))
    return value.quantize(Decimal("0.01"))


def _money_reason(exc: MoneyError, currency: str) -> str:
    """Why an amount was refused, in the user's language (for "Price: <reason>")."""
    text = str(exc)
    if "decimals" in text:
        from erp_core.money import currency_exponent

        return _("%(code)s has %(n)d decimals at most.", code=currency, n=currency_exponent(currency))
    if "negative" in text:
        return _("the amount must not be negative.")
    if "too large" in text:
        return _("the amount is too large.")
    if "empty" in text:
        return _("the amount is missing.")
    return _("not a number.")


def _bump_version(order: Order, expected_version: int | None) -> None:
    """Take the order's version forward, refusing a form drawn from an older version.

    The conditional UPDATE also row-locks the order on PostgreSQL, so concurrent edits and
    transitions of one order run one after the other.
    """
    expected = order.version if expected_version is None else int(expected_version)
    result = db.session.execute(
        update(Order).where(Order.id == order.id, Order.version == expected)
        .values(version=Order.version + 1).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise _stale(order)
    db.session.refresh(order, ["version", "status"])


def _stale(order: Order) -> Conflict:
    """The refusal of a form or button drawn from an older version of ``order``."""
    return Conflict(_("Order %(number)s was changed by someone else meanwhile. Reload the page and try again; nothing was saved.",
                      number=order.number), code="stale")
