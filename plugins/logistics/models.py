"""Carriers, shipments, tracking events and delivery exceptions (tables ``logistics_*``)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp_core.auth.models import User
from erp_core.db import UTCDateTime
from erp_core.extensions import db
from erp_core.timeutil import utcnow
from plugins.orders.public import Order

from . import states


class Carrier(db.Model):
    """A carrier the company ships with, run by one adapter (``manual``, ``demo_express``...).

    ``credentials`` holds what the adapter's ``credential_fields`` ask for; secret values are
    never shown back in full. The webhook secret is not stored: it is derived from the site's
    SECRET_KEY and ``webhook_nonce`` (rotating the nonce changes it).
    """

    __tablename__ = "logistics_carrier"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    adapter: Mapped[str] = mapped_column(String(60), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    credentials: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    webhook_nonce: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Shipment(db.Model):
    """Goods of one order on their way: SH-<year>-<000001>."""

    __tablename__ = "logistics_shipment"
    __table_args__ = (
        UniqueConstraint("carrier_id", "tracking_number", name="uq_logistics_shipment_tracking"),
        Index("ix_logistics_shipment_status_expected", "status", "expected_delivery"),
        Index("ix_logistics_shipment_status_synced", "status", "last_synced_at"),
        Index("ix_logistics_shipment_created", "created_at"),
        Index("ix_logistics_shipment_ship_date", "ship_date"),
        # The header search's prefix of a tracking number (a pattern index on PostgreSQL).
        Index("ix_logistics_shipment_tracking_number", "tracking_number",
              postgresql_ops={"tracking_number": "varchar_pattern_ops"}),
        CheckConstraint("packages IS NULL OR packages > 0", name="packages_positive"),
        CheckConstraint("weight_grams IS NULL OR weight_grams > 0", name="weight_positive"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default=states.KIND_ORDER)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=states.PENDING)
    outcome: Mapped[str | None] = mapped_column(String(16))
    carrier_id: Mapped[int | None] = mapped_column(ForeignKey("logistics_carrier.id"), index=True)
    carrier_name: Mapped[str] = mapped_column(String(120), nullable=False, default="")  # typed (manual)
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    # The carrier's registration of a CREATE adapter: "" (not needed), waiting, done, failed.
    registration: Mapped[str] = mapped_column(String(12), nullable=False, default="")
    registration_error: Mapped[str] = mapped_column(Text, nullable=False, default="")
    ship_date: Mapped[date | None] = mapped_column(Date)
    expected_delivery: Mapped[date | None] = mapped_column(Date)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    packages: Mapped[int | None] = mapped_column(Integer)
    weight_grams: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    label_data: Mapped[bytes | None] = mapped_column(LargeBinary)
    label_type: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    label_name: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("logistics_shipment.id"), index=True)
    source_type: Mapped[str | None] = mapped_column(String(40))
    source_id: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # The random key the form carried: a double-posted form creates one shipment.
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))

    order: Mapped[Order] = relationship(lazy="joined", innerjoin=True)
    carrier: Mapped[Carrier | None] = relationship(lazy="joined")
    lines: Mapped[list[ShipmentLine]] = relationship(
        back_populates="shipment", cascade="all, delete-orphan", order_by="ShipmentLine.id", lazy="selectin")

    @property
    def carrier_display(self) -> str:
        """The name of the company carrying it: the one typed (catch-all adapters), else the carrier's."""
        if self.carrier_name:
            return self.carrier_name
        return self.carrier.name if self.carrier else ""

    @property
    def quantities(self) -> dict[int, int]:
        """``{product_id: quantity}`` carried (several lines may hold one product)."""
        totals: dict[int, int] = {}
        for line in self.lines:
            totals[line.product_id] = totals.get(line.product_id, 0) + line.quantity
        return totals

    @property
    def counts_for_order(self) -> bool:
        """Does this shipment carry (part of) what the order asked for?"""
        return self.kind == states.KIND_ORDER and self.status != states.CANCELLED and \
            self.outcome not in states.RELEASED


class ShipmentLine(db.Model):
    __tablename__ = "logistics_shipment_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("logistics_shipment.id", ondelete="CASCADE"),
                                             nullable=False, index=True)
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("orders_order_line.id", ondelete="SET NULL"),
                                                      index=True)
    product_id: Mapped[int] = mapped_column(Integer, nullable=False)
    sku: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    shipment: Mapped[Shipment] = relationship(back_populates="lines")


class TrackingEvent(db.Model):
    """One step of a shipment's journey, from the carrier (pull or webhook) or typed by staff.

    ``external_id`` is unique per shipment, so the same event received twice is stored once.
    """

    __tablename__ = "logistics_tracking_event"
    __table_args__ = (
        UniqueConstraint("shipment_id", "external_id", name="uq_logistics_tracking_event_external"),
        Index("ix_logistics_tracking_event_shipment_time", "shipment_id", "occurred_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("logistics_shipment.id", ondelete="CASCADE"), nullable=False)
    external_id: Mapped[str] = mapped_column(String(120), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    status: Mapped[str] = mapped_column(String(24), nullable=False)
    exception_kind: Mapped[str | None] = mapped_column(String(24))
    description: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    location: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    source: Mapped[str] = mapped_column(String(12), nullable=False)  # carrier, webhook, staff
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))


class DeliveryException(db.Model):
    """A delivery problem (配送异常) of a shipment, with an owner, a due date and a resolution.

    ``open_key`` holds the shipment id while the exception is open (NULL once resolved), so a
    unique constraint allows one open exception per shipment on every database.
    """

    __tablename__ = "logistics_exception"
    __table_args__ = (
        Index("ix_logistics_exception_status_due", "status", "due_date"),
        Index("ix_logistics_exception_kind_status", "kind", "status"),
        Index("ix_logistics_exception_raised", "raised_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("logistics_shipment.id"), nullable=False, index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id"), nullable=False, index=True)
    open_key: Mapped[int | None] = mapped_column(Integer, unique=True)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default=states.OPEN)
    source: Mapped[str] = mapped_column(String(12), nullable=False, default=states.SOURCE_STAFF)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"), index=True)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    due_date: Mapped[date | None] = mapped_column(Date)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    raised_by: Mapped[str] = mapped_column(String(120), nullable=False, default="system")
    contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(String(24))
    resolution_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(120))
    # Links other plugins returned (stock moves, refund, ticket, replacement shipment).
    links: Mapped[list] = mapped_column(JSON, nullable=False, default=list)

    shipment: Mapped[Shipment] = relationship(lazy="joined", innerjoin=True)
    owner: Mapped[User | None] = relationship(lazy="joined")
