"""Payments and refunds of orders (tables ``finance_*``).

An order's payment state and balance are never stored: they are derived from these rows
(:func:`plugins.finance.services.order_summary`). ``Payment.refunded_minor`` is the only running
counter: the amount of the payment already promised to refunds (requested or refunded), bumped
by one conditional UPDATE so that concurrent refunds can never exceed the payment.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp_core.db import UTCDateTime
from erp_core.extensions import db
from erp_core.timeutil import utcnow
from plugins.orders.public import Order


class Payment(db.Model):
    __tablename__ = "finance_payment"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("refunded_minor >= 0 AND refunded_minor <= amount_minor", name="refunds_within_amount"),
        CheckConstraint("credit_minor >= 0 AND credit_minor <= amount_minor", name="credit_within_amount"),
        # A provider's transaction is recorded once, however often its callback arrives.
        UniqueConstraint("method", "provider_ref", name="uq_finance_payment_provider_ref"),
        # Reports read payments by paid time from this index alone (it covers every column they use).
        Index("ix_finance_payment_status_paid", "status", "paid_at", "method", "currency", "amount_minor", "order_id"),
        # An order's sums (balances, receivables) from the index alone.
        Index("ix_finance_payment_order", "order_id", "status", "paid_at", "amount_minor"),
        Index("ix_finance_payment_created", "created_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id"), nullable=False)
    method: Mapped[str] = mapped_column(String(40), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    # The part of the amount beyond what the order still owed, kept explicitly as customer credit.
    credit_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reference: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    provider_ref: Mapped[str | None] = mapped_column(String(120))
    # The text of the QR code the customer scans to pay a pending online payment (WeChat Pay's code_url).
    qr_text: Mapped[str | None] = mapped_column(String(500))
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Set when a provider's "paid" arrived after the payment was marked failed: the money was
    # taken, so it is recorded, and finance checks it (finance.payments.review clears the flag).
    needs_review: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    created_by_name: Mapped[str] = mapped_column(String(120), nullable=False, default="system")
    refunds: Mapped[list[Refund]] = relationship(back_populates="payment", order_by="Refund.id")
    order: Mapped[Order] = relationship(Order)

    @property
    def merchant_ref(self) -> str:
        """The reference this site gives a payment provider (not a secret)."""
        return f"PAY-{self.id:06d}"

    @property
    def refundable_minor(self) -> int:
        return self.amount_minor - self.refunded_minor if self.status == "paid" else 0


class Refund(db.Model):
    __tablename__ = "finance_refund"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        Index("ix_finance_refund_status_refunded", "status", "refunded_at", "method", "currency", "source_type",
              "amount_minor", "order_id"),
        Index("ix_finance_refund_order", "order_id", "status"),
        Index("ix_finance_refund_payment", "payment_id"),
        Index("ix_finance_refund_source", "source_type", "source_id"),
        Index("ix_finance_refund_requested", "status", "requested_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("finance_payment.id"), nullable=False)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id"), nullable=False)
    method: Mapped[str] = mapped_column(String(40), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    # What caused it: "manual" (entered by finance), "return" (support), "shipment" (logistics)...
    source_type: Mapped[str] = mapped_column(String(40), nullable=False, default="manual")
    source_id: Mapped[str | None] = mapped_column(String(60))
    reference: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    provider_ref: Mapped[str | None] = mapped_column(String(120))
    decision_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_by_name: Mapped[str] = mapped_column(String(120), nullable=False, default="system")
    decided_by_name: Mapped[str | None] = mapped_column(String(120))
    payment: Mapped[Payment] = relationship(back_populates="refunds")
    order: Mapped[Order] = relationship(Order)


class Invoice(db.Model):
    """An invoice or a credit note (``kind``), immutable once issued.

    Its lines, seller and buyer are snapshots taken when it was issued. ``credited_minor`` (on an
    invoice) is the part of its gross already corrected by credit notes, bumped by one conditional
    UPDATE so that credit notes never exceed the invoice. The fapiao columns are the only ones
    written later: the tax authority's fapiao recorded against it by staff (or an adapter).
    """

    __tablename__ = "finance_invoice"
    __table_args__ = (
        CheckConstraint("kind IN ('invoice', 'credit_note')", name="kind_known"),
        CheckConstraint("gross_minor >= 0", name="gross_not_negative"),
        CheckConstraint("credited_minor >= 0 AND credited_minor <= gross_minor", name="credit_within_gross"),
        Index("ix_finance_invoice_issued", "kind", "issued_at"),
        Index("ix_finance_invoice_order", "order_id", "kind"),
        Index("ix_finance_invoice_fapiao", "kind", "invoice_type", "fapiao_number"),
        Index("ix_finance_invoice_buyer", "buyer_name"),
        Index("ix_finance_invoice_refund", "refund_id"),
        Index("ix_finance_invoice_parent", "invoice_id"),
        UniqueConstraint("shipment_id", name="uq_finance_invoice_shipment"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id"), nullable=False)
    # A credit note: the invoice it corrects and the refund it comes from.
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("finance_invoice.id"))
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("finance_refund.id"))
    # An invoice of one shipment (logistics'; no foreign key: finance works with logistics off):
    # its id (unique: a shipment is invoiced once) and number as issued. NULL: the whole order.
    shipment_id: Mapped[int | None] = mapped_column(Integer)
    shipment_number: Mapped[str | None] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    net_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    tax_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    gross_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    credited_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    seller: Mapped[dict] = mapped_column(JSON, nullable=False)
    buyer: Mapped[dict] = mapped_column(JSON, nullable=False)
    buyer_name: Mapped[str] = mapped_column(String(200), nullable=False)
    # none | ordinary | special: the fapiao the buyer asked for.
    invoice_type: Mapped[str] = mapped_column(String(16), nullable=False, default="none")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    issued_by_name: Mapped[str] = mapped_column(String(120), nullable=False, default="system")
    fapiao_code: Mapped[str | None] = mapped_column(String(20))
    fapiao_number: Mapped[str | None] = mapped_column(String(20))
    fapiao_date: Mapped[date | None] = mapped_column(Date)
    fapiao_adapter: Mapped[str | None] = mapped_column(String(40))
    fapiao_recorded_by_name: Mapped[str | None] = mapped_column(String(120))
    lines: Mapped[list[InvoiceLine]] = relationship(back_populates="invoice", order_by="InvoiceLine.position",
                                                   cascade="all, delete-orphan")
    order: Mapped[Order] = relationship(Order)
    invoice: Mapped[Invoice | None] = relationship(remote_side=[id])

    @property
    def is_credit_note(self) -> bool:
        return self.kind == "credit_note"

    @property
    def creditable_minor(self) -> int:
        """What credit notes may still correct of this invoice (0 for a credit note)."""
        return 0 if self.is_credit_note else self.gross_minor - self.credited_minor


class InvoiceLine(db.Model):
    """One line of an invoice or credit note, copied when it was issued (amounts in minor units)."""

    __tablename__ = "finance_invoice_line"
    __table_args__ = (Index("ix_finance_invoice_line_invoice", "invoice_id", "position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("finance_invoice.id", ondelete="CASCADE"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    # The order line it invoices (a shipment's invoice: its pro-rata share; NULL on credit notes).
    order_line_id: Mapped[int | None] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    tax_rate_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    tax_exempt: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    net_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    tax_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    gross_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    invoice: Mapped[Invoice] = relationship(back_populates="lines")
