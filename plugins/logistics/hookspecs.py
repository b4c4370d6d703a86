"""Hooks of the logistics plugin: shipment events, replacement shipments asked by others, carrier adapters.

Added by logistics's ``erp_addhooks``; how hooks are called: ``erp_core.hookspecs``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from erp_core import hookspec

if TYPE_CHECKING:
    from erp_core.auth.models import User
    from erp_core.contrib import Panel
    from plugins.orders.public import Order

    from .adapters import CarrierAdapter
    from .models import Shipment


@hookspec
def erp_shipment_status_changed(shipment: Shipment, old_status: str | None, new_status: str) -> None:
    """A shipment changed status (pending, in_transit, delivered, exception, returned, lost).

    Called by logistics inside the transaction of the change.

    Returns: nothing.

    Example::

        @hookimpl
        def erp_shipment_status_changed(shipment, old_status, new_status):
            if new_status == "delivered":
                jobs.enqueue(send_delivery_mail, shipment.id)
    """


@hookspec
def erp_replacement_shipment_requested(order: Order, quantities: dict[int, int], reason: str, source_type: str, source_id: int) -> list[dict[str, Any]]:
    """Ask for a replacement shipment of ``{product_id: quantity}`` for ``order`` (an exchange, a re-
    ship).

    Fired by support (exchange) and logistics itself (re-ship). Logistics creates a pending
    shipment linked to ``(source_type, source_id)``.

    Returns: a list of dicts ``{"label": ..., "url": ..., "id": ...}`` for the shipments created.

    Example::

        @hookimpl
        def erp_replacement_shipment_requested(order, quantities, reason, source_type, source_id):
            shipment = services.create_replacement(order, quantities, reason, (source_type, source_id))
            return [{"id": shipment.id, "label": shipment.number,
                     "url": url_for("logistics.shipment", shipment_id=shipment.id)}]
    """


@hookspec
def erp_carrier_adapters() -> list[type[CarrierAdapter]]:
    """Called by logistics (per request, for enabled plugins) to list the adapters a carrier may use.
    Returns a list of classes implementing ``plugins.logistics.adapters.CarrierAdapter`` with a
    unique ``key`` (``[a-z][a-z0-9_]+``; classes with another key, or a key already taken, are
    ignored); run the carrier contract kit (``plugins.logistics.testing``) against yours. When the
    plugin is switched off its carriers stay configured but cannot ship until it is back.

    Example::

        @hookimpl
        def erp_carrier_adapters():
            return [AcmeExpressAdapter]
    """


@hookspec
def erp_shipment_panels(shipment: Shipment, user: User) -> list[Panel]:
    """Blocks other plugins add to the shipment page (``/logistics/shipments/<id>``),
    like ``erp_order_panels``.

    Called when that page is drawn, with the shipment (``plugins.logistics.models.Shipment``)
    and the signed-in user, for enabled plugins only. Each panel's template is rendered with its
    ``context`` as the body of a card titled ``title``; panels whose ``permission`` the user lacks
    are left out. A plugin whose hook raises, or a panel whose context or template fails, shows an
    error note (logged) and the rest of the page is drawn.

    Returns: a list of :class:`erp_core.contrib.Panel`.

    Example::

        @hookimpl
        def erp_shipment_panels(shipment, user):
            return [Panel(_l("Loyalty"), "loyalty/_shipment_panel.html",
                          lambda: {"bonus": services.delivery_bonus(shipment.order_id)}, permission="loyalty.view")]
    """


@hookspec
def erp_shipped_goods(order_id: int, shipment_id: int | None) -> list[Any]:
    """What the dispatched shipments of an order carried of its goods (finance invoices shipments
    with it, without importing logistics: with logistics off nobody answers).

    Called by other plugins whenever they need it (logistics answers it itself). With
    ``shipment_id`` only that shipment (when it belongs to ``order_id``), else every shipment of
    the order that carries its goods, oldest first; a shipment pending, cancelled, an exchange or
    released (re-shipped, restocked) carries none and is left out.

    Returns: a list of :class:`plugins.logistics.public.ShippedGoods`: ``id``, ``number``
    (SH-...), ``order_id``, ``status`` and ``lines``, each with ``order_line_id`` and
    ``quantity``.

    Example::

        from erp_core.plugins import current_manager

        goods = current_manager().collect("erp_shipped_goods", order_id=order.id, shipment_id=None)
        carried = {line.order_line_id: line.quantity for g in goods for line in g.lines}
    """
