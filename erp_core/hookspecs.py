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
    from .contrib import (
        AuditVocabulary,
        DemoContext,
        NavItem,
        Panel,
        Permission,
        Schedule,
        ScriptUrl,
        SearchResult,
        SettingField,
        SetupItem,
        Widget,
    )
    from .plugins import PluginManager

# --------------------------------------------------------------------------- hooks of plugins


@hookspec(historic=True)
def erp_addhooks(pluginmanager: PluginManager) -> None:
    """Called once when the plugin is registered, for every loaded plugin, enabled or not (historic: a
    plugin registered later still gets it). Add the plugin's own hook specifications with
    ``pluginmanager.add_hookspecs(module)``. Type the arguments (imports under ``TYPE_CHECKING``),
    give each spec a docstring that says when it is called and what it returns, and use
    ``@hookspec(firstresult=True)`` where only one answer counts. Returns nothing.

    Example::

        # loyalty/hookspecs.py
        from erp_core import hookspec

        @hookspec
        def erp_loyalty_points_awarded(customer_id: int, points: int) -> None:
            '''Points were awarded to a customer, inside the awarding transaction. Returns: nothing.'''

        # loyalty/__init__.py
        @hookimpl
        def erp_addhooks(pluginmanager):
            from . import hookspecs
            pluginmanager.add_hookspecs(hookspecs)
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

    Example::

        bp = Blueprint("loyalty", __name__, url_prefix="/loyalty", template_folder="templates")

        @bp.route("/")
        @requires("loyalty.view")
        def index():
            return render_template("loyalty/index.html")

        @hookimpl
        def erp_blueprints():
            return [bp]
    """


@hookspec
def erp_api_blueprints() -> list[flask_smorest.Blueprint]:
    """Called once when the app is built, for every loaded plugin. Returns a list of
    ``flask_smorest.Blueprint``s whose routes live under ``/api/v1``. They are documented in the
    generated OpenAPI document (``/api/v1/openapi.json``, browsable at ``/api/v1/docs``) and
    vanish, with their part of the document, while the plugin is off. Mark each method with
    ``requires(...)`` like a page; clients authenticate with personal tokens (``Authorization:
    Bearer ...``), never cookies. Errors are ``application/problem+json``; wrap create methods in
    ``erp_core.api.idempotency.idempotent`` (outermost) so an ``Idempotency-Key`` makes retries
    safe; use ``erp_core.api.pagination.paginate`` for lists.

    Build every schema from ``erp_core.api.schemas``, the API's one schema layer: ``ApiSchema``
    (request bodies), ``QuerySchema`` and ``PageQuerySchema`` (list filters), ``page_schema``,
    the fields ``WholeNumber``, ``AwareDateTime`` (refuses a time without its zone, loads UTC),
    ``id_field``, ``text_field``, ``choice_field``, validators (``in_range``, ``count``,
    ``one_of``...) and patterns. Their validation messages come in the language the client asked
    for (``Accept-Language``), with one flat key per field (``lines.0.quantity``); write no
    validators of your own and import no other plugin's API module (tests/core/test_layering.py).

    Example::

        blp = Blueprint("loyalty_api", __name__, url_prefix="/api/v1/loyalty", description="Loyalty points")

        @blp.route("/points")
        class Points(MethodView):
            @requires("loyalty.view")
            @blp.arguments(PageQuerySchema, location="query")
            @blp.response(200, page_schema(PointsSchema, "PointsPage"))
            def get(self, args):
                body, headers = paginate(select(Points).order_by(Points.id), args)
                return body, 200, headers

        @hookimpl
        def erp_api_blueprints():
            return [blp]
    """


@hookspec
def erp_webhook_events() -> dict[str, Any]:
    """Called when the webhooks page offers events and when a subscription is saved, for enabled
    plugins only. Returns ``{"event.name": label}`` for the events the plugin sends with
    ``erp_core.webhooks.emit(name, record, **extra)``. The core sends none: orders declares
    ``order.*``, logistics ``shipment.*``, finance ``payment.*`` and ``refund.*``, support
    ``ticket.*`` and ``return.*``, each emitted right where the event happens. A switched-off
    plugin's events are no longer offered; existing subscriptions keep them. The payload carries
    the record's columns except binary and private ones (names with nonce, secret, password, token
    or credential, or columns with ``info={"private": True}``).

    Example::

        @hookimpl
        def erp_webhook_events():
            return {"loyalty.points_awarded": _l("Loyalty points awarded")}

        def award(customer, points):
            ...
            webhooks.emit("loyalty.points_awarded", entry, customer_id=customer.id)
    """


@hookspec
def erp_permissions() -> list[Permission]:
    """Permission codes the plugin checks, with labels and the built-in roles that get them.

    Called by ``erp db upgrade``/``erp init`` to store new codes and grant them to their default
    roles, and by the role editor to list them.

    Returns: a list of :class:`erp_core.contrib.Permission`.

    Example::

        @hookimpl
        def erp_permissions():
            return [Permission("loyalty.view", _l("See loyalty points"), roles=("customer_service",))]
    """


@hookspec
def erp_nav_items() -> list[NavItem]:
    """Called when a page is drawn. Returns a list of ``NavItem(label, endpoint, permission=None,
    icon="circle", order=100, group=None)``; items whose permission the user lacks are hidden;
    ``group="admin"`` puts an item under Administration. Icons are Bootstrap Icons names.

    Example::

        @hookimpl
        def erp_nav_items():
            return [NavItem(_l("Loyalty"), "loyalty.index", "loyalty.view", icon="star", order=60)]
    """


@hookspec
def erp_dashboard_widgets(user: User) -> list[Widget]:
    """Called when the dashboard is drawn, with the signed-in user. Returns a list of ``Widget(title,
    template, context, permission=None, order=100, width=6)``; ``context`` may be a dict or a
    callable returning one (called only when the widget is shown). A widget that raises is replaced
    by an error note and logged.

    Example::

        @hookimpl
        def erp_dashboard_widgets(user):
            return [Widget(_l("Top customers"), "loyalty/_widget.html",
                           lambda: {"rows": services.top_customers(5)}, permission="loyalty.view")]
    """


@hookspec
def erp_setup_checklist() -> list[SetupItem]:
    """Steps of the "set up your company" checklist an administrator sees on the dashboard until
    every step is done. Called when the dashboard is drawn for a user who may change the settings;
    only enabled plugins are asked, so the steps of a switched-off plugin are left out. The core
    brings the company's details and mail.

    Returns: a list of :class:`erp_core.contrib.SetupItem` (``done`` may be a callable, asked then).

    Example::

        @hookimpl
        def erp_setup_checklist():
            return [SetupItem("carriers", _l("Set up a carrier"), lambda: bool(services.carriers()),
                              "logistics_carriers.index")]
    """


@hookspec
def erp_public_blocks() -> list[Panel]:
    """Blocks of the public home page, for customers (contact support, track an order).

    Called when the home page is drawn, for anonymous visitors too: a block must not show anything
    private.

    Returns: a list of :class:`erp_core.contrib.Panel`.

    Example::

        @hookimpl
        def erp_public_blocks():
            return [Panel(_l("Our loyalty programme"), "loyalty/_public.html", {})]
    """




@hookspec
def erp_settings_fields() -> list[SettingField]:
    """Called when the settings page is drawn or saved and to find defaults. Returns a list of
    ``SettingField(key, label, kind, default, section, help, choices, required, validate)``;
    ``kind`` is ``string``, ``text``, ``integer``, ``boolean``, ``choice``, ``email_list``,
    ``timezone``, ``currency`` or ``secret`` (never shown back in full). Read values with
    ``erp_core.settings.get(key)``. A field with ``page="<endpoint>"`` is edited on that page of
    its own (as the mail settings on Admin > Mail) and left out of the general settings page.

    Example::

        @hookimpl
        def erp_settings_fields():
            return [SettingField("loyalty.rate", _l("Points per 100 spent"), "integer", 1, _l("Loyalty"))]
    """


@hookspec
def erp_cli_commands() -> list[click.Command]:
    """Sub-commands of the ``erp`` command line (for example ``erp inventory check``).

    Called when the ``erp`` command starts, for every loaded plugin; a command of a disabled plugin
    refuses to run with a message.

    Returns: a list of :class:`click.Command` (or groups).

    Example::

        @hookimpl
        def erp_cli_commands():
            @click.command("loyalty-recount")
            def recount():
                click.echo(services.recount())
            return [recount]
    """


@hookspec
def erp_demo_data(ctx: DemoContext) -> None:
    """Called by ``erp demo`` and ``erp init --demo`` once per enabled plugin, in dependency order,
    each plugin in its own transaction. ``ctx`` is a ``DemoContext`` with ``rng`` (seeded),
    ``scale``, ``admin`` and ``data`` (a dict where earlier plugins leave what later ones use, e.g.
    ``ctx.data["orders"]``). Returns nothing.

    Example::

        @hookimpl
        def erp_demo_data(ctx):
            for order in ctx.data.get("orders", [])[:20]:
                services.award(order, points=ctx.rng.randint(1, 50))
    """


@hookspec
def erp_schedules() -> list[Schedule]:
    """Called by the scheduler on every tick (the background runner of each serving process, or
    ``erp worker``; every ``SCHEDULER_TICK`` seconds). Returns a list of ``Schedule(name,
    every_seconds, job, title)`` where ``job`` is ``"package.module:function"`` and ``title`` a lazy
    translated name shown to administrators (the ``name`` is only the key). Each schedule runs once
    per interval across all processes of the site (claimed with a conditional UPDATE); the admin
    page "Background work" shows when each last ran, and the dashboard warns administrators when
    one has not run for two of its intervals.

    Example::

        @hookimpl
        def erp_schedules():
            return [Schedule("loyalty.expire", 3600, "my_plugin.jobs:expire_points",
                             title=_l("Expire old loyalty points"))]
    """


@hookspec
def erp_extra_template_vars(template: str, user: User | None) -> dict[str, Any]:
    """Variables a plugin adds to the context of templates, as Datasette's ``extra_template_vars``.

    Called each time a template is rendered in a request (pages, and the panels and widgets
    drawn into them), with the template's name (``"orders/customer.html"``) and the signed-in
    user (``None`` for an anonymous visitor). A variable the view passes itself wins over one
    added here; an implementation that raises is logged and skipped, the page is still drawn.
    Values are escaped like any other (never mark data ``Markup``).

    Returns: a dict of ``{name: value}`` (empty for templates the plugin does not care about).

    Example::

        @hookimpl
        def erp_extra_template_vars(template, user):
            if template == "orders/customer.html" and user is not None and user.can("loyalty.view"):
                return {"loyalty_programme": settings.get("loyalty.name")}
            return {}
    """


@hookspec
def erp_extra_js_urls(template: str, user: User | None) -> list[str | ScriptUrl]:
    """Scripts a plugin adds to pages, as Datasette's ``extra_js_urls``.

    Called once per page drawn on the site's layout (``base.html``), with the page template's
    name and the signed-in user (``None`` when anonymous). Each script is loaded at the end of
    the page, after ``erp.js``, with this request's CSP nonce. Only same-origin paths are
    accepted (``/loyalty/static/points.js``, from ``url_for("<blueprint>.static", ...)``); a
    full URL, a ``//host`` URL or a ``javascript:`` one is dropped and logged, so no script comes
    from elsewhere. Inline scripts are not possible: put behaviour in the file and read data
    from ``data-`` attributes (see ``erp_core/static/js/erp.js``). An implementation that raises
    is logged and skipped.

    Returns: a list of URLs, or of :class:`erp_core.contrib.ScriptUrl` (``module=True`` for an
    ES module).

    Example::

        @hookimpl
        def erp_extra_js_urls(template, user):
            if template == "orders/customer.html":
                return [url_for("loyalty.static", filename="points.js")]
            return []
    """


@hookspec
def erp_extra_css_urls(template: str, user: User | None) -> list[str]:
    """Style sheets a plugin adds to pages, as Datasette's ``extra_css_urls``.

    Called once per page drawn on the site's layout, like :func:`erp_extra_js_urls`, and linked
    in the page's ``<head>`` after the core's style sheets. Same-origin paths only (the CSP's
    ``style-src 'self'``); anything else is dropped and logged.

    Returns: a list of URLs.

    Example::

        @hookimpl
        def erp_extra_css_urls(template, user):
            return [url_for("loyalty.static", filename="loyalty.css")]
    """


@hookspec
def erp_audit_vocabulary() -> list[AuditVocabulary]:
    """How the plugin's audit entries read in history panels and the audit log: per
    ``object_type`` it writes with :func:`erp_core.audit.record`, the record type's name, a label
    per action and a :class:`erp_core.contrib.HistoryField` per field (money, date, reference,
    code, boolean, list...). Called when a history is drawn (cached per request). Fields that no
    plugin declares fall back to a humanised name and a readable value.

    Returns: a list of :class:`erp_core.contrib.AuditVocabulary`.

    Example::

        @hookimpl
        def erp_audit_vocabulary():
            return [AuditVocabulary(
                "loyalty_card", _l("Loyalty card"),
                actions={"created": _l("Card issued"), "points_added": _l("Points added")},
                fields={"points": HistoryField(_l("Points"), "number"),
                        "level": HistoryField(_l("Level"), "code", choices=LEVEL_LABELS),
                        "customer": HistoryField(_l("Customer"), "reference", ref="customer")},
                resolve=lambda ids: {str(c.id): (c.number, url_for("loyalty.card", card_id=c.id))
                                     for c in cards_by_ids(ids)})]
    """


@hookspec
def erp_system_texts() -> dict[str, Any]:
    """The sentences the plugin's code writes into the database for people to read (notes,
    history, messages), as ``{key: lazy_gettext(msgid)}``. The code stores
    ``erp_core.i18n.system_text(key, **params)``; pages show it with the ``system_text`` filter in
    the reader's language. Keys start with the plugin's name. A parameter may itself be a stored
    text (``system_text(...)``) or ``{"date": iso}`` (shown as the reader's date).

    Returns: a dict of key to message.

    Example::

        @hookimpl
        def erp_system_texts():
            return {"loyalty.points_expired": _l("%(points)s points expired on %(date)s.")}

        note = system_text("loyalty.points_expired", points=40, date={"date": day.isoformat()})
    """


@hookspec
def erp_search(query: str, user: User, limit: int) -> list[SearchResult]:
    """Called by the header search (the ``/search`` page) with the text typed (trimmed, 1 to 100
    characters), the signed-in user and the most results wanted per kind of record. Answer for the
    plugin's own records only, and only those ``user`` may see (check ``user.can(...)``: a user
    without the permission to view a kind of record gets none of it). Use indexed queries: an
    equality or prefix on a number, code, phone or barcode, and the plugin's maintained search
    columns for names.

    Returns: a list of :class:`erp_core.contrib.SearchResult`, at most ``limit`` per ``kind``.

    Example::

        @hookimpl
        def erp_search(query, user, limit):
            if not user.can("loyalty.view"):
                return []
            return [SearchResult("card", _l("Loyalty cards"), c.number, url_for("loyalty.card", id=c.id))
                    for c in services.cards_starting_with(query, limit)]
    """
