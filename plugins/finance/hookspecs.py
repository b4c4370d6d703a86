"""Hooks of the finance plugin: payment and refund events, refunds asked by others, payment and fapiao adapters,
other plugins' reports under Finance > Reports.

Added by finance's ``erp_addhooks``; how hooks are called: ``erp_core.hookspecs``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from erp_core import hookspec

if TYPE_CHECKING:
    from erp_core.auth.models import User
    from erp_core.contrib import NavItem, Panel
    from plugins.orders.public import Order

    from .adapters import PaymentAdapter
    from .fapiao import FapiaoAdapter
    from .models import Payment, Refund


@hookspec
def erp_payment_recorded(payment: Payment) -> None:
    """A payment was recorded (or confirmed by a gateway callback) on an order. Called by finance
    inside the recording transaction.

    Returns: nothing.

    Example::

        @hookimpl
        def erp_payment_recorded(payment):
            audit.record("loyalty", payment.order_id, "payment_seen")
    """


@hookspec
def erp_refund_recorded(refund: Refund) -> None:
    """A refund was recorded or changed status (requested, refunded, rejected). Called by finance
    inside the transaction.

    Returns: nothing.

    Example::

        @hookimpl
        def erp_refund_recorded(refund):
            if refund.status == "refunded":
                jobs.enqueue(notify_customer_of_refund, refund.id)
    """


@hookspec
def erp_refund_failed(refund: Refund, message: str) -> None:
    """The payment provider refused to pay out a refund sent to it (its answer to the refund job,
    or its verified notification). Called by finance inside the transaction that records it.

    The refund keeps its status ``requested`` and goes back to finance's queue, to be sent
    again or rejected; ``erp_refund_recorded`` follows when it is paid or rejected. ``message``
    is the provider's reason as it gave it (may be empty).

    Returns: nothing.

    Example::

        @hookimpl
        def erp_refund_failed(refund, message):
            audit.record("loyalty", refund.order_id, "refund_failed", note=message or None)
    """


@hookspec
def erp_refund_requested(order: Order, amount_minor: int, currency: str, reason: str, source_type: str, source_id: int) -> list[dict[str, Any]]:
    """Ask for a refund of ``amount_minor`` on ``order`` because of a return or a delivery exception.

    Fired by support (return received) and logistics (cancel and refund). Finance creates the
    refund (against the order's payments, never more than refundable) linked to ``(source_type,
    source_id)``; a DomainError (e.g. nothing refundable) stops the caller.

    Returns: a list of dicts ``{"label": ..., "url": ..., "id": ...}`` for the refunds created.

    Example::

        @hookimpl
        def erp_refund_requested(order, amount_minor, currency, reason, source_type, source_id):
            refund = services.refund_order(order, amount_minor, reason, source=(source_type, source_id))
            return [{"id": refund.id, "label": f"Refund #{refund.id}",
                     "url": url_for("finance.order_payments", order_id=order.id)}]
    """


@hookspec
def erp_payment_adapters() -> list[type[PaymentAdapter]]:
    """Called by finance to list the payment methods that can be switched on. Returns a list of
    classes implementing ``plugins.finance.adapters.PaymentAdapter``; run the payment contract kit
    (``plugins.finance.testing``) against yours.

    Example::

        @hookimpl
        def erp_payment_adapters():
            return [AcmePayAdapter]
    """


@hookspec
def erp_payment_panels(payment: Payment, user: User) -> list[Panel]:
    """Blocks other plugins add to the payment page (``/finance/payments/<id>``),
    like ``erp_order_panels``.

    Called when that page is drawn, with the payment (``plugins.finance.models.Payment``)
    and the signed-in user, for enabled plugins only. Each panel's template is rendered with its
    ``context`` as the body of a card titled ``title``; panels whose ``permission`` the user lacks
    are left out. A plugin whose hook raises, or a panel whose context or template fails, shows an
    error note (logged) and the rest of the page is drawn.

    Returns: a list of :class:`erp_core.contrib.Panel`.

    Example::

        @hookimpl
        def erp_payment_panels(payment, user):
            return [Panel(_l("Loyalty"), "loyalty/_payment_panel.html",
                          lambda: {"points": services.points_for(payment.order_id)}, permission="loyalty.view")]
    """


@hookspec
def erp_fapiao_adapters() -> list[type[FapiaoAdapter]]:
    """Called by finance to list the ways a fapiao (the tax authority's invoice) is recorded
    against an invoice. Returns a list of classes implementing
    ``plugins.finance.fapiao.FapiaoAdapter``; finance ships the manual one (staff type the fapiao's
    code, number and date). An e-fapiao provider's adapter issues the fapiao at the provider and
    records its number with ``FapiaoAdapter.record``.

    Example::

        @hookimpl
        def erp_fapiao_adapters():
            return [AcmeEFapiaoAdapter]
    """


@hookspec
def erp_finance_reports() -> list[NavItem]:
    """Reports of other plugins that belong under Finance > Reports (purchasing's payables).

    Called when the Finance reports pages are drawn. Each item's ``label`` is the report's title
    (a lazy translation), ``endpoint`` the page that shows it (the plugin's own view, with its own
    permission check), ``permission`` the code a reader needs to see the link, ``icon`` a
    Bootstrap Icons name and ``order`` its position. Items whose permission the reader lacks are
    not shown.

    Returns: a list of :class:`erp_core.contrib.NavItem`.

    Example::

        @hookimpl
        def erp_finance_reports():
            return [NavItem(_l("Payables"), "purchasing.payables", "purchasing.view", icon="cash-coin")]
    """
