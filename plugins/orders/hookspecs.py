"""Hooks of the orders plugin: the events of an order's life and the order page's contributions.

Added by orders's ``erp_addhooks``; how hooks are called: ``erp_core.hookspecs``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from erp_core import hookspec

if TYPE_CHECKING:
    from .models import Order
    from erp_core.auth.models import User
    from erp_core.contrib import Panel


@hookspec
def erp_order_created(order: Order) -> None:
    """An order was created (status draft). Called inside the creating transaction.

    Returns: nothing. Raise a DomainError to refuse the creation.
    """


@hookspec
def erp_order_changed(order: Order, changes: dict[str, Any]) -> None:
    """Lines, quantities, address or contact of an order changed.

    Called inside the editing transaction after the change is flushed. ``changes`` is a dict:
    ``{"fields": {name: (before, after)}, "lines": {"added": [...], "removed": [...],
    "changed": [...]}, "quantity_delta": {product_id: delta}}`` where ``quantity_delta`` tells
    how the quantity ordered per product moved (positive: more is needed). A plugin holding a
    reservation adjusts it here; raising a DomainError (e.g. not enough stock) undoes the edit.

    Returns: nothing.
    """


@hookspec
def erp_order_validate_transition(order: Order, old_status: str, new_status: str) -> list[str] | None:
    """May ``order`` move from ``old_status`` to ``new_status``?

    Called before a status change, inside its transaction.

    Returns: a list of problems (user-facing strings); empty or ``None`` means "no objection".
    """


@hookspec
def erp_order_status_changed(order: Order, old_status: str, new_status: str, note: str | None) -> None:
    """An order changed status (after validation passed). Called inside the same transaction,
    after the new status is flushed. Inventory reserves on confirm, releases on cancel and
    consumes on "mark shipped" here; raising a DomainError rolls the transition back.

    Returns: nothing.
    """


@hookspec
def erp_order_actions(order: Order, user: User) -> list[dict[str, Any]]:
    """Extra buttons on the order page offered by other plugins (e.g. "Create shipment").

    Called when the order page is drawn.

    Returns: a list of dicts ``{"label": ..., "url": ..., "icon": ..., "style": "primary"}``.
    """


@hookspec
def erp_order_panels(order: Order, user: User) -> list[Panel]:
    """Blocks of the order page contributed by other plugins (stock, shipments, payments, support).

    Called when the order page is drawn, with the order object and the current user.

    Returns: a list of :class:`erp_core.contrib.Panel`.
    """


@hookspec(firstresult=True)
def erp_order_manual_shipping(order: Order) -> bool | None:
    """Should the order page offer the built-in "mark shipped" action?

    The orders plugin offers it unless some enabled plugin (logistics) answers ``False``
    because it ships orders through shipments instead.

    Returns: ``False`` to hide the action, or ``None``.
    """


@hookspec
def erp_order_goods_shipped(order: Order, quantities: dict[int, int], reference: str) -> None:
    """Goods of ``order`` left the warehouse: ``quantities`` is ``{product_id: quantity}``.

    Fired inside the shipping transaction by orders' manual "mark shipped" (all that remains) and
    by logistics for each shipment. Inventory consumes the reservation (on hand and reserved both
    go down) and writes "shipment" moves with ``reference`` (e.g. ``"SO-2026-000001"`` or
    ``"SH-2026-000007"``). Raising a DomainError undoes the shipping.

    Returns: nothing.
    """


@hookspec
def erp_order_goods_returned(order: Order, quantities: dict[int, int], restock: bool, reference: str) -> list[dict[str, Any]]:
    """Goods of ``order`` came back: ``quantities`` is ``{product_id: quantity}``.

    Fired inside the transaction by logistics (returned to sender, lost/damaged resolutions) and
    support (return received). With ``restock`` true inventory puts them back on hand ("return"
    moves); otherwise it records them as written off. ``reference`` names the cause.

    Returns: a list of dicts ``{"label": ..., "url": ...}`` linking the stock moves made, so the
    caller's timeline can link them.
    """
