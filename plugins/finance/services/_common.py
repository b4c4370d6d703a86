"""Helpers shared by the finance service modules: the errors they raise, typed amounts and text,
audit facts and the request an adapter is given (not part of the public surface beyond what
``services/__init__.py`` re-exports)."""

from __future__ import annotations

from flask_babel import gettext as _

from erp_core.errors import DomainError
from erp_core.money import MoneyError, currency_exponent, parse_amount
from plugins.orders.public import Order

from ..adapters import PaymentRequest
from ..models import Payment

MAX_TEXT = 1000


class PaymentRefused(DomainError):
    code = "payment_refused"
    status = 422


class SettingsInvalid(DomainError):
    """Settings of a payment method refused; ``errors`` maps each setting's name to its messages."""

    code = "invalid"
    status = 422

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        first = next(iter(errors.values()))[0]
        super().__init__(first if len(errors) == 1 else _("Please correct the marked fields: %(first)s", first=first))


class RefundRefused(DomainError):
    code = "refund_refused"
    status = 422


def parse_money(text, currency: str, field: str = "amount") -> int:
    """Minor units of what a user typed, with a translated message beside ``field``."""
    try:
        minor = parse_amount(text if text is not None else "", currency)
    except MoneyError as exc:
        reason = str(exc)
        if "decimals" in reason:
            message = _("%(code)s has %(n)d decimals at most.", code=currency, n=currency_exponent(currency))
        elif "negative" in reason:
            message = _("The amount must not be negative.")
        elif "too large" in reason:
            message = _("The amount is too large.")
        elif "empty" in reason:
            message = _("Type an amount.")
        else:
            message = _("The amount is not a number.")
        raise DomainError(message, field=field) from None
    if minor <= 0:
        raise DomainError(_("The amount must be more than zero."), field=field)
    return minor


def _facts(**values) -> dict:
    """What an audit entry records, without the empty values."""
    return {k: v for k, v in values.items() if v is not None}


def clean_text(value, limit: int = MAX_TEXT) -> str:
    """Typed text, trimmed and without NUL characters (PostgreSQL refuses them in text)."""
    return (value or "").replace("\x00", "").strip()[:limit]


_text = clean_text

def _request_for(payment: Payment, order: Order, **links) -> PaymentRequest:
    return PaymentRequest(merchant_ref=payment.merchant_ref, order_number=order.number,
                          amount_minor=payment.amount_minor, currency=payment.currency,
                          description=_("Order %(number)s", number=order.number), reference=payment.reference,
                          **links)
