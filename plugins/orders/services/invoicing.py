"""Buyers' invoicing details (开票信息): their checks, the customer's set, and the order's copy.

Every function works in the caller's transaction and raises a DomainError with a translated
message (:class:`InvoicingInvalid` lists every wrong field at once); changes are audited.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _

from erp_core import audit
from erp_core.errors import Conflict, DomainError
from erp_core.plugins import hooks

from .. import states
from ..invoicing_details import (
    FIELDS,
    INVOICE_TYPES,
    LIMITS,
    NONE,
    ORDINARY,
    SPECIAL,
    CustomerInvoicing,
    InvoicingDetails,
    OrderInvoicing,
)
from ..models import Customer, Order
from ..taxpayer_id import check_taxpayer_id
from ._common import _bump_version, _clean, check_phone

# What a special VAT invoice (增值税专用发票) must name: everything.
SPECIAL_REQUIRES = FIELDS
# Audit field names (``phone`` and ``address`` already name the customer's own in the history).
AUDIT_NAMES = {"title": "invoice_title", "taxpayer_id": "taxpayer_id", "address": "registered_address",
               "phone": "registered_phone", "bank": "bank", "account": "bank_account",
               "invoice_type": "invoice_type"}


class InvoicingInvalid(DomainError):
    """Some invoicing details are wrong; ``errors`` maps field names (``title``, ``taxpayer_id``,
    ``address``, ``phone``, ``bank``, ``account``, ``invoice_type``) to messages."""

    code = "invoicing_invalid"
    status = 422

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        field, messages = next(iter(errors.items()))
        super().__init__(messages[0] if len(errors) == 1 else
                         _("Please correct the marked invoicing details: %(first)s", first=messages[0]),
                         field=field)


def _check_account(value: str) -> str:
    """A bank account number: digits, with the spaces or hyphens people group them by."""
    if value and (not re.fullmatch(r"[0-9][0-9 \-]*", value) or len(re.sub(r"\D", "", value)) < 5):
        raise DomainError(_("A bank account number is made of digits (spaces and hyphens may group them)."),
                          field="account")
    return re.sub(r"\s+", " ", value)


def check_invoicing(data: dict | None) -> InvoicingDetails:
    """The checked details of ``data`` (keys as :data:`FIELDS` plus ``invoice_type``; missing
    keys are empty, a missing type is ``none``). The taxpayer ID must pass its check character,
    phone and account must be numbers; an ordinary invoice needs a title, a special VAT invoice
    needs every field. Raises :class:`InvoicingInvalid` listing every problem."""
    data = data or {}
    values = {name: _clean(data.get(name), LIMITS[name] + (20 if name == "taxpayer_id" else 0)) for name in FIELDS}
    values["invoice_type"] = (data.get("invoice_type") or NONE).strip().lower()
    errors: dict[str, list[str]] = {}
    for name, check in (("taxpayer_id", check_taxpayer_id), ("phone", check_phone), ("account", _check_account)):
        try:
            values[name] = check(values[name])
        except DomainError as exc:
            errors.setdefault(name, []).append(str(exc))
    if values["invoice_type"] not in INVOICE_TYPES:
        errors.setdefault("invoice_type", []).append(_("Choose no invoice, an ordinary invoice or a special VAT invoice."))
    elif values["invoice_type"] == ORDINARY and not values["title"]:
        errors.setdefault("title", []).append(_("An invoice needs a title (the buyer's name on it)."))
    elif values["invoice_type"] == SPECIAL:
        for name in SPECIAL_REQUIRES:
            if not values[name] and name not in errors:
                errors[name] = [_required_for_special(name)]
    if errors:
        raise InvoicingInvalid(errors)
    return InvoicingDetails(**values)


def _required_for_special(name: str) -> str:
    return {
        "title": _("A special VAT invoice needs the buyer's title."),
        "taxpayer_id": _("A special VAT invoice needs the buyer's taxpayer ID."),
        "address": _("A special VAT invoice needs the buyer's registered address."),
        "phone": _("A special VAT invoice needs the buyer's registered phone."),
        "bank": _("A special VAT invoice needs the buyer's bank."),
        "account": _("A special VAT invoice needs the buyer's bank account."),
    }[name]


def _store(row, details: InvoicingDetails) -> tuple[dict, dict]:
    """Write ``details`` into ``row``; returns the audit's (before, after) of what changed."""
    before = {AUDIT_NAMES[name]: getattr(row, name) or "" for name in (*FIELDS, "invoice_type")}
    for name, value in details.as_dict().items():
        setattr(row, name, value)
    after = {AUDIT_NAMES[name]: value for name, value in details.as_dict().items()}
    return audit.diff(before, after)


def set_customer_invoicing(customer: Customer, data: dict | None) -> InvoicingDetails:
    """Check and keep the customer's invoicing details (see :func:`check_invoicing`); audited.
    Orders entered before keep their own copy."""
    details = check_invoicing(data)
    row = customer.invoicing
    if row is None:
        if details.is_empty:
            return details
        row = CustomerInvoicing(invoice_type=NONE)
        customer.invoicing = row
    before, after = _store(row, details)
    if after and customer.id:
        audit.record("customer", customer.id, "invoicing_changed", before=before, after=after)
    return details


def copy_customer_invoicing(order: Order, customer: Customer) -> None:
    """Give ``order`` a copy of the customer's invoicing details (at entry, or when a draft moves
    to another customer). Later changes of the customer do not touch the copy."""
    source = customer.invoicing
    if source is None:
        if order.invoicing is not None:
            order.invoicing = None
        return
    row = order.invoicing or OrderInvoicing()
    for name, value in InvoicingDetails.of(source).as_dict().items():
        setattr(row, name, value)
    order.invoicing = row


def invoicing_locked_reasons(order: Order) -> list[str]:
    """Why the order's invoicing details can no longer change (empty when they can): a cancelled
    order, or what plugins answer to ``erp_order_invoicing_locked`` (an issued invoice)."""
    reasons = []
    if order.status == states.CANCELLED:
        reasons.append(_("Order %(number)s is cancelled.", number=order.number))
    for answer in hooks().erp_order_invoicing_locked(order=order):
        reasons.extend(str(reason) for reason in (answer or []) if reason)
    return reasons


def set_order_invoicing(order: Order, data: dict | None, expected_version: int | None = None) -> InvoicingDetails:
    """Change the invoicing details of ``order`` (not its customer's) while it is not invoiced.

    The order's version moves on (its row is locked for the rest of the transaction, so an
    invoice issued at the same moment waits); a page drawn from an older ``expected_version`` is
    refused (``Conflict``, code ``stale``), and a locked order raises ``Conflict`` (code
    ``invoicing_locked``) with the reasons. Audited."""
    _bump_version(order, expected_version)
    reasons = invoicing_locked_reasons(order)
    if reasons:
        raise Conflict(_("The invoicing details of order %(number)s can no longer change: %(reasons)s",
                         number=order.number, reasons=" ".join(reasons)), code="invoicing_locked")
    details = check_invoicing(data)
    row = order.invoicing
    if row is None:
        row = OrderInvoicing(invoice_type=NONE)
        order.invoicing = row
    before, after = _store(row, details)
    if after:
        audit.record("order", order.id, "invoicing_changed", before=before, after=after)
    return details
