"""Hooks of the support plugin: return and ticket events, tickets asked by others, the customer's tracking page.

Added by support's ``erp_addhooks``; how hooks are called: ``erp_core.hookspecs``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from erp_core import hookspec

if TYPE_CHECKING:
    from erp_core.auth.models import User
    from erp_core.contrib import Panel
    from plugins.orders.public import Order

    from .models import ReturnRequest, Ticket
    from .notifications.sms import SmsAdapter


@hookspec
def erp_return_status_changed(return_request: ReturnRequest, old_status: str | None, new_status: str) -> None:
    """Fired by support when a return / exchange request changes status (``requested``, ``approved``,
    ``rejected``, ``received``, ``refunded``, ``exchanged``, ``closed``), inside the transaction;
    on creation ``old_status`` is ``None``. ``return_request`` is a
    ``plugins.support.models.ReturnRequest`` (``number``, ``order``, ``kind``, ``lines`` with
    ``product_id`` and ``quantity``). Raising a ``DomainError`` undoes the step. Returns nothing.

    Example::

        @hookimpl
        def erp_return_status_changed(return_request, old_status, new_status):
            if new_status == "received":
                audit.record("loyalty", return_request.order_id, "points_revoked")
    """


@hookspec
def erp_ticket_status_changed(ticket: Ticket, old_status: str | None, new_status: str) -> None:
    """A support ticket changed status (open, pending, resolved, closed). Called by support inside the
    transaction.

    Returns: nothing.

    Example::

        @hookimpl
        def erp_ticket_status_changed(ticket, old_status, new_status):
            if new_status == "resolved":
                jobs.enqueue(send_survey, ticket.id)
    """


@hookspec
def erp_ticket_requested(order: Order, subject: str, body: str, category: str, source_type: str, source_id: int) -> list[dict[str, Any]]:
    """Fired by logistics ("contact the customer" on a delivery exception) and others. Support opens a
    ticket (channel "internal request", priority high, the body kept as an internal note, routed to
    the team on duty); asked again for the same ``(source_type, source_id)`` while that ticket is
    still open, it adds the body as a note to it instead of opening another. ``order`` may be
    ``None``. Returns a list of ``{"label", "url", "id"}``.

    Example::

        @hookimpl
        def erp_ticket_requested(order, subject, body, category, source_type, source_id):
            ticket = services.open_ticket_for(order, subject, body, category, (source_type, source_id))
            return [{"id": ticket.id, "label": ticket.number, "url": url_for("support.ticket", ticket_id=ticket.id)}]
    """


@hookspec
def erp_order_public_panels(order: Order) -> list[Panel]:
    """Blocks of the customer's public tracking page of ``order`` (reached by an unguessable link).

    Called when that page is drawn, for an anonymous customer: show only what the customer may see
    (shipments and tracking links, payment state), nothing internal.

    Returns: a list of :class:`erp_core.contrib.Panel`.

    Example::

        @hookimpl
        def erp_order_public_panels(order):
            return [Panel(_l("Shipments"), "logistics/_public_panel.html",
                          lambda: {"shipments": services.public_shipments(order)})]
    """


@hookspec
def erp_ticket_panels(ticket: Ticket, user: User) -> list[Panel]:
    """Blocks other plugins add to the ticket page (``/support/tickets/<id>``),
    like ``erp_order_panels``.

    Called when that page is drawn, with the ticket (``plugins.support.models.Ticket``)
    and the signed-in user, for enabled plugins only. Each panel's template is rendered with its
    ``context`` as the body of a card titled ``title``; panels whose ``permission`` the user lacks
    are left out. A plugin whose hook raises, or a panel whose context or template fails, shows an
    error note (logged) and the rest of the page is drawn.

    Returns: a list of :class:`erp_core.contrib.Panel`.

    Example::

        @hookimpl
        def erp_ticket_panels(ticket, user):
            return [Panel(_l("Loyalty"), "loyalty/_ticket_panel.html",
                          lambda: {"points": services.balance(ticket.customer_id)}, permission="loyalty.view")]
    """


@hookspec
def erp_return_panels(return_request: ReturnRequest, user: User) -> list[Panel]:
    """Blocks other plugins add to the return request page (``/support/returns/<id>``),
    like ``erp_order_panels``.

    Called when that page is drawn, with the return request (``plugins.support.models.ReturnRequest``)
    and the signed-in user, for enabled plugins only. Each panel's template is rendered with its
    ``context`` as the body of a card titled ``title``; panels whose ``permission`` the user lacks
    are left out. A plugin whose hook raises, or a panel whose context or template fails, shows an
    error note (logged) and the rest of the page is drawn.

    Returns: a list of :class:`erp_core.contrib.Panel`.

    Example::

        @hookimpl
        def erp_return_panels(return_request, user):
            return [Panel(_l("Loyalty"), "loyalty/_return_panel.html",
                          lambda: {"revoked": services.points_revoked(return_request.order_id)}, permission="loyalty.view")]
    """


@hookspec
def erp_sms_adapters() -> list[type[SmsAdapter]]:
    """Text-message (SMS) providers for the customer notifications. Called by support when it sends
    a notification and when the settings page lists the choices (``support.notify.sms_adapter``).

    Returns: a list of classes derived from ``plugins.support.notifications.SmsAdapter``, each with a
    unique ``key`` (``[a-z][a-z0-9_]+``), a ``label``, ``offline`` (True only when ``send`` makes no
    network call: it then runs inside the transaction; otherwise a job calls it after the commit)
    and ``send(phone, text)`` returning an ``SmsResult`` (``status`` ``sent``, ``recorded`` or
    ``failed``). Support brings ``record``, which sends nothing and keeps the text on the order.

    Example::

        @hookimpl
        def erp_sms_adapters():
            return [AliyunSmsAdapter]
    """
