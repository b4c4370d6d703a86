"""Hooks of the orders plugin: the events of an order's life and the order page's contributions.

Added by orders's ``erp_addhooks``; how hooks are called: ``erp_core.hookspecs``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from erp_core import hookspec

if TYPE_CHECKING:
    from erp_core.auth.models import User
    from erp_core.contrib import Panel

    from .models import Customer, Order, Product


@hookspec
def erp_order_created(order: Order) -> None:
    """Called by the orders plugin inside the creating transaction, after the order and its lines are
    flushed. Returns nothing; raise a ``DomainError`` to refuse.

    Example::

        @hookimpl
        def erp_order_created(order):
            audit.record("loyalty", order.id, "order_seen")
    """


@hookspec
def erp_order_changed(order: Order, changes: dict[str, Any]) -> None:
    """Lines, quantities, address or contact of an order changed.

    Called inside the editing transaction after the change is flushed. ``changes`` is a dict:
    ``{"fields": {name: (before, after)}, "lines": {"added": [...], "removed": [...], "changed":
    [...]}, "quantity_delta": {product_id: delta}}`` where ``quantity_delta`` tells how the
    quantity ordered per product moved (positive: more is needed). When the rest of a partly
    shipped order was closed, ``changes`` also has ``"cancelled"`` (``[{line_id, sku, product_id,
    quantity}]``) and ``"reason"``. A plugin holding a reservation adjusts it here; raising a
    DomainError (e.g. not enough stock) undoes the edit.

    Returns: nothing.

    Example::

        @hookimpl
        def erp_order_changed(order, changes):
            for product_id, delta in changes["quantity_delta"].items():
                if delta > 0:
                    reserve(product_id, order.warehouse_id, delta)
    """


@hookspec
def erp_order_validate_transition(order: Order, old_status: str, new_status: str) -> list[str] | None:
    """Called before a status change, inside its transaction. Returns a list of problems (strings
    shown to the user); any problem stops the transition (the API answers 409 ``transition_vetoed``
    with the problems in ``errors._``). To give API clients a code of its own, a plugin may instead
    raise a ``ValidationProblems`` subclass with its ``code`` and ``status``, as inventory's
    ``InsufficientStock`` (409 ``insufficient_stock``) does. (Inventory checks stock in
    ``erp_order_status_changed``, not here: its reservation's conditional UPDATE is the check, so
    the levels are not read twice; the refusal rolls the transition back all the same.)

    Example::

        @hookimpl
        def erp_order_validate_transition(order, old_status, new_status):
            if new_status == "confirmed" and not order.contact_phone:
                return [_("A phone number is needed to confirm.")]
            return []
    """


@hookspec
def erp_order_invoicing_locked(order: Order) -> list[str] | None:
    """May the buyer's invoicing details of ``order`` (its own copy: title, taxpayer ID, address,
    phone, bank, account, invoice type) still change? Called before they are changed on the order
    page or through the API, and when the order page decides whether to offer the change.

    Returns a list of reasons (strings shown to the user) why they may not, typically because an
    invoice was issued with them; any reason keeps them as they are (the API answers 409
    ``invoicing_locked``). Return nothing (or an empty list) to let them change.

    Example::

        @hookimpl
        def erp_order_invoicing_locked(order):
            invoice = issued_invoice_of(order.id)
            if invoice is not None:
                return [_("It was invoiced as %(number)s.", number=invoice.number)]
    """


@hookspec
def erp_order_status_changed(order: Order, old_status: str, new_status: str, note: str | None) -> None:
    """An order changed status (after validation passed). Called inside the same transaction, after
    the new status is flushed. Inventory reserves on confirm, releases on cancel and consumes on
    "mark shipped" here; raising a DomainError rolls the transition back.

    Returns: nothing.

    Example::

        @hookimpl
        def erp_order_status_changed(order, old_status, new_status, note):
            if new_status == "cancelled":
                release_everything(order)
    """


@hookspec
def erp_order_actions(order: Order, user: User) -> list[dict[str, Any]]:
    """Called when the order page is drawn. Returns a list of dicts ``{"label", "url", "icon",
    "style"}`` for buttons other plugins add (e.g. "Create shipment"). A button is a link (GET)
    unless the dict also says ``"method": "post"``: then it is a small form with the CSRF token,
    for an action that changes something at once.

    Example::

        @hookimpl
        def erp_order_actions(order, user):
            if order.status == "confirmed" and user.can("logistics.ship"):
                return [{"label": _("Create shipment"), "url": url_for("logistics.new", order_id=order.id),
                         "icon": "truck", "style": "primary"}]
            return []
    """


@hookspec
def erp_order_panels(order: Order, user: User) -> list[Panel]:
    """Blocks of the order page contributed by other plugins (stock, shipments, payments, support).

    Called when the order page is drawn, with the order object and the current user.

    Returns: a list of :class:`erp_core.contrib.Panel`.

    Example::

        @hookimpl
        def erp_order_panels(order, user):
            return [Panel(_l("Loyalty"), "loyalty/_order_panel.html",
                          lambda: {"points": services.points_for(order.id)}, permission="loyalty.view")]
    """


@hookspec(firstresult=True)
def erp_order_manual_shipping(order: Order) -> bool | None:
    """Asked when the order page is drawn and when "mark shipped" is posted. Return
    ``False`` to hide and refuse the orders plugin's built-in "mark shipped" action (logistics
    does, because it ships through shipments); return ``None`` otherwise.

    Example::

        @hookimpl
        def erp_order_manual_shipping(order):
            return False
    """


@hookspec
def erp_order_goods_shipped(order: Order, quantities: dict[int, int], reference: str) -> None:
    """Goods of ``order`` left the warehouse: ``quantities`` is ``{product_id: quantity}``.

    Fired inside the shipping transaction by orders' manual "mark shipped" (all that remains) and
    by logistics for each shipment. Inventory consumes the reservation (on hand and reserved both
    go down) and writes "shipment" moves with ``reference`` (e.g. ``"SO-2026-000001"`` or
    ``"SH-2026-000007"``). Raising a DomainError undoes the shipping.

    Returns: nothing.

    Example::

        @hookimpl
        def erp_order_goods_shipped(order, quantities, reference):
            consume_reservation(order, quantities, reference)
    """


@hookspec
def erp_order_goods_returned(order: Order, quantities: dict[int, int], restock: bool, reference: str) -> list[dict[str, Any]]:
    """Goods of ``order`` came back: ``quantities`` is ``{product_id: quantity}``.

    Fired inside the transaction by logistics (returned to sender, lost/damaged resolutions) and
    support (return received). With ``restock`` true inventory puts them back on hand ("return"
    moves); otherwise it records them as written off. ``reference`` names the cause.

    Returns: a list of dicts ``{"label": ..., "url": ...}`` linking the stock moves made, so the
    caller's timeline can link them.

    Example::

        @hookimpl
        def erp_order_goods_returned(order, quantities, restock, reference):
            moves = receive_return(order, quantities, restock, reference)
            return [{"label": f"Stock move #{m.id}", "url": url_for("inventory.product", product_id=m.product_id)}
                    for m in moves]
    """


@hookspec
def erp_customer_panels(customer: Customer, user: User) -> list[Panel]:
    """Blocks other plugins add to the customer page (``/orders/customers/<id>``),
    like ``erp_order_panels``.

    Called when that page is drawn, with the customer (``plugins.orders.public.Customer``)
    and the signed-in user, for enabled plugins only. Each panel's template is rendered with its
    ``context`` as the body of a card titled ``title``; panels whose ``permission`` the user lacks
    are left out. A plugin whose hook raises, or a panel whose context or template fails, shows an
    error note (logged) and the rest of the page is drawn.

    Returns: a list of :class:`erp_core.contrib.Panel`.

    Example::

        @hookimpl
        def erp_customer_panels(customer, user):
            return [Panel(_l("Loyalty"), "loyalty/_customer_panel.html",
                          lambda: {"points": services.balance(customer.id)}, permission="loyalty.view")]
    """


@hookspec
def erp_product_panels(product: Product, user: User) -> list[Panel]:
    """Blocks other plugins add to the product page (``/orders/products/<id>``, the read view;
    the edit form is at ``/orders/products/<id>/edit``), like ``erp_order_panels``.

    Called when that page is drawn, with the product (``plugins.orders.public.Product``)
    and the signed-in user, for enabled plugins only. Each panel's template is rendered with its
    ``context`` as the body of a card titled ``title``; panels whose ``permission`` the user lacks
    are left out. A plugin whose hook raises, or a panel whose context or template fails, shows an
    error note (logged) and the rest of the page is drawn.

    Returns: a list of :class:`erp_core.contrib.Panel`.

    Example::

        @hookimpl
        def erp_product_panels(product, user):
            return [Panel(_l("Loyalty"), "loyalty/_product_panel.html",
                          lambda: {"earned": services.points_for_product(product.id)}, permission="loyalty.view")]
    """


@hookspec
def erp_product_form_panels(product: Product, user: User) -> list[Panel]:
    """Small forms other plugins show beside a saved product's edit form
    (``/orders/products/<id>/edit``), for settings of the product that the plugin stores itself.

    Called when the edit page of a saved product is drawn, with the product
    (``plugins.orders.public.Product``) and the signed-in user, for enabled plugins only; drawn
    like ``erp_product_panels`` (panels whose ``permission`` the user lacks are left out, a
    failing plugin shows an error note). Each panel's form posts to the plugin's own route, which
    saves the setting and may send the user back to the edit page (``next``, checked with
    ``erp_core.security.safe_next``). Inventory uses it for the low-stock threshold.

    Returns: a list of :class:`erp_core.contrib.Panel`.

    Example::

        @hookimpl
        def erp_product_form_panels(product, user):
            return [Panel(_l("Loyalty points"), "loyalty/_product_form.html",
                          lambda: {"form": PointsForm(obj=services.rule_for(product.id))},
                          permission="loyalty.edit")]
    """


@hookspec
def erp_product_list_columns(products: list[Product]) -> dict[str, dict[int, str | int]]:
    """Columns other plugins add to the product list (``/orders/products/``).

    Called once per page of the list with the products shown on it, for enabled plugins only.
    Answer with one batched query for all of ``products`` (never one per product): the list's
    query count is tested. Returns ``{column title: {product_id: value}}``; the title is shown
    as the column header (translate it), a product missing from the values shows "—". Values are
    shown as text (numbers formatted), never as HTML.

    Returns: a dict of column title to ``{product_id: value}``.

    Example::

        @hookimpl
        def erp_product_list_columns(products):
            points = services.points_per_product([p.id for p in products])  # one query
            return {_("Points"): points}
    """


@hookspec
def erp_order_goods_back(order: Order, quantities: dict[int, int], restock: bool, reference: str) -> None:
    """Goods of ``order`` came back to the company: ``quantities`` is ``{product_id: quantity}``.

    An event to react to (unlike ``erp_order_goods_returned``, which asks inventory to move the
    stock and whose answerers decide whether that step is automatic). Fired inside the
    transaction by support when a return is received and by logistics when a shipment's goods
    come back to the warehouse, through ``plugins.orders.public.goods_came_back``, whether
    inventory, finance or logistics are on or off; the ``order.goods_back`` webhook is sent with
    it. ``restock`` says whether they went back on the shelf (else written off); ``reference``
    names the cause (``"RMA-2026-000003"``, ``"SH-2026-000007"``). Raising a ``DomainError``
    undoes the step.

    Returns: nothing.

    Example::

        @hookimpl
        def erp_order_goods_back(order, quantities, restock, reference):
            services.revoke_points(order.customer_id, order.id, reference)
    """


@hookspec
def erp_order_money_returned(order: Order, amount_minor: int, currency: str, reference: str) -> None:
    """Money was paid back to the customer of ``order``: ``amount_minor`` in ``currency``.

    Fired inside the transaction by finance when a refund is paid out (its status becomes
    ``refunded``; a refund that is only requested does not count), and by support when staff
    record a refund made by hand because finance is off, through
    ``plugins.orders.public.money_returned``; the ``order.money_returned`` webhook is sent with
    it. ``reference`` names it (``"REF-000012"``, or the return's number for a refund by hand).
    A module that reacts to money going back needs only orders. Raising a ``DomainError`` undoes
    the refund.

    Returns: nothing.

    Example::

        @hookimpl
        def erp_order_money_returned(order, amount_minor, currency, reference):
            services.revoke_points_for_amount(order.customer_id, amount_minor, currency, reference)
    """


@hookspec
def erp_source_labels(sources: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, str | None]]:
    """Name the records other plugins' rows were caused by, for a whole page at once.

    A refund, a replacement shipment or a ticket remembers its cause as ``(source_type,
    source_id)``, the id as text (``("support_return", "9")``). A page listing such rows calls this
    hook once with every pair on the page; the plugin owning a ``source_type`` answers for its own pairs in one
    query (no query per row) and leaves the others out. The caller shows the label, linked when a
    URL is given, and falls back to its own wording for pairs nobody answered (the owning plugin
    off, the record deleted).

    Returns: a dict ``{(source_type, source_id): (label, url or None)}`` for the pairs this plugin
    owns; the label is in the reader's language.

    Example::

        @hookimpl
        def erp_source_labels(sources):
            ids = [int(i) for t, i in sources if t == "loyalty_claim" and i.isdigit()]
            rows = db.session.execute(select(Claim.id, Claim.number).where(Claim.id.in_(ids))) if ids else []
            return {("loyalty_claim", str(i)): (_("Claim %(n)s", n=n), url_for("loyalty.claim", claim_id=i))
                    for i, n in rows}
    """


@hookspec
def erp_orders_amount_paid(order_ids: list[int]) -> dict[int, int]:
    """How much the customer has paid on each of the orders ``order_ids``, for the credit limit.

    Called (once per check, with every confirmed but unfinished order of one customer) when an
    order is confirmed for a customer with a credit limit: the open balance is the orders'
    totals less what was paid. A plugin that records payments (finance) answers for the orders
    it knows, in one query; without an answer an order counts as unpaid. Amounts are minor units
    of the order's currency.

    Returns: a dict ``{order_id: amount paid}``, orders without payments may be left out.

    Example::

        @hookimpl
        def erp_orders_amount_paid(order_ids):
            rows = db.session.execute(select(Payment.order_id, func.sum(Payment.amount_minor))
                                      .where(Payment.order_id.in_(order_ids), Payment.status == "paid")
                                      .group_by(Payment.order_id))
            return dict(rows.all())
    """


@hookspec
def erp_order_shipped_quantities(order: Order) -> dict[int, int] | None:
    """How much of each line of ``order`` is shipped or given to a shipment, as
    ``{order_line_id: quantity}``. Asked when the order page is drawn and when the rest of a
    partly shipped order is closed or its lines are changed: those quantities can be neither
    cancelled nor taken off the order. Logistics answers from its shipments; return ``None``
    when the plugin does not ship the order. Answers of several plugins are added up.

    Example::

        @hookimpl
        def erp_order_shipped_quantities(order):
            return {line_id: qty for line_id, qty in my_shipped_lines(order.id)}
    """
