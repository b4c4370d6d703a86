"""Quotations to customers and their lines (tables ``quotations_*``).

Money is in integer minor units of the quotation's currency; times are UTC. A quotation's lines
keep the amounts computed once by the orders plugin's ``line_amounts`` (the one tax rule).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp_core.db import UTCDateTime
from erp_core.extensions import db
from erp_core.timeutil import utcnow


class Quotation(db.Model):
    """An offer to a customer, valid until ``valid_until``. Status: see :mod:`..states`.

    ``nonce`` is the random part of the customer's link (the link itself is an HMAC of it and is
    never stored); ``order_id`` is the order an accepted quotation became."""

    __tablename__ = "quotations_quotation"
    __table_args__ = (Index("ix_quotations_quotation_status", "status", "id"),
                      Index("ix_quotations_quotation_customer", "customer_id", "id"),
                      Index("ix_quotations_quotation_valid", "status", "valid_until"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("orders_customer.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="draft")
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    contact_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    contact_phone: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    contact_email: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    ship_recipient: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    ship_line1: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    ship_line2: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    ship_city: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    ship_region: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    ship_postcode: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    ship_country: Mapped[str] = mapped_column(String(2), nullable=False, default="CN")
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    valid_until: Mapped[date] = mapped_column(Date, nullable=False)
    total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    tax_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    nonce: Mapped[str | None] = mapped_column(String(64), info={"private": True})
    decline_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders_order.id"))
    created_by: Mapped[str] = mapped_column(String(120), nullable=False, default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lines: Mapped[list[QuotationLine]] = relationship(back_populates="quotation", order_by="QuotationLine.position",
                                                      cascade="all, delete-orphan")


class QuotationLine(db.Model):
    """A product offered: quantity, unit price (as the orders plugin prices: tax included or not
    per the site's setting), discount percent, the rate's snapshot and the line's amounts."""

    __tablename__ = "quotations_line"
    __table_args__ = (Index("ix_quotations_line_quotation", "quotation_id", "position"),
                      CheckConstraint("quantity > 0", name="quantity_positive"),
                      CheckConstraint("unit_price_minor >= 0", name="price_not_negative"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quotation_id: Mapped[int] = mapped_column(ForeignKey("quotations_quotation.id"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("orders_product.id"), nullable=False)
    sku: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False, default=Decimal("0"))
    tax_rate_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False, default=Decimal("0"))
    tax_exempt: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    net_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    tax_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    gross_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    quotation: Mapped[Quotation] = relationship(back_populates="lines")
