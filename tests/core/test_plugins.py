"""Plugin discovery, dependency order, failure isolation and switching without restart."""

import logging

import pytest

from erp_core.extensions import db
from erp_core.plugins import PluginError, PluginManager, switch_plugin
from tests.core.fakeplugins import alpha
from tests.helpers import login, make_user

ALPHA = "alpha=tests.core.fakeplugins.alpha"
BETA = "beta=tests.core.fakeplugins.beta"
BROKEN = "broken=tests.core.fakeplugins.broken"
NOMETA = "nometa=tests.core.fakeplugins.nometa"


def test_dependency_order_is_resolved_whatever_the_listed_order(make_app):
    app = make_app(plugins=[BETA, ALPHA])
    assert app.extensions["erp_plugins"].loaded_names == ["alpha", "beta"]


def test_missing_dependency_is_reported_and_the_rest_runs(make_app):
    app = make_app(plugins=[BETA])
    manager = app.extensions["erp_plugins"]
    assert manager.loaded_names == []
    [failed] = manager.failed
    assert failed.name == "beta" and "'alpha'" in failed.error


def test_broken_plugin_is_isolated_logged_and_shown_on_admin_page(make_app, caplog):
    caplog.set_level(logging.ERROR)
    app = make_app(plugins=[ALPHA, BROKEN, NOMETA, "doesnotexist"])
    manager = app.extensions["erp_plugins"]
    assert manager.loaded_names == ["alpha"]
    errors = {r.name: r.error for r in manager.failed}
    assert "boom at import" in errors["broken"]
    assert "meta" in errors["nometa"]
    assert "no plugin named 'doesnotexist'" in errors["doesnotexist"]
    assert "broken" in caplog.text
    client = app.test_client()
    login(client, app, make_user(app, roles=["admin"]))
    page = client.get("/admin/plugins").get_data(as_text=True)
    assert "boom at import" in page and "doesnotexist" in page
    assert client.get("/alpha/").status_code == 200  # the rest of the site serves


def test_unknown_enabled_name_gives_a_one_line_warning(make_app, caplog):
    caplog.set_level(logging.WARNING)
    app = make_app(plugins=[ALPHA], enabled=["alpha", "ghost"])
    with app.app_context():
        assert app.extensions["erp_plugins"].enabled() == {"alpha"}
    assert "ghost" in caplog.text


def test_entry_points_are_not_loaded_in_tests_unless_asked(make_app, monkeypatch):
    class FakeEP:
        name = "gamma"
        value = "tests.core.fakeplugins.alpha"
        dist = None

        def load(self):
            raise AssertionError("must not be loaded")

    monkeypatch.setattr("erp_core.plugins._entry_points", lambda: [FakeEP()])
    app = make_app(plugins=[])
    assert "gamma" not in app.extensions["erp_plugins"].records


def test_entry_point_plugin_is_loaded_when_asked(make_app, monkeypatch):
    import tests.core.fakeplugins.alpha as module

    class FakeEP:
        name = "alpha"
        value = "tests.core.fakeplugins.alpha"
        dist = None

        def load(self):
            return module

    monkeypatch.setattr("erp_core.plugins._entry_points", lambda: [FakeEP()])
    app = make_app(plugins=[], LOAD_ENTRY_POINTS=True)
    record = app.extensions["erp_plugins"].records["alpha"]
    assert record.loaded and "entry point" in record.source and not record.builtin


def test_switch_refuses_to_break_dependencies_naming_both(make_app):
    app = make_app(plugins=[ALPHA, BETA])
    with app.app_context():
        with pytest.raises(PluginError) as refused:
            switch_plugin("alpha", False)
        assert "alpha" in str(refused.value) and "beta" in str(refused.value)
        switch_plugin("beta", False)
        switch_plugin("alpha", False)
        db.session.commit()
        with pytest.raises(PluginError) as refused:
            switch_plugin("beta", True)
        assert "alpha" in str(refused.value) and "beta" in str(refused.value)


def test_switch_holds_in_another_process_on_its_next_request(make_app):
    """Two app objects on one database stand for two worker processes."""
    first = make_app(plugins=[ALPHA])
    second = make_app(plugins=[ALPHA])
    admin = make_user(first, roles=["admin"])
    c1, c2 = first.test_client(), second.test_client()
    login(c1, first, admin)
    login(c2, second, admin)
    assert c2.get("/alpha/").status_code == 200
    assert c1.post("/admin/plugins/alpha/disable").status_code == 302
    assert c2.get("/alpha/").status_code == 404
    assert c1.post("/admin/plugins/alpha/enable").status_code == 302
    assert c2.get("/alpha/").status_code == 200


def test_disabled_plugin_vanishes_but_its_data_stays(make_app):
    app = make_app(plugins=[ALPHA])
    admin = make_user(app, roles=["admin"])
    client = app.test_client()
    login(client, app, admin)
    with app.app_context():
        db.session.add(alpha.AlphaNote(text="keep me"))
        db.session.commit()
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "alpha for" in dashboard and "Alpha menu" in dashboard
    assert "Alpha block" in client.get("/").get_data(as_text=True)

    client.post("/admin/plugins/alpha/disable")
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Alpha menu" not in dashboard and "alpha for" not in dashboard
    assert "Alpha block" not in client.get("/").get_data(as_text=True)
    assert client.get("/alpha/").status_code == 404
    assert client.get("/alpha/open").status_code == 404
    with app.app_context():
        manager = app.extensions["erp_plugins"]
        assert manager.hook.erp_order_validate_transition(order=None, old_status="a", new_status="forbidden") == []
        assert db.session.query(alpha.AlphaNote).count() == 1

    client.post("/admin/plugins/alpha/enable")
    assert client.get("/alpha/").get_data(as_text=True) == "alpha page 1"


def test_a_plugin_without_tables_cannot_be_switched_on(make_app):
    app = make_app(plugins=[ALPHA])
    with app.app_context():
        switch_plugin("alpha", False)
        db.session.commit()
        alpha.AlphaNote.__table__.drop(db.engine)
        with pytest.raises(PluginError, match="erp db upgrade"):
            switch_plugin("alpha", True)


def test_the_admin_page_warns_of_missing_tables_and_refuses_to_switch_on(make_app):
    from erp_core.models import PluginState

    app = make_app(plugins=[ALPHA])
    client = app.test_client()
    login(client, app, make_user(app, roles=["admin"]))
    assert 'data-testid="tables-missing-alpha"' not in client.get("/admin/plugins").get_data(as_text=True)
    with app.app_context():
        switch_plugin("alpha", False)
        db.session.commit()
        alpha.AlphaNote.__table__.drop(db.engine)
    page = client.get("/admin/plugins").get_data(as_text=True)
    assert 'data-testid="tables-missing-alpha"' in page
    assert "Its tables are missing (alpha_note)" in page and "<code>erp db upgrade</code>" in page

    answer = client.post("/admin/plugins/alpha/enable", follow_redirects=True)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "alpha has no tables yet (alpha_note): run `erp db upgrade` first." in page
    assert "is switched on" not in page
    with app.app_context():
        assert db.session.get(PluginState, "alpha").enabled is False
        assert "alpha" not in app.extensions["erp_plugins"].enabled()
    assert client.get("/alpha/").status_code == 404

    zh = client.get("/admin/plugins", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "alpha_note" in zh and "Its tables are missing" not in zh


def test_plugins_enabled_setting_gives_the_default(make_app):
    app = make_app(plugins=[ALPHA, BETA], enabled=["alpha"])
    with app.app_context():
        assert app.extensions["erp_plugins"].enabled() == {"alpha"}


def test_enabled_set_needs_each_requirement_enabled():
    manager = PluginManager({"PLUGINS": [ALPHA, BETA], "LOAD_ENTRY_POINTS": False})
    from erp_core.web import core_plugin

    manager.load(core_plugin)
    assert manager.effective_enabled({"alpha": False}) == frozenset()
    assert manager.effective_enabled({}) == {"alpha", "beta"}
