"""Hooks of the inventory plugin: low stock and the warehouses other plugins may offer.

Added by inventory's ``erp_addhooks``; how hooks are called: ``erp_core.hookspecs``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from erp_core import hookspec

if TYPE_CHECKING:
    from .services import IncomingStock


@hookspec
def erp_stock_low(product_id: int, warehouse_id: int, available: int, threshold: int) -> None:
    """Available stock of a product in a warehouse fell below its threshold.

    Called once per crossing (not on every move) inside the transaction of the move that crossed.

    Returns: nothing.

    Example::

        @hookimpl
        def erp_stock_low(product_id, warehouse_id, available, threshold):
            jobs.enqueue(notify_buyer, product_id, warehouse_id)
    """


@hookspec(firstresult=True)
def erp_warehouse_choices() -> list[tuple[int, str]]:
    """Warehouses an order can ship from, for filters and forms of plugins that do not own them.

    Called when a page or report offers a warehouse filter. Inventory answers.

    Returns: a list of ``(id, name)`` tuples.

    Example::

        @hookimpl
        def erp_warehouse_choices():
            return [(w.id, w.name) for w in db.session.scalars(select(Warehouse).order_by(Warehouse.name))]
    """


@hookspec
def erp_inventory_incoming(product_ids: list[int], warehouse_id: int | None) -> list[IncomingStock]:
    """Goods on order for these products (in one warehouse, or all when ``warehouse_id`` is None):
    what another plugin (purchasing) has ordered from suppliers and not received yet.

    Called by inventory's stock pages once per page with every product of the page (answer with
    one grouped query), and by :func:`plugins.inventory.services.available_to_promise`. When no
    enabled plugin implements it the pages show no "On order" at all.

    Returns: a list of :class:`plugins.inventory.services.IncomingStock`, one per product,
    warehouse and source document (a purchase order), with the quantity still to come, the
    earliest expected date (or None) and a link to the document.

    Example::

        @hookimpl
        def erp_inventory_incoming(product_ids, warehouse_id):
            return [IncomingStock(pid, wid, qty, when, "PO-2026-000001", url_for(...))
                    for pid, wid, qty, when in open_lines(product_ids, warehouse_id)]
    """
