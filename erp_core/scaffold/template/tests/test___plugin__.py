"""The plugin loads, migrates, serves its page with permissions, and speaks Chinese."""

from importlib import metadata

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from erp_core.extensions import db
from erp_core.migrate import include_object_for
from erp_core.testing import assert_catalog_complete, login, make_user
from erp___plugin__.models import Note

PLUGIN = "__plugin__=erp___plugin__"
# The plugins this one requires load with it, or it is not loaded at all.
REQUIRED = __required_plugins__
PLUGINS = [*REQUIRED, PLUGIN]


def test_entry_point_is_declared():
    names = {ep.name: ep.value for ep in metadata.entry_points(group="erp.plugins")}
    assert names.get("__plugin__") == "erp___plugin__"


def test_the_plugin_loads_and_is_enabled(erp_app_factory):
    app = erp_app_factory(plugins=PLUGINS)
    manager = app.extensions["erp_plugins"]
    record = manager.records.get("__plugin__")
    assert record is not None and record.loaded, record.error if record else "not found"
    with app.app_context():
        assert manager.enabled() == {"__plugin__", *REQUIRED}


def test_page_needs_permission_and_adds_notes(erp_app_factory):
    app = erp_app_factory(plugins=PLUGINS)
    client = app.test_client()
    login(client, app, make_user(app))
    assert client.get("/__plugin__/").status_code == 403
    client = app.test_client()
    login(client, app, make_user(app, perms=["__plugin__.view", "__plugin__.edit"]))
    assert client.post("/__plugin__/", data={"text": ""}).status_code == 400
    assert client.post("/__plugin__/", data={"text": "hello"}).status_code == 302
    assert "hello" in client.get("/__plugin__/").get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Note).count() == 1


def test_page_speaks_chinese(erp_app_factory):
    app = erp_app_factory(plugins=PLUGINS)
    client = app.test_client()
    login(client, app, make_user(app, perms=["__plugin__.view", "__plugin__.edit"]))
    page = client.get("/__plugin__/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "暂无备注" in page


def test_migrations_build_exactly_the_models(erp_app_factory):
    app = erp_app_factory(plugins=PLUGINS, migrate=True)
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_object": include_object_for("__plugin__", None)})
        assert compare_metadata(context, db.metadata) == []


def test_customer_pages_show_the_notes_panel(erp_app_factory):
    """erp_customer_panels: orders (always installed with the ERP) draws it as a card."""
    from plugins.orders import public as orders

    app = erp_app_factory(plugins=["orders", *REQUIRED, PLUGIN])
    with app.app_context():
        customer_id = orders.create_customer("Li Lei", "138 0013 8000").id
        db.session.add(Note(text="Prefers morning delivery"))
        db.session.commit()
    client = app.test_client()
    login(client, app, make_user(app, perms=["orders.customers.view", "__plugin__.view"]))
    page = client.get(f"/orders/customers/{customer_id}").get_data(as_text=True)
    assert 'data-testid="__plugin__-panel"' in page and "Prefers morning delivery" in page
    client = app.test_client()
    login(client, app, make_user(app, perms=["orders.customers.view"]))
    page = client.get(f"/orders/customers/{customer_id}").get_data(as_text=True)
    assert "Prefers morning delivery" not in page  # the panel needs __plugin__.view


def test_its_own_pages_get_its_style_sheet(erp_app_factory):
    """erp_extra_css_urls: linked on the plugin's pages, served from its static folder."""
    app = erp_app_factory(plugins=PLUGINS)
    client = app.test_client()
    login(client, app, make_user(app, perms=["__plugin__.view"]))
    page = client.get("/__plugin__/").get_data(as_text=True)
    assert '<link rel="stylesheet" href="/__plugin__/static/__plugin__.css">' in page
    assert client.get("/__plugin__/static/__plugin__.css").status_code == 200
    assert "__plugin__.css" not in client.get("/dashboard").get_data(as_text=True)

def test_its_catalog_is_complete_and_compiled():
    """After changing texts: `erp i18n update <package folder>`, translate, `erp i18n compile`."""
    assert_catalog_complete("erp___plugin__")
