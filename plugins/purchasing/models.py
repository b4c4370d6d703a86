"""Suppliers, what they sell, purchase orders and reorder rules (tables ``purchasing_*``).

Money is in integer minor units of the supplier's (the order's) currency; times are UTC.
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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp_core.db import UTCDateTime
from erp_core.extensions import db
from erp_core.timeutil import utcnow


class Supplier(db.Model):
    """A company goods are bought from."""

    __tablename__ = "purchasing_supplier"
    __table_args__ = (Index("ix_purchasing_supplier_name_key", "name_key"),
                      Index("ix_purchasing_supplier_active", "active", "name_key"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    name_key: Mapped[str] = mapped_column(String(200), nullable=False)
    contact_name: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    phone: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    email: Mapped[str] = mapped_column(String(254), nullable=False, default="")
    address: Mapped[str] = mapped_column(Text, nullable=False, default="")
    tax_id: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    payment_terms: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)


class SupplierProduct(db.Model):
    """The terms on which a supplier sells a product (one row per supplier and product)."""

    __tablename__ = "purchasing_supplier_product"
    __table_args__ = (
        UniqueConstraint("supplier_id", "product_id", name="uq_purchasing_supplier_product"),
        Index("ix_purchasing_supplier_product_product", "product_id", "preferred"),
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("min_quantity >= 1", name="moq_positive"),
        CheckConstraint("pack_size >= 1", name="pack_positive"),
        CheckConstraint("lead_time_days >= 0", name="lead_time_not_negative"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("purchasing_supplier.id"), nullable=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("orders_product.id"), nullable=False)
    supplier_sku: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    price_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    min_quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    pack_size: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    lead_time_days: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    preferred: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    supplier: Mapped[Supplier] = relationship(lazy="joined")


class PurchaseOrder(db.Model):
    """An order to a supplier, received into one warehouse. Status: see :mod:`..states`."""

    __tablename__ = "purchasing_order"
    __table_args__ = (Index("ix_purchasing_order_status", "status", "id"),
                      Index("ix_purchasing_order_supplier", "supplier_id", "id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("purchasing_supplier.id"), nullable=False)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("inventory_warehouse.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="draft")
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    close_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_by: Mapped[str] = mapped_column(String(120), nullable=False, default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    supplier: Mapped[Supplier] = relationship(lazy="joined")
    lines: Mapped[list[PurchaseOrderLine]] = relationship(back_populates="order", order_by="PurchaseOrderLine.id",
                                                          cascade="all, delete-orphan")

    @property
    def total_minor(self) -> int:
        """What the order costs, tax included (the lines' gross)."""
        return sum(line.total_minor for line in self.lines)

    @property
    def tax_minor(self) -> int:
        """The tax in the order (the lines' tax, summed)."""
        return sum(line.tax_minor for line in self.lines)


class PurchaseOrderLine(db.Model):
    """A product ordered; ``received`` grows with each receipt (conditional UPDATE).

    Unit prices are the supplier's, tax included (含税价). The line keeps the product's VAT rate
    when it was entered (a snapshot) and its amounts, computed once by the orders plugin's
    ``line_amounts``: ``net_minor`` + ``tax_minor`` = ``gross_minor`` (= quantity x unit price).
    """

    __tablename__ = "purchasing_order_line"
    __table_args__ = (
        Index("ix_purchasing_order_line_order", "order_id"),
        Index("ix_purchasing_order_line_product", "product_id", "order_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("received >= 0", name="received_not_negative"),
        CheckConstraint("unit_price_minor >= 0", name="price_not_negative"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("purchasing_order.id"), nullable=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("orders_product.id"), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    received: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    expected_date: Mapped[date | None] = mapped_column(Date)
    tax_rate_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False, default=Decimal("0"))
    tax_exempt: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    net_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    tax_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    gross_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    order: Mapped[PurchaseOrder] = relationship(back_populates="lines")

    @property
    def total_minor(self) -> int:
        """The line's amount, tax included."""
        return self.gross_minor

    @property
    def outstanding(self) -> int:
        return max(0, self.quantity - self.received)


class ReorderRule(db.Model):
    """Reorder point and target level of a product in a warehouse (replenishment)."""

    __tablename__ = "purchasing_reorder_rule"
    __table_args__ = (CheckConstraint("reorder_point >= 0", name="point_not_negative"),
                      CheckConstraint("target_level >= reorder_point", name="target_at_least_point"))
    product_id: Mapped[int] = mapped_column(ForeignKey("orders_product.id"), primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("inventory_warehouse.id"), primary_key=True)
    reorder_point: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    target_level: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class SupplierBill(db.Model):
    """The supplier's invoice for a purchase order: what is owed and by when. ``paid_minor``
    grows with each payment (conditional UPDATE, never above ``amount_minor``); ``status`` is
    open, partly_paid or paid (see :mod:`..services.bills`)."""

    __tablename__ = "purchasing_bill"
    __table_args__ = (
        UniqueConstraint("supplier_id", "number", name="uq_purchasing_bill_supplier_number"),
        Index("ix_purchasing_bill_order", "order_id"),
        Index("ix_purchasing_bill_due", "status", "due_date"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("paid_minor >= 0 AND paid_minor <= amount_minor", name="paid_in_range"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("purchasing_order.id"), nullable=False)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("purchasing_supplier.id"), nullable=False)
    number: Mapped[str] = mapped_column(String(64), nullable=False)
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    paid_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    bill_date: Mapped[date] = mapped_column(Date, nullable=False)
    due_date: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="open")
    created_by: Mapped[str] = mapped_column(String(120), nullable=False, default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    supplier: Mapped[Supplier] = relationship(lazy="joined")

    @property
    def owed_minor(self) -> int:
        """What is still to pay."""
        return self.amount_minor - self.paid_minor


class BillPayment(db.Model):
    """A payment to the supplier against a bill."""

    __tablename__ = "purchasing_bill_payment"
    __table_args__ = (Index("ix_purchasing_bill_payment_bill", "bill_id", "id"),
                      CheckConstraint("amount_minor > 0", name="amount_positive"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("purchasing_bill.id"), nullable=False)
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    paid_on: Mapped[date] = mapped_column(Date, nullable=False)
    method: Mapped[str] = mapped_column(String(20), nullable=False)
    reference: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    created_by: Mapped[str] = mapped_column(String(120), nullable=False, default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
