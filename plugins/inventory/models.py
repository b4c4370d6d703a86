"""Warehouses, stock levels, the append-only stock ledger and what supports it (tables ``inventory_*``).

The ledger (:class:`Move`) is the truth: every change of stock is one row that is never updated
or deleted. :class:`Level` holds, per product and warehouse, the running totals (on hand,
reserved) and is updated in the same transaction as the moves it sums; ``erp inventory check``
proves the two agree.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp_core.db import UTCDateTime
from erp_core.extensions import db
from erp_core.timeutil import utcnow

# Move types. "write_off" records goods that came back but are not put back on hand.
RECEIPT = "receipt"
RESERVATION = "reservation"
RELEASE = "release"
SHIPMENT = "shipment"
RETURN = "return"
WRITE_OFF = "write_off"
ADJUSTMENT = "adjustment"
TRANSFER = "transfer"
MOVE_TYPES = (RECEIPT, RESERVATION, RELEASE, SHIPMENT, RETURN, WRITE_OFF, ADJUSTMENT, TRANSFER)


class Warehouse(db.Model):
    __tablename__ = "inventory_warehouse"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    address: Mapped[str] = mapped_column(Text, nullable=False, default="")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Level(db.Model):
    """On hand and reserved of one product in one warehouse (available = on hand - reserved)."""

    __tablename__ = "inventory_level"
    __table_args__ = (
        UniqueConstraint("product_id", "warehouse_id", name="uq_inventory_level_product_warehouse"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("on_hand >= reserved", name="reserved_within_on_hand"),
        Index("ix_inventory_level_warehouse", "warehouse_id", "product_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("orders_product.id"), nullable=False)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("inventory_warehouse.id"), nullable=False)
    on_hand: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    reserved: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # True while available is below the product's threshold and the alert has been raised;
    # cleared (re-armed) when available is back at or above the threshold.
    low_alerted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockRule(db.Model):
    """Low-stock threshold and reorder quantity of a product (applied in every warehouse)."""

    __tablename__ = "inventory_stock_rule"
    __table_args__ = (
        CheckConstraint("low_threshold >= 0", name="threshold_not_negative"),
        CheckConstraint("reorder_quantity >= 0", name="reorder_not_negative"),
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("orders_product.id"), primary_key=True)
    low_threshold: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    reorder_quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Document(db.Model):
    """A receipt of goods, a transfer or a stocktake: the header its moves point to."""

    __tablename__ = "inventory_document"
    __table_args__ = (Index("ix_inventory_document_kind", "kind", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # receipt, transfer, stocktake
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("inventory_warehouse.id"), nullable=False)
    to_warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("inventory_warehouse.id"))
    supplier: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # The one-time token of the form that created it: a double post is recognised and refused.
    form_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(120), nullable=False, default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    warehouse: Mapped[Warehouse] = relationship(foreign_keys=[warehouse_id], lazy="joined")
    to_warehouse: Mapped[Warehouse | None] = relationship(foreign_keys=[to_warehouse_id], lazy="joined")


class Move(db.Model):
    """One change of stock. Append-only: never updated, never deleted."""

    __tablename__ = "inventory_move"
    __table_args__ = (
        Index("ix_inventory_move_product_warehouse", "product_id", "warehouse_id", "id"),
        Index("ix_inventory_move_order", "order_id", "product_id"),
        Index("ix_inventory_move_document", "document_id"),
        Index("ix_inventory_move_reference", "reference"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("orders_product.id"), nullable=False)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("inventory_warehouse.id"), nullable=False)
    type: Mapped[str] = mapped_column(String(20), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    on_hand_delta: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    reserved_delta: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Running totals of the level right after this move (from the same UPDATE ... RETURNING).
    on_hand_after: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    reserved_after: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # What caused it: an order (reservation, release, shipment, return) and/or a document.
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders_order.id", ondelete="SET NULL"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("inventory_document.id"))
    reference: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(120), nullable=False, default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


@event.listens_for(Move, "before_update")
def _moves_are_append_only_update(*_args):
    raise RuntimeError("stock moves are append-only")


@event.listens_for(Move, "before_delete")
def _moves_are_append_only_delete(*_args):
    raise RuntimeError("stock moves are append-only")


class ExpectedReceipt(db.Model):
    """Goods staff expect from a supplier; receiving them makes the receipt move."""

    __tablename__ = "inventory_expected_receipt"
    __table_args__ = (
        Index("ix_inventory_expected_open", "status", "product_id", "warehouse_id"),
        Index("ix_inventory_expected_date", "status", "expected_date"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("orders_product.id"), nullable=False)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("inventory_warehouse.id"), nullable=False)
    supplier: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    expected_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="open")  # open, received, cancelled
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    received_quantity: Mapped[int | None] = mapped_column(Integer)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("inventory_document.id"))
    created_by: Mapped[str] = mapped_column(String(120), nullable=False, default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warehouse: Mapped[Warehouse] = relationship(lazy="joined")


class LowStockAlert(db.Model):
    """One crossing below a product's threshold in a warehouse (the notification list)."""

    __tablename__ = "inventory_low_stock_alert"
    __table_args__ = (
        Index("ix_inventory_alert_open", "resolved_at", "id"),
        Index("ix_inventory_alert_level", "product_id", "warehouse_id", "resolved_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("orders_product.id"), nullable=False)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("inventory_warehouse.id"), nullable=False)
    available: Mapped[int] = mapped_column(Integer, nullable=False)
    threshold: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
