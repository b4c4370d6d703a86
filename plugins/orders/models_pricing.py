"""Price lists, customer groups and the discount limits of roles (tables ``orders_*``).

A customer's price comes from its own price list, else its group's, else the catalogue (see
:mod:`plugins.orders.services.pricing`). Customers point here through ``Customer.group_id`` and
``Customer.price_list_id``.
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


class PriceList(db.Model):
    """A price list in one ``currency``, used between ``valid_from`` and ``valid_to`` (both
    optional, company calendar, inclusive) while ``active``."""

    __tablename__ = "orders_price_list"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
    items: Mapped[list[PriceListItem]] = relationship(
        back_populates="price_list", cascade="all, delete-orphan",
        order_by="(PriceListItem.product_id, PriceListItem.min_quantity)")


class PriceListItem(db.Model):
    """The price of a product from ``min_quantity`` up (quantity breaks), in the list's currency."""

    __tablename__ = "orders_price_list_item"
    __table_args__ = (
        UniqueConstraint("price_list_id", "product_id", "min_quantity", name="uq_orders_price_list_item_break"),
        CheckConstraint("min_quantity >= 1", name="min_quantity_positive"),
        CheckConstraint("unit_price_minor >= 0", name="price_not_negative"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    price_list_id: Mapped[int] = mapped_column(ForeignKey("orders_price_list.id", ondelete="CASCADE"),
                                               nullable=False, index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("orders_product.id", ondelete="CASCADE"), nullable=False,
                                            index=True)
    min_quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    price_list: Mapped[PriceList] = relationship(back_populates="items")


class CustomerGroup(db.Model):
    """A group of customers (wholesale, retail...) with an optional price list."""

    __tablename__ = "orders_customer_group"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    price_list_id: Mapped[int | None] = mapped_column(ForeignKey("orders_price_list.id", ondelete="SET NULL"),
                                                      index=True)
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    price_list: Mapped[PriceList | None] = relationship()


class RoleDiscountLimit(db.Model):
    """The largest line discount (percent) the users of a role may give; a role without a row
    has no limit. A user's limit is the largest of its roles'."""

    __tablename__ = "orders_role_discount_limit"
    __table_args__ = (
        CheckConstraint("max_percent >= 0 AND max_percent <= 100", name="max_percent_range"),
    )
    role_id: Mapped[int] = mapped_column(ForeignKey("core_role.id", ondelete="CASCADE"), primary_key=True)
    max_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
