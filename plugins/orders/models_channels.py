"""Tags of orders (``orders_order_tag``): short words staff put on orders to find them again
("VIP", "gift", "recheck"). Channel and external reference are columns of the order itself."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from erp_core.extensions import db

MAX_TAG = 40


class OrderTag(db.Model):
    """One tag of one order (the pair is the key, so a tag is on an order once)."""

    __tablename__ = "orders_order_tag"
    __table_args__ = (Index("ix_orders_order_tag_tag", "tag"),)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(MAX_TAG), primary_key=True)
