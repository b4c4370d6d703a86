"""Every hook of the ERP, with what it is for, when it runs, its arguments and what it returns.

Two families (see docs/plugins.md for examples of each):

* contribution hooks, called when the app is built or a page is drawn, each returning a list
  that the core concatenates;
* domain-event hooks, called by services inside the caller's database transaction. A validation
  hook returns a list of problems (strings); any problem stops the operation and is shown to the
  user. An implementation that raises :class:`erp_core.errors.DomainError` rolls the whole
  operation back. Work outside the database (mail, web APIs) must be queued with
  :func:`erp_core.jobs.enqueue`, which runs after commit.

Only implementations of *enabled* plugins are called, except ``erp_blueprints``,
``erp_permissions``, ``erp_cli_commands`` and ``erp_schedules``, which the core collects from
every loaded plugin and then gates per request or per run.
"""

from __future__ import annotations

from . import hookspec

# --------------------------------------------------------------------------- contribution hooks


@hookspec
def erp_blueprints():
    """Flask blueprints of the plugin.

    Called once per app, when it is built, for every loaded plugin (enabled or not): Flask cannot
    unregister a blueprint, so the core registers all of them and answers 404 for the URLs of a
    disabled plugin. Every view must be marked with ``erp_core.security.requires(...)``,
    ``login_only`` or ``public``.

    Returns: a list of :class:`flask.Blueprint`.
    """


@hookspec
def erp_api_blueprints():
    """JSON API endpoints of the plugin under ``/api/v1``, as :class:`flask_smorest.Blueprint`.

    Called once when the app is built, for every loaded plugin; a disabled plugin's endpoints
    answer 404 and leave the OpenAPI document. Mark every method with ``requires``/``login_only``
    like pages; wrap create methods with ``erp_core.api.idempotency.idempotent``.

    Returns: a list of :class:`flask_smorest.Blueprint`.
    """


@hookspec
def erp_webhook_events():
    """Outgoing webhook events the plugin sends (with ``erp_core.webhooks.emit``) beyond the
    core's own (order, shipment, payment, refund, return and ticket status events).

    Called when the webhooks page offers events and when a subscription is saved, for enabled
    plugins only: a switched-off plugin's events are no longer offered (existing subscriptions
    keep them and get them again when it is switched back on).

    Returns: ``{"event.name": label}`` (labels lazily translated).
    """


@hookspec
def erp_permissions():
    """Permission codes the plugin checks, with labels and the built-in roles that get them.

    Called by ``erp db upgrade``/``erp init`` to store new codes and grant them to their default
    roles, and by the role editor to list them.

    Returns: a list of :class:`erp_core.contrib.Permission`.
    """


@hookspec
def erp_nav_items():
    """Entries of the main menu.

    Called while a page is drawn; items whose permission the user lacks are hidden.

    Returns: a list of :class:`erp_core.contrib.NavItem`.
    """


@hookspec
def erp_dashboard_widgets(user):
    """Cards on the dashboard for ``user`` (the logged-in :class:`erp_core.auth.models.User`).

    Called when the dashboard is drawn. A widget that fails to render is replaced by an error
    note and logged; the rest of the dashboard still shows.

    Returns: a list of :class:`erp_core.contrib.Widget`.
    """


@hookspec
def erp_public_blocks():
    """Blocks of the public home page, for customers (contact support, track an order).

    Called when the home page is drawn, for anonymous visitors too: a block must not show
    anything private.

    Returns: a list of :class:`erp_core.contrib.Panel`.
    """


@hookspec
def erp_order_panels(order, user):
    """Blocks of the order page contributed by other plugins (stock, shipments, payments, support).

    Called when the order page is drawn, with the order object and the current user.

    Returns: a list of :class:`erp_core.contrib.Panel`.
    """


@hookspec
def erp_settings_fields():
    """Site settings the plugin needs, shown on the settings page under the plugin's section.

    Called when the settings page is drawn or saved, and by :func:`erp_core.settings.get`
    to find defaults.

    Returns: a list of :class:`erp_core.contrib.SettingField`.
    """


@hookspec
def erp_cli_commands():
    """Sub-commands of the ``erp`` command line (for example ``erp inventory check``).

    Called when the ``erp`` command starts, for every loaded plugin; a command of a disabled
    plugin refuses to run with a message.

    Returns: a list of :class:`click.Command` (or groups).
    """


@hookspec
def erp_demo_data(ctx):
    """Create demo records. Called by ``erp demo`` and ``erp init --demo`` once per enabled
    plugin, in dependency order, inside one transaction per plugin.

    ``ctx`` is an :class:`erp_core.contrib.DemoContext`: ``ctx.rng`` (seeded), ``ctx.scale``,
    ``ctx.admin`` and ``ctx.data``, a dict where plugins leave what later plugins may use.

    Returns: nothing.
    """


@hookspec
def erp_schedules():
    """Periodic jobs (low-stock scan, late shipment check, ...).

    Called by the scheduler of ``erp worker`` on every tick; each schedule runs once per interval
    across every process of the site.

    Returns: a list of :class:`erp_core.contrib.Schedule`.
    """


# --------------------------------------------------------------------------- domain events: orders


@hookspec
def erp_order_created(order):
    """An order was created (status draft). Called inside the creating transaction.

    Returns: nothing. Raise a DomainError to refuse the creation.
    """


@hookspec
def erp_order_changed(order, changes):
    """Lines, quantities, address or contact of an order changed.

    Called inside the editing transaction after the change is flushed. ``changes`` is a dict:
    ``{"fields": {name: (before, after)}, "lines": {"added": [...], "removed": [...],
    "changed": [...]}, "quantity_delta": {product_id: delta}}`` where ``quantity_delta`` tells
    how the quantity ordered per product moved (positive: more is needed). A plugin holding a
    reservation adjusts it here; raising a DomainError (e.g. not enough stock) undoes the edit.

    Returns: nothing.
    """


@hookspec
def erp_order_validate_transition(order, old_status, new_status):
    """May ``order`` move from ``old_status`` to ``new_status``?

    Called before a status change, inside its transaction.

    Returns: a list of problems (user-facing strings); empty or ``None`` means "no objection".
    """


@hookspec
def erp_order_status_changed(order, old_status, new_status, note):
    """An order changed status (after validation passed). Called inside the same transaction,
    after the new status is flushed. Inventory reserves on confirm, releases on cancel and
    consumes on "mark shipped" here; raising a DomainError rolls the transition back.

    Returns: nothing.
    """


@hookspec
def erp_order_actions(order, user):
    """Extra buttons on the order page offered by other plugins (e.g. "Create shipment").

    Called when the order page is drawn.

    Returns: a list of dicts ``{"label": ..., "url": ..., "icon": ..., "style": "primary"}``.
    """


@hookspec
def erp_order_manual_shipping(order):
    """Should the order page offer the built-in "mark shipped" action?

    The orders plugin offers it unless some enabled plugin (logistics) answers ``False``
    because it ships orders through shipments instead.

    Returns: ``False`` to hide the action, or ``None``.
    """


# --------------------------------------------------------------------------- domain events: stock


@hookspec
def erp_stock_low(product_id, warehouse_id, available, threshold):
    """Available stock of a product in a warehouse fell below its threshold.

    Called once per crossing (not on every move) inside the transaction of the move that crossed.

    Returns: nothing.
    """


@hookspec
def erp_warehouse_choices():
    """Warehouses an order can ship from, for filters and forms of plugins that do not own them.

    Called when a page or report offers a warehouse filter. Inventory answers.

    Returns: a list of ``(id, name)`` tuples.
    """


# --------------------------------------------------------------------------- goods leaving / coming back


@hookspec
def erp_order_goods_shipped(order, quantities, reference):
    """Goods of ``order`` left the warehouse: ``quantities`` is ``{product_id: quantity}``.

    Fired inside the shipping transaction by orders' manual "mark shipped" (all that remains) and
    by logistics for each shipment. Inventory consumes the reservation (on hand and reserved both
    go down) and writes "shipment" moves with ``reference`` (e.g. ``"SO-2026-000001"`` or
    ``"SH-2026-000007"``). Raising a DomainError undoes the shipping.

    Returns: nothing.
    """


@hookspec
def erp_order_goods_returned(order, quantities, restock, reference):
    """Goods of ``order`` came back: ``quantities`` is ``{product_id: quantity}``.

    Fired inside the transaction by logistics (returned to sender, lost/damaged resolutions) and
    support (return received). With ``restock`` true inventory puts them back on hand ("return"
    moves); otherwise it records them as written off. ``reference`` names the cause.

    Returns: a list of dicts ``{"label": ..., "url": ...}`` linking the stock moves made, so the
    caller's timeline can link them.
    """


# --------------------------------------------------------------------------- requests between plugins


@hookspec
def erp_refund_requested(order, amount_minor, currency, reason, source_type, source_id):
    """Ask for a refund of ``amount_minor`` on ``order`` because of a return or a delivery exception.

    Fired by support (return received) and logistics (cancel and refund). Finance creates the
    refund (against the order's payments, never more than refundable) linked to
    ``(source_type, source_id)``; a DomainError (e.g. nothing refundable) stops the caller.

    Returns: a list of dicts ``{"label": ..., "url": ..., "id": ...}`` for the refunds created.
    """


@hookspec
def erp_replacement_shipment_requested(order, quantities, reason, source_type, source_id):
    """Ask for a replacement shipment of ``{product_id: quantity}`` for ``order`` (an exchange, a re-ship).

    Fired by support (exchange) and logistics itself (re-ship). Logistics creates a pending
    shipment linked to ``(source_type, source_id)``.

    Returns: a list of dicts ``{"label": ..., "url": ..., "id": ...}`` for the shipments created.
    """


@hookspec
def erp_ticket_requested(order, subject, body, category, source_type, source_id):
    """Ask customer service to contact the customer about ``order`` (e.g. a delivery exception).

    Fired by logistics and finance. Support opens a ticket (category ``delivery``, ``complaint``
    or ``order_question``) linked to ``(source_type, source_id)``.

    Returns: a list of dicts ``{"label": ..., "url": ..., "id": ...}`` for the tickets opened.
    """


@hookspec
def erp_order_public_panels(order):
    """Blocks of the customer's public tracking page of ``order`` (reached by an unguessable link).

    Called when that page is drawn, for an anonymous customer: show only what the customer may
    see (shipments and tracking links, payment state), nothing internal.

    Returns: a list of :class:`erp_core.contrib.Panel`.
    """


# --------------------------------------------------------------------------- domain events: other records


@hookspec
def erp_shipment_status_changed(shipment, old_status, new_status):
    """A shipment changed status (pending, in_transit, delivered, exception, returned, lost).

    Called by logistics inside the transaction of the change.

    Returns: nothing.
    """


@hookspec
def erp_payment_recorded(payment):
    """A payment was recorded (or confirmed by a gateway callback) on an order. Called by finance
    inside the recording transaction.

    Returns: nothing.
    """


@hookspec
def erp_refund_recorded(refund):
    """A refund was recorded or changed status (requested, refunded, rejected). Called by finance
    inside the transaction.

    Returns: nothing.
    """


@hookspec
def erp_return_status_changed(return_request, old_status, new_status):
    """A return / exchange request changed status. Called by support inside the transaction.

    Returns: nothing.
    """


@hookspec
def erp_ticket_status_changed(ticket, old_status, new_status):
    """A support ticket changed status (open, pending, resolved, closed). Called by support inside
    the transaction.

    Returns: nothing.
    """


# --------------------------------------------------------------------------- adapters


@hookspec
def erp_carrier_adapters():
    """Carrier adapters (classes implementing ``plugins.logistics.adapters.CarrierAdapter``).

    Called by logistics when it lists the adapters a carrier can be configured with.

    Returns: a list of adapter classes.
    """


@hookspec
def erp_payment_adapters():
    """Payment method adapters (classes implementing ``plugins.finance.adapters.PaymentAdapter``).

    Called by finance when it lists the methods that can be switched on.

    Returns: a list of adapter classes.
    """
