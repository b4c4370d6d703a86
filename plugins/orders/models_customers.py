"""What real businesses keep about a customer beyond name and addresses: contact people, free
tags, and each order's billing address (a copy taken at entry, like the shipping address).

The customer's owner (salesperson), credit limit and payment terms are columns of
:class:`~plugins.orders.models.Customer`; the rules are in :mod:`plugins.orders.services.customers`.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp_core.extensions import db
from erp_core.i18n import country_name

from .models import Customer, Order

BOTH, SHIPPING, BILLING = "both", "shipping", "billing"
ADDRESS_KINDS = (BOTH, SHIPPING, BILLING)
ADDRESS_KIND_LABELS = {
    BOTH: _l("Billing and shipping"),
    SHIPPING: _l("Shipping only"),
    BILLING: _l("Billing only"),
}

# Payment terms: a named term, or "net" with a number of days.
PAYMENT_TERMS = ("", "prepaid", "cod", "net", "month_end")
PAYMENT_TERM_LABELS = {
    "": _l("Not set"),
    "prepaid": _l("Payment in advance"),
    "cod": _l("Cash on delivery"),
    "net": _l("Net days"),
    "month_end": _l("Monthly settlement"),
}


class CustomerContact(db.Model):
    """A contact person of a customer (buyer, accountant, warehouse...); an order entry may
    pick one, whose name, phone and e-mail the order copies."""

    __tablename__ = "orders_customer_contact"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("orders_customer.id", ondelete="CASCADE"),
                                             nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    phone: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    email: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    customer: Mapped[Customer] = relationship(
        backref=db.backref("contacts", cascade="all, delete-orphan", order_by="CustomerContact.id",
                           lazy="select"))


class CustomerTag(db.Model):
    """A free label on a customer ("VIP", "wholesale"); ``key`` is the lower-cased label the
    customer list filters by."""

    __tablename__ = "orders_customer_tag"
    __table_args__ = (Index("ix_orders_customer_tag_key", "key"),)
    customer_id: Mapped[int] = mapped_column(ForeignKey("orders_customer.id", ondelete="CASCADE"),
                                             primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(40), nullable=False)
    customer: Mapped[Customer] = relationship(
        backref=db.backref("tags", cascade="all, delete-orphan", order_by="CustomerTag.key", lazy="select"))


class OrderBilling(db.Model):
    """The billing address of an order, copied from the customer's billing address at entry (at
    most one row per order; none: billed to the shipping address)."""

    __tablename__ = "orders_order_billing"
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id", ondelete="CASCADE"), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    line1: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    line2: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    city: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    region: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    postcode: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    country: Mapped[str] = mapped_column(String(2), nullable=False, default="CN")
    order: Mapped[Order] = relationship(
        backref=db.backref("billing", uselist=False, cascade="all, delete-orphan", lazy="select"))

    def one_line(self) -> str:
        """The address on one line, the country by name in the reader's language."""
        parts = [self.line1, self.line2, self.city, self.region, self.postcode, country_name(self.country)]
        return ", ".join(p for p in parts if p)


def audit_vocabulary() -> list:
    """How changes of contacts, tags and sales terms read in a customer's history (added to the
    orders plugin's own vocabulary of customers)."""
    from erp_core.contrib import AuditVocabulary, HistoryField

    fields = {"contact": _l("Contact"), "role": _l("Job title"), "tags": _l("Tags"),
              "credit_limit": _l("Credit limit"), "payment_days": _l("Net days"), "owner": _l("Owner (salesperson)"),
              "payment_terms": HistoryField(_l("Payment terms"), "code", choices=PAYMENT_TERM_LABELS)}
    actions = {"contact_added": _l("Contact added"), "contact_changed": _l("Contact changed"),
               "contact_removed": _l("Contact removed"), "tags_changed": _l("Tags changed"),
               "terms_changed": _l("Sales terms changed"), "owner_changed": _l("Owner changed")}
    return [AuditVocabulary("customer", _l("Customer"), actions, fields)]
