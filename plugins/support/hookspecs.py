"""Hooks of the support plugin: return and ticket events, tickets asked by others, the customer's tracking page.

Added by support's ``erp_addhooks``; how hooks are called: ``erp_core.hookspecs``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from erp_core import hookspec

if TYPE_CHECKING:
    from .models import ReturnRequest, Ticket
    from erp_core.contrib import Panel
    from plugins.orders.models import Order


@hookspec
def erp_return_status_changed(return_request: ReturnRequest, old_status: str | None, new_status: str) -> None:
    """A return / exchange request changed status. Called by support inside the transaction.

    Returns: nothing.
    """


@hookspec
def erp_ticket_status_changed(ticket: Ticket, old_status: str | None, new_status: str) -> None:
    """A support ticket changed status (open, pending, resolved, closed). Called by support inside
    the transaction.

    Returns: nothing.
    """


@hookspec
def erp_ticket_requested(order: Order, subject: str, body: str, category: str, source_type: str, source_id: int) -> list[dict[str, Any]]:
    """Ask customer service to contact the customer about ``order`` (e.g. a delivery exception).

    Fired by logistics and finance. Support opens a ticket (category ``delivery``, ``complaint``
    or ``order_question``) linked to ``(source_type, source_id)``.

    Returns: a list of dicts ``{"label": ..., "url": ..., "id": ...}`` for the tickets opened.
    """


@hookspec
def erp_order_public_panels(order: Order) -> list[Panel]:
    """Blocks of the customer's public tracking page of ``order`` (reached by an unguessable link).

    Called when that page is drawn, for an anonymous customer: show only what the customer may
    see (shipments and tracking links, payment state), nothing internal.

    Returns: a list of :class:`erp_core.contrib.Panel`.
    """
