"""Customers, the product catalogue and sales orders (tables ``orders_*``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp_core.db import UTCDateTime
from erp_core.extensions import db
from erp_core.i18n import country_name
from erp_core.timeutil import utcnow


class Customer(db.Model):
    __tablename__ = "orders_customer"
    __table_args__ = (
        Index("ix_orders_customer_name_lower", "name_key"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    name_key: Mapped[str] = mapped_column(String(200), nullable=False)  # lower-cased name for search
    phone: Mapped[str | None] = mapped_column(String(40))
    phone_key: Mapped[str | None] = mapped_column(String(40), index=True)  # digits only, for matching
    email: Mapped[str | None] = mapped_column(String(200), index=True)  # stored lower-cased
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
    addresses: Mapped[list[Address]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="Address.id")

    @property
    def default_address(self) -> Address | None:
        for address in self.addresses:
            if address.is_default:
                return address
        return self.addresses[0] if self.addresses else None


class Address(db.Model):
    __tablename__ = "orders_address"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("orders_customer.id", ondelete="CASCADE"),
                                             nullable=False, index=True)
    label: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    recipient: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    phone: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    line1: Mapped[str] = mapped_column(String(300), nullable=False)
    line2: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    city: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    region: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    postcode: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    country: Mapped[str] = mapped_column(String(2), nullable=False, default="CN")
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    customer: Mapped[Customer] = relationship(back_populates="addresses")

    def one_line(self, country_names: bool = True) -> str:
        """The address on one line; the country by name in the reader's language, or as its code
        (for what is stored, such as the audit log)."""
        country = country_name(self.country) if country_names else self.country
        parts = [self.line1, self.line2, self.city, self.region, self.postcode, country]
        return ", ".join(p for p in parts if p)


class Product(db.Model):
    __tablename__ = "orders_product"
    __table_args__ = (
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        Index("ix_orders_product_name_key", "name_key"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    name_key: Mapped[str] = mapped_column(String(200), nullable=False)
    spec: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    unit: Mapped[str] = mapped_column(String(20), nullable=False, default="pcs")
    price_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)


class Order(db.Model):
    """A sales order. Totals are stored (computed by services from the lines, never typed)."""

    __tablename__ = "orders_order"
    __table_args__ = (
        Index("ix_orders_order_status_created", "status", "created_at"),
        Index("ix_orders_order_created", "created_at"),
        Index("ix_orders_order_contact_phone_key", "contact_phone_key"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    status: Mapped[str] = mapped_column(String(24), nullable=False, default="draft")
    customer_id: Mapped[int] = mapped_column(ForeignKey("orders_customer.id"), nullable=False, index=True)
    contact_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    contact_phone: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    contact_phone_key: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    contact_email: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    ship_recipient: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    ship_line1: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    ship_line2: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    ship_city: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    ship_region: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    ship_postcode: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    ship_country: Mapped[str] = mapped_column(String(2), nullable=False, default="CN")
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    subtotal_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)  # before discounts
    discount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Where the order ships from. Owned by the inventory plugin when it is on; no foreign key so
    # that orders never depends on inventory's tables.
    warehouse_id: Mapped[int | None] = mapped_column(Integer, index=True)
    promised_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    # Optimistic lock: a form carries the version it was drawn from; a stale post is refused.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # A random key the entry form carries, so that a double-posted form creates one order only.
    entry_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # "unnested": under an outer join (a ticket's optional order) the customer is outer-joined too,
    # not nested as "LEFT JOIN (orders JOIN customers)", which SQLite can only materialise whole.
    customer: Mapped[Customer] = relationship(lazy="joined", innerjoin="unnested")
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.position")

    @property
    def ship_place(self) -> str:
        """Postcode, city and region on one line (the region left out when it is the city)."""
        parts = [self.ship_postcode, self.ship_city]
        if self.ship_region and self.ship_region != self.ship_city:
            parts.append(self.ship_region)
        return " ".join(p for p in parts if p)

    @property
    def ship_address_text(self) -> str:
        parts = [self.ship_line1, self.ship_line2, self.ship_city, self.ship_region, self.ship_postcode,
                 country_name(self.ship_country)]
        return ", ".join(p for p in parts if p)


class OrderLine(db.Model):
    __tablename__ = "orders_order_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price_minor >= 0", name="price_not_negative"),
        CheckConstraint("discount_percent >= 0 AND discount_percent <= 100", name="discount_range"),
        Index("ix_orders_order_line_product", "product_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id", ondelete="CASCADE"), nullable=False,
                                          index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("orders_product.id"), nullable=False)
    # Snapshot of the catalogue at entry, so later catalogue edits do not rewrite old orders.
    sku: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    spec: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    unit: Mapped[str] = mapped_column(String(20), nullable=False, default="pcs")
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False, default=Decimal("0"))
    line_total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    order: Mapped[Order] = relationship(back_populates="lines")
