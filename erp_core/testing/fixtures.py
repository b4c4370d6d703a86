"""pytest fixtures for plugin authors and the project (``pytest_plugins = ["erp_core.testing.fixtures"]``).

``ERP_TEST_DATABASE_URL`` (a PostgreSQL URL) switches every test from SQLite to PostgreSQL; see
:mod:`erp_core.testing.databases`.
"""

from __future__ import annotations

import pytest

from ..extensions import db
from . import build_app, plugin_switched_off
from .databases import drop_database, empty_tables, fresh_database, server_url, worker_database_url


@pytest.fixture(scope="session")
def erp_pg_url():
    """This test process's PostgreSQL database, or None on SQLite runs (dropped at the end when
    it was made for a pytest-xdist worker)."""
    url = worker_database_url()
    yield url
    if url and url != server_url():
        drop_database(url)


@pytest.fixture
def erp_database_url(tmp_path):
    """URL of a brand-new, empty database for this test (SQLite file, or PostgreSQL made and dropped)."""
    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture
def erp_app_factory(tmp_path, erp_pg_url):
    """``erp_app_factory(plugins=[...], enabled=[...], migrate=False, instance=None, **config)`` -> an app.

    Apps made in one test share one database (two apps stand for two processes of one site): a
    SQLite file, or this process's PostgreSQL database emptied before the test. With ``migrate``
    the schema is built by the real migrations, on a database of its own on PostgreSQL.
    ``DATABASE_URL=...`` picks the database yourself.
    """
    made, fresh = [], []
    state = {"emptied": False}

    def factory(plugins=None, enabled=None, migrate=False, instance=None, **config):
        url = config.pop("DATABASE_URL", None)
        if url is None and migrate and erp_pg_url:
            manager = fresh_database(tmp_path, "erp_migrated")
            url = manager.__enter__()
            fresh.append(manager)
        url = url or erp_pg_url or f"sqlite:///{tmp_path / 'test.sqlite'}"
        if enabled is not None:
            config["PLUGINS_ENABLED"] = list(enabled)
        shared_pg = url == erp_pg_url
        empty_first = shared_pg and not state["emptied"]
        app = build_app(url, instance or tmp_path / "instance", plugins, migrate=migrate, create_tables=not shared_pg,
                        before_schema=empty_tables if empty_first else None, **config)
        state["emptied"] = state["emptied"] or empty_first
        made.append(app)
        return app

    yield factory
    for app in made:
        with app.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
    for manager in fresh:
        manager.__exit__(None, None, None)


@pytest.fixture
def erp_plugin_off(erp_app_factory):
    """``erp_plugin_off(app, name, dependents=True)``: switch a plugin (and the enabled plugins that
    need it) off until the test ends, then back on (see :func:`erp_core.testing.plugin_switched_off`);
    returns the names switched off."""
    from contextlib import ExitStack

    with ExitStack() as stack:
        yield lambda app, name, dependents=True: stack.enter_context(
            plugin_switched_off(app, name, dependents=dependents))


@pytest.fixture
def smtp_server_factory(tmp_path):
    """``smtp_server_factory(security="none"|"starttls"|"ssl", users={"name": "password"})`` ->
    a real SMTP server on 127.0.0.1 (:class:`erp_core.testing.smtp.SMTPTestServer`), stopped
    after the test."""
    from .smtp import SMTPTestServer

    started = []

    def factory(security: str = "none", users: dict[str, str] | None = None):
        server = SMTPTestServer(tmp_path, security, users)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


@pytest.fixture
def smtp_server(smtp_server_factory):
    """A plain SMTP server on 127.0.0.1: ``host``, ``port``, ``messages`` (what it received),
    ``app_config()`` (the ``MAIL_*`` settings that send through it)."""
    return smtp_server_factory()
