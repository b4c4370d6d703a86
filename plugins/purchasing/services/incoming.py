"""Purchasing's answer to inventory's ``erp_inventory_incoming``: goods on order, per product,
warehouse and purchase order, from the open lines of sent and partially received orders.

Drafts are left out: they have not been sent to the supplier, so nothing is on its way yet
(the product list's "On order" column, :func:`.purchase_orders.on_order_by_product`, counts them;
stock pages and available to promise do not).
"""

from __future__ import annotations

from flask import has_request_context, url_for
from sqlalchemy import func, select

from erp_core.extensions import db
from erp_core.security import has_permission
from plugins.inventory.services import IncomingStock

from .. import states
from ..models import PurchaseOrder, PurchaseOrderLine


def incoming_stock(product_ids, warehouse_id: int | None = None) -> list[IncomingStock]:
    """Ordered less received of the given products on sent and partially received purchase
    orders, one row per (product, warehouse, purchase order) with the earliest expected date of
    its lines, earliest first; one grouped query whatever the number of products. The link to
    the purchase order is given only to readers holding ``purchasing.view``."""
    ids = sorted({int(i) for i in product_ids})
    if not ids:
        return []
    outstanding = func.sum(PurchaseOrderLine.quantity - PurchaseOrderLine.received)
    stmt = (select(PurchaseOrderLine.product_id, PurchaseOrder.warehouse_id, PurchaseOrder.id, PurchaseOrder.number,
                   outstanding, func.min(PurchaseOrderLine.expected_date))
            .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.order_id)
            .where(PurchaseOrderLine.product_id.in_(ids), PurchaseOrder.status.in_(states.RECEIVABLE),
                   PurchaseOrderLine.quantity > PurchaseOrderLine.received)
            .group_by(PurchaseOrderLine.product_id, PurchaseOrder.warehouse_id, PurchaseOrder.id, PurchaseOrder.number)
            .order_by(PurchaseOrder.id))
    if warehouse_id is not None:
        stmt = stmt.where(PurchaseOrder.warehouse_id == warehouse_id)
    linked = has_request_context() and has_permission("purchasing.view")
    return [IncomingStock(pid, wid, int(qty or 0), when, number,
                          url_for("purchasing.order", po_id=po_id) if linked else None)
            for pid, wid, po_id, number, qty, when in db.session.execute(stmt)]
