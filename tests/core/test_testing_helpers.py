"""The helpers plugin authors' tests use: switching a plugin off for a block or a test."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from erp_core.extensions import db
from erp_core.models import AuditLog
from erp_core.testing import plugin_switched_off
from tests.helpers import login, make_user

ALPHA = "alpha=tests.core.fakeplugins.alpha"
BETA = "beta=tests.core.fakeplugins.beta"


@pytest.fixture
def site(make_app):
    app = make_app(plugins=[ALPHA, BETA])
    client = app.test_client()
    login(client, app, make_user(app, roles=["admin"]))
    return app, client


def _enabled(app):
    with app.app_context():
        return set(app.extensions["erp_plugins"].enabled())


def test_a_plugin_and_those_needing_it_are_off_in_the_block_and_back_on_after(site):
    app, client = site
    with plugin_switched_off(app, "alpha") as names:
        assert names == ["beta", "alpha"]
        assert _enabled(app) == set() and client.get("/alpha/").status_code == 404
    assert _enabled(app) == {"alpha", "beta"} and client.get("/alpha/").status_code == 200
    with app.app_context():
        actions = [(e.object_id, e.action) for e in db.session.scalars(
            select(AuditLog).where(AuditLog.object_type == "plugin").order_by(AuditLog.id))]
    assert actions == [("beta", "disabled"), ("alpha", "disabled"), ("alpha", "enabled"), ("beta", "enabled")]


def test_it_works_in_the_callers_context_and_restores_after_a_failure(site):
    app, _client = site
    with app.test_request_context():
        manager = app.extensions["erp_plugins"]
        with pytest.raises(RuntimeError), plugin_switched_off(app, "beta") as names:
            assert names == ["beta"] and not manager.is_enabled("beta") and manager.is_enabled("alpha")
            raise RuntimeError("the test failed here")
        assert manager.is_enabled("beta")
    assert _enabled(app) == {"alpha", "beta"}


def test_without_dependents_a_needed_plugin_is_refused_and_one_already_off_stays_off(site):
    from erp_core.plugins import PluginError

    app, _client = site
    with pytest.raises(PluginError, match="beta needs it"), plugin_switched_off(app, "alpha", dependents=False):
        pass  # pragma: no cover
    with plugin_switched_off(app, "beta"), plugin_switched_off(app, "alpha") as names:
        assert names == ["alpha"]  # beta was off already
    assert _enabled(app) == {"alpha", "beta"}


@pytest.fixture
def site_checked_after(make_app):
    """A site whose plugins must all be on again once the test's later fixtures are torn down."""
    app = make_app(plugins=[ALPHA, BETA])
    yield app
    assert _enabled(app) == {"alpha", "beta"}  # erp_plugin_off (set up later) was torn down first


def test_the_fixture_switches_off_until_the_test_ends(site_checked_after, erp_plugin_off):
    app = site_checked_after
    assert erp_plugin_off(app, "alpha") == ["beta", "alpha"]
    assert _enabled(app) == set()
