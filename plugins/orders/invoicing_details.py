"""Buyers' invoicing details (开票信息): what a fapiao names the buyer by.

A customer keeps one set (``orders_customer_invoicing``); an order keeps its own copy, taken when
the order is entered (``orders_order_invoicing``), so later edits of the customer do not rewrite
old orders. A record without a row reads as empty details asking for no invoice. The rules that
change them are in :mod:`plugins.orders.services.invoicing`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp_core.db import UTCDateTime
from erp_core.extensions import db
from erp_core.timeutil import utcnow

from .models import Customer, Order

NONE, ORDINARY, SPECIAL = "none", "ordinary", "special"
INVOICE_TYPES = (NONE, ORDINARY, SPECIAL)
INVOICE_TYPE_LABELS = {
    NONE: _l("No invoice"),
    ORDINARY: _l("Ordinary invoice (普通发票)"),
    SPECIAL: _l("Special VAT invoice (增值税专用发票)"),
}
# The details' fields, in the order forms and pages show them, with their stored lengths.
FIELDS = ("title", "taxpayer_id", "address", "phone", "bank", "account")
LIMITS = {"title": 200, "taxpayer_id": 18, "address": 300, "phone": 40, "bank": 200, "account": 40}
LABELS = {
    "title": _l("Invoice title"),
    "taxpayer_id": _l("Taxpayer ID"),
    "address": _l("Registered address"),
    "phone": _l("Registered phone"),
    "bank": _l("Bank"),
    "account": _l("Bank account"),
    "invoice_type": _l("Invoice wanted"),
}


class _Details:
    """The columns both tables share."""

    title: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    taxpayer_id: Mapped[str] = mapped_column(String(18), nullable=False, default="")
    address: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    phone: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    bank: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    account: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    invoice_type: Mapped[str] = mapped_column(String(10), nullable=False, default=NONE)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)


class CustomerInvoicing(_Details, db.Model):
    """A customer's invoicing details (at most one row per customer: ``customer.invoicing``)."""

    __tablename__ = "orders_customer_invoicing"
    __table_args__ = (CheckConstraint("invoice_type IN ('none', 'ordinary', 'special')", name="invoice_type_known"),)
    customer_id: Mapped[int] = mapped_column(ForeignKey("orders_customer.id", ondelete="CASCADE"), primary_key=True)
    customer: Mapped[Customer] = relationship(back_populates="invoicing")


class OrderInvoicing(_Details, db.Model):
    """An order's copy of its buyer's invoicing details (at most one row per order: ``order.invoicing``)."""

    __tablename__ = "orders_order_invoicing"
    __table_args__ = (CheckConstraint("invoice_type IN ('none', 'ordinary', 'special')", name="invoice_type_known"),)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id", ondelete="CASCADE"), primary_key=True)
    order: Mapped[Order] = relationship(back_populates="invoicing")


# ``customer.invoicing`` and ``order.invoicing`` (declared here, so that models.py stays as it is)
Customer.invoicing = relationship(CustomerInvoicing, uselist=False, back_populates="customer",
                                  cascade="all, delete-orphan", passive_deletes=True)
Order.invoicing = relationship(OrderInvoicing, uselist=False, back_populates="order",
                               cascade="all, delete-orphan", passive_deletes=True)


@dataclass(frozen=True)
class InvoicingDetails:
    """Invoicing details as other plugins read them: texts (``""`` when not given) and
    ``invoice_type`` one of ``none``, ``ordinary``, ``special``."""

    title: str = ""
    taxpayer_id: str = ""
    address: str = ""
    phone: str = ""
    bank: str = ""
    account: str = ""
    invoice_type: str = NONE

    @classmethod
    def of(cls, row: _Details | None) -> InvoicingDetails:
        """The details a row holds (empty details for ``None``)."""
        if row is None:
            return cls()
        return cls(**{name: getattr(row, name) or "" for name in (*FIELDS, "invoice_type")})

    @property
    def wants_invoice(self) -> bool:
        """True when the buyer asked for an invoice (ordinary or special)."""
        return self.invoice_type in (ORDINARY, SPECIAL)

    @property
    def is_empty(self) -> bool:
        """True when nothing is filled in and no invoice is wanted."""
        return self == InvoicingDetails()

    @property
    def type_label(self) -> str:
        """The invoice type in the reader's language."""
        return str(INVOICE_TYPE_LABELS.get(self.invoice_type, INVOICE_TYPE_LABELS[NONE]))

    def as_dict(self) -> dict[str, str]:
        """``{"title": ..., "taxpayer_id": ..., ..., "invoice_type": ...}`` (the API's ``invoicing`` object)."""
        return asdict(self)


def customer_invoicing_details(customer: Customer) -> InvoicingDetails:
    """The customer's invoicing details as they are now."""
    return InvoicingDetails.of(customer.invoicing)


def order_invoicing_details(order: Order) -> InvoicingDetails:
    """The buyer's invoicing details of ``order``: its own copy, taken from the customer when the
    order was entered and changed on the order since (not the customer's current details).
    Attributes ``title``, ``taxpayer_id``, ``address``, ``phone``, ``bank``, ``account`` and
    ``invoice_type`` (``none``, ``ordinary`` or ``special``); ``wants_invoice`` tells whether an
    invoice was asked for."""
    return InvoicingDetails.of(order.invoicing)


def audit_vocabulary() -> list:
    """How changes of invoicing details read in the histories of customers and orders (added to
    the orders plugin's own vocabulary of these records)."""
    from erp_core.contrib import AuditVocabulary, HistoryField

    fields = {"invoice_title": LABELS["title"], "taxpayer_id": LABELS["taxpayer_id"],
              "registered_address": LABELS["address"], "registered_phone": LABELS["phone"],
              "bank": LABELS["bank"], "bank_account": LABELS["account"],
              "invoice_type": HistoryField(LABELS["invoice_type"], "code", choices=INVOICE_TYPE_LABELS)}
    actions = {"invoicing_changed": _l("Invoicing details changed")}
    return [AuditVocabulary("customer", _l("Customer"), actions, fields),
            AuditVocabulary("order", _l("Order"), actions, fields)]


__all__ = ["FIELDS", "INVOICE_TYPES", "INVOICE_TYPE_LABELS", "LABELS", "LIMITS", "NONE", "ORDINARY", "SPECIAL",
           "CustomerInvoicing", "InvoicingDetails", "OrderInvoicing", "customer_invoicing_details",
           "order_invoicing_details"]
