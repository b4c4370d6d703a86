"""The core's hooks: generic contributions every plugin may make, whatever its business.

The core knows no business area. Each plugin declares the hooks of its own events and requests
in its ``hookspecs`` module (``plugins/orders/hookspecs.py``, ...) and adds them through
:func:`erp_addhooks`, as pytest's ``pytest_addhooks`` does. docs/plugins.md lists them all.

Two families (see docs/plugins.md for examples of each):

* contribution hooks (here), called when the app is built or a page is drawn, each returning a
  list that the core concatenates (:meth:`erp_core.plugins.PluginManager.collect`);
* domain-event hooks (in the plugins), called by services inside the caller's database
  transaction. A validation hook returns a list of problems (strings); any problem stops the
  operation and is shown to the user. An implementation that raises
  :class:`erp_core.errors.DomainError` rolls the whole operation back. Work outside the database
  (mail, web APIs) must be queued with :func:`erp_core.jobs.enqueue`, which runs after commit.

Only implementations of *enabled* plugins are called, except ``erp_blueprints``,
``erp_permissions``, ``erp_cli_commands`` and ``erp_schedules``, which the core collects from
every loaded plugin and then gates per request or per run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import hookspec

if TYPE_CHECKING:
    import click
    import flask
    import flask_smorest

    from .auth.models import User
    from .contrib import DemoContext, NavItem, Panel, Permission, Schedule, SettingField, Widget
    from .plugins import PluginManager

# --------------------------------------------------------------------------- hooks of plugins


@hookspec(historic=True)
def erp_addhooks(pluginmanager: PluginManager) -> None:
    """Add the plugin's own hook specifications: ``pluginmanager.add_hookspecs(module)``.

    Called once when the plugin is registered (historic: a plugin registered later still gets
    the call), for every loaded plugin, enabled or not, so that the hooks a plugin owns exist as
    long as it is installed. Other plugins implement them like the core's hooks.

    Returns: nothing.
    """


# --------------------------------------------------------------------------- contribution hooks


@hookspec
def erp_blueprints() -> list[flask.Blueprint]:
    """Flask blueprints of the plugin.

    Called once per app, when it is built, for every loaded plugin (enabled or not): Flask cannot
    unregister a blueprint, so the core registers all of them and answers 404 for the URLs of a
    disabled plugin. Every view must be marked with ``erp_core.security.requires(...)``,
    ``login_only`` or ``public``.

    Returns: a list of :class:`flask.Blueprint`.
    """


@hookspec
def erp_api_blueprints() -> list[flask_smorest.Blueprint]:
    """JSON API endpoints of the plugin under ``/api/v1``, as :class:`flask_smorest.Blueprint`.

    Called once when the app is built, for every loaded plugin; a disabled plugin's endpoints
    answer 404 and leave the OpenAPI document. Mark every method with ``requires``/``login_only``
    like pages; wrap create methods with ``erp_core.api.idempotency.idempotent``.

    Returns: a list of :class:`flask_smorest.Blueprint`.
    """


@hookspec
def erp_webhook_events() -> dict[str, Any]:
    """Outgoing webhook events the plugin sends (with ``erp_core.webhooks.emit``).

    Each plugin declares the events of its own records (orders: ``order.*``, logistics:
    ``shipment.*``, finance: ``payment.*`` and ``refund.*``, support: ``ticket.*`` and
    ``return.*``) and emits them where they happen; the core declares none.

    Called when the webhooks page offers events and when a subscription is saved, for enabled
    plugins only: a switched-off plugin's events are no longer offered (existing subscriptions
    keep them and get them again when it is switched back on).

    Returns: ``{"event.name": label}`` (labels lazily translated).
    """


@hookspec
def erp_permissions() -> list[Permission]:
    """Permission codes the plugin checks, with labels and the built-in roles that get them.

    Called by ``erp db upgrade``/``erp init`` to store new codes and grant them to their default
    roles, and by the role editor to list them.

    Returns: a list of :class:`erp_core.contrib.Permission`.
    """


@hookspec
def erp_nav_items() -> list[NavItem]:
    """Entries of the main menu.

    Called while a page is drawn; items whose permission the user lacks are hidden.

    Returns: a list of :class:`erp_core.contrib.NavItem`.
    """


@hookspec
def erp_dashboard_widgets(user: User) -> list[Widget]:
    """Cards on the dashboard for ``user`` (the logged-in :class:`erp_core.auth.models.User`).

    Called when the dashboard is drawn. A widget that fails to render is replaced by an error
    note and logged; the rest of the dashboard still shows.

    Returns: a list of :class:`erp_core.contrib.Widget`.
    """


@hookspec
def erp_public_blocks() -> list[Panel]:
    """Blocks of the public home page, for customers (contact support, track an order).

    Called when the home page is drawn, for anonymous visitors too: a block must not show
    anything private.

    Returns: a list of :class:`erp_core.contrib.Panel`.
    """




@hookspec
def erp_settings_fields() -> list[SettingField]:
    """Site settings the plugin needs, shown on the settings page under the plugin's section.

    Called when the settings page is drawn or saved, and by :func:`erp_core.settings.get`
    to find defaults.

    Returns: a list of :class:`erp_core.contrib.SettingField`.
    """


@hookspec
def erp_cli_commands() -> list[click.Command]:
    """Sub-commands of the ``erp`` command line (for example ``erp inventory check``).

    Called when the ``erp`` command starts, for every loaded plugin; a command of a disabled
    plugin refuses to run with a message.

    Returns: a list of :class:`click.Command` (or groups).
    """


@hookspec
def erp_demo_data(ctx: DemoContext) -> None:
    """Create demo records. Called by ``erp demo`` and ``erp init --demo`` once per enabled
    plugin, in dependency order, inside one transaction per plugin.

    ``ctx`` is an :class:`erp_core.contrib.DemoContext`: ``ctx.rng`` (seeded), ``ctx.scale``,
    ``ctx.admin`` and ``ctx.data``, a dict where plugins leave what later plugins may use.

    Returns: nothing.
    """


@hookspec
def erp_schedules() -> list[Schedule]:
    """Periodic jobs (low-stock scan, late shipment check, ...).

    Called by the scheduler of ``erp worker`` on every tick; each schedule runs once per interval
    across every process of the site.

    Returns: a list of :class:`erp_core.contrib.Schedule`.
    """
