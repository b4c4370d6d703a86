"""Hooks of the logistics plugin: shipment events, replacement shipments asked by others, carrier adapters.

Added by logistics's ``erp_addhooks``; how hooks are called: ``erp_core.hookspecs``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from erp_core import hookspec

if TYPE_CHECKING:
    from .adapters import CarrierAdapter
    from .models import Shipment
    from plugins.orders.models import Order


@hookspec
def erp_shipment_status_changed(shipment: Shipment, old_status: str | None, new_status: str) -> None:
    """A shipment changed status (pending, in_transit, delivered, exception, returned, lost).

    Called by logistics inside the transaction of the change.

    Returns: nothing.
    """


@hookspec
def erp_replacement_shipment_requested(order: Order, quantities: dict[int, int], reason: str, source_type: str, source_id: int) -> list[dict[str, Any]]:
    """Ask for a replacement shipment of ``{product_id: quantity}`` for ``order`` (an exchange, a re-ship).

    Fired by support (exchange) and logistics itself (re-ship). Logistics creates a pending
    shipment linked to ``(source_type, source_id)``.

    Returns: a list of dicts ``{"label": ..., "url": ..., "id": ...}`` for the shipments created.
    """


@hookspec
def erp_carrier_adapters() -> list[type[CarrierAdapter]]:
    """Carrier adapters (classes implementing ``plugins.logistics.adapters.CarrierAdapter``).

    Called by logistics when it lists the adapters a carrier can be configured with.

    Returns: a list of adapter classes.
    """
