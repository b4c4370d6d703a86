"""Payments and refunds of orders (tables ``finance_*``).

An order's payment state and balance are never stored: they are derived from these rows
(:func:`plugins.finance.services.order_summary`). ``Payment.refunded_minor`` is the only running
counter: the amount of the payment already promised to refunds (requested or refunded), bumped
by one conditional UPDATE so that concurrent refunds can never exceed the payment.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
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
