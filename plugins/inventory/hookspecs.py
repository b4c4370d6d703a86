"""Hooks of the inventory plugin: low stock and the warehouses other plugins may offer.

Added by inventory's ``erp_addhooks``; how hooks are called: ``erp_core.hookspecs``.
"""

from __future__ import annotations

from erp_core import hookspec


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
