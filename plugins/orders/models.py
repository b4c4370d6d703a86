"""Customers, the product catalogue and sales orders (tables ``orders_*``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp_core.db import UTCDateTime
from erp_core.extensions import db
from erp_core.i18n import country_name
from erp_core.timeutil import utcnow


class Customer(db.Model):
    """A customer: name, contact and addresses. Create with ``services.create_customer``."""

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
    # Preferred language of messages to the customer ("zh_CN", "en"); None: the company's language.
    language: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Sales terms (see models_customers.py): the salesperson who owns the customer, the credit
    # limit in the company's currency (None: no limit) and the payment terms.
    # (users are deactivated, never deleted)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    credit_limit_minor: Mapped[int | None] = mapped_column(BigInteger)
    payment_terms: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    payment_days: Mapped[int | None] = mapped_column(Integer)
    # Pricing (see models_pricing): the customer's group and own price list (which wins).
    group_id: Mapped[int | None] = mapped_column(ForeignKey("orders_customer_group.id"), index=True)
    price_list_id: Mapped[int | None] = mapped_column(ForeignKey("orders_price_list.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
    addresses: Mapped[list[Address]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="Address.id")

    @property
    def default_address(self) -> Address | None:
        """The address marked default (or ``None``)."""
        for address in self.addresses:
            if address.is_default:
                return address
        return self.addresses[0] if self.addresses else None


class Address(db.Model):
    """One of a customer's saved shipping addresses."""

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
    # "both", "shipping" or "billing" (models_customers.ADDRESS_KINDS)
    kind: Mapped[str] = mapped_column(String(10), nullable=False, default="both")
    customer: Mapped[Customer] = relationship(back_populates="addresses")

    def one_line(self, country_names: bool = True) -> str:
        """The address on one line; the country by name in the reader's language, or as its code
        (for what is stored, such as the audit log)."""
        country = country_name(self.country) if country_names else self.country
        parts = [self.line1, self.line2, self.city, self.region, self.postcode, country]
        return ", ".join(p for p in parts if p)


class TaxRate(db.Model):
    """A VAT rate (增值税税率) an admin maintains: ``name`` (free text), ``percent`` and ``exempt``
    (免税: no tax, told apart from a 0 % rate). A rate in use is deactivated, never deleted.
    The seeded rows (13, 9, 6, 3, 1, 0 % and exempt) are listed in :mod:`plugins.orders.tax`."""

    __tablename__ = "orders_tax_rate"
    __table_args__ = (
        CheckConstraint("percent >= 0 AND percent < 1000", name="percent_range"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False, default=Decimal("0"))
    exempt: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Product(db.Model):
    """A product of the catalogue: ``sku`` (unique), ``name``, ``price_minor`` in ``currency``.
    Create with ``services.create_product``."""

    __tablename__ = "orders_product"
    __table_args__ = (
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        Index("ix_orders_product_name_key", "name_key"),
        Index("ix_orders_product_barcode", "barcode", unique=True),  # many NULLs, one product per code
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    # EAN-13, UPC-A or EAN-8 digits (check digit verified by plugins.orders.barcode); unique when set.
    barcode: Mapped[str | None] = mapped_column(String(14))
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    name_key: Mapped[str] = mapped_column(String(200), nullable=False)
    spec: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    unit: Mapped[str] = mapped_column(String(20), nullable=False, default="pcs")
    price_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    # The product's VAT rate; None: the company's default rate (setting ``orders.default_tax_rate``).
    tax_rate_id: Mapped[int | None] = mapped_column(ForeignKey("orders_tax_rate.id"), index=True)
    # Cost price in ``currency`` (for margin reports); None: not known.
    cost_minor: Mapped[int | None] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)


class Order(db.Model):
    """A sales order. Totals are stored (computed by services from the lines, never typed)."""

    __tablename__ = "orders_order"
    __table_args__ = (
        Index("ix_orders_order_status_created", "status", "created_at"),
        Index("ix_orders_order_created", "created_at"),
        Index("ix_orders_order_confirmed", "confirmed_at"),  # the finance reports pick sales by confirmation time
        Index("ix_orders_order_contact_phone_key", "contact_phone_key"),
        Index("ix_orders_order_channel_created", "channel", "created_at"),
        # An order of a channel is entered once: the marketplace's order number is unique in it.
        Index("uq_orders_order_channel_external_ref", "channel", "external_ref", unique=True,
              sqlite_where=text("external_ref IS NOT NULL"), postgresql_where=text("external_ref IS NOT NULL")),
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
    # The figures (see docs/ARCHITECTURE.md, "Tax"): subtotal_minor is price x quantity of every
    # line before discounts (as priced: tax-inclusive when prices include tax); discount_minor is
    # subtotal less the discounted line amounts; total_minor is the sum of the lines' gross_minor
    # (what the customer pays, tax included); tax_minor is the sum of the lines' tax_minor.
    subtotal_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)  # before discounts
    discount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    tax_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    # The order-level discount as typed (a percent or an amount, spread over the lines before tax).
    order_discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False, default=Decimal("0"))
    order_discount_amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    # Whether its unit prices include tax: the company setting when the order was entered, kept
    # so that changing a line later computes it the same way.
    prices_include_tax: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
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
    # Where the order came from (a code of plugins.orders.channels) and its number there.
    channel: Mapped[str] = mapped_column(String(24), nullable=False, default="shop", server_default="shop")
    external_ref: Mapped[str | None] = mapped_column(String(100))
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
        """The shipping address on one line, empty parts left out."""
        parts = [self.ship_line1, self.ship_line2, self.ship_city, self.ship_region, self.ship_postcode,
                 country_name(self.ship_country)]
        return ", ".join(p for p in parts if p)


class OrderLine(db.Model):
    """A line of an order: a product, a quantity, the unit price and discount at the time of
    ordering, the VAT rate then (a snapshot) and the amounts computed once by
    :func:`plugins.orders.tax.line_amounts`: ``net_minor`` + ``tax_minor`` = ``gross_minor``;
    ``line_total_minor`` equals ``gross_minor`` (what the customer pays for the line)."""

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
    # Of ``quantity``, what will never ship ("close the rest" of a partly shipped order); the
    # line's amounts are those of ``quantity - cancelled_quantity``.
    cancelled_quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    unit_price_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False, default=Decimal("0"))
    # A fixed discount of the line (after the percent), and its share of the order's discount.
    line_discount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    order_discount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    line_total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    tax_rate_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False, default=Decimal("0"))
    tax_exempt: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    net_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    tax_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    gross_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    order: Mapped[Order] = relationship(back_populates="lines")
