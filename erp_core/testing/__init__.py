"""Test helpers for plugin authors: build an app with chosen plugins, users with permissions.

Use them from a plugin's own test suite::

    # tests/conftest.py
    pytest_plugins = ["erp_core.testing.fixtures"]

    # tests/test_mine.py
    def test_page(erp_app_factory):
        app = erp_app_factory(plugins=["loyalty=erp_loyalty"])
        client = app.test_client()
        login(client, app, make_user(app, perms=["loyalty.view"]))
        assert client.get("/loyalty/").status_code == 200
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..app import create_app
from ..extensions import db
from .catalogs import assert_catalog_complete, catalog_problems

__all__ = ["QueryCounter", "allow_internal_webhooks", "api_token", "assert_catalog_complete", "bearer", "build_app",
           "catalog_problems", "config_for_tests", "login", "make_user", "plugin_switched_off"]

_counter = itertools.count(1)


def config_for_tests(database_url: str, plugins: list[str] | None = None, **extra) -> dict:
    """Configuration for a test app: cheap password hashing, no CSRF, no entry points."""
    from ..config import BUILTIN_PLUGINS

    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        "LOAD_ENTRY_POINTS": False,
        "PLUGINS": list(BUILTIN_PLUGINS if plugins is None else plugins),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "REDIS_URL": "",
        "MAIL_SERVER": "",
        # Queued jobs go through the jobs table and run right after each commit, in the
        # committing thread; a test that wants the real background runner passes "thread" or
        # "off" and drains with erp_core.jobs.run_pending(app) or starts erp_core.runner.Runner.
        "JOB_RUNNER": "inline",
    }
    config.update(extra)
    return config


def build_app(database_url: str, instance: Path, plugins: list[str] | None = None, *, migrate: bool = False,
              before_schema=None, create_tables: bool = True, **config):
    """An app with its schema ready (``create_all``, or the real migrations with ``migrate``),
    roles and permissions stored. ``before_schema(app)`` runs first (e.g. emptying the tables);
    ``create_tables=False`` trusts that the tables exist."""
    from ..auth.services import sync_roles_and_permissions
    from ..migrate import upgrade

    app = create_app(config_for_tests(database_url, plugins, **config), instance=instance)
    if before_schema is not None:
        before_schema(app)
    with app.app_context():
        if migrate:
            upgrade()
        elif create_tables:
            db.metadata.create_all(db.engine, checkfirst=True)
        sync_roles_and_permissions()
        db.session.commit()
    return app


def make_user(app, *, perms=(), roles=(), username=None, password="correct-horse-battery", **fields) -> int:
    """Create a user holding exactly ``perms`` (through a role made for them) plus ``roles``."""
    from ..auth import services
    from ..auth.models import Role, RolePermission

    with app.app_context():
        role_names = list(roles)
        if perms:
            role_name = f"test_role_{next(_counter)}"
            role = Role(name=role_name, title=role_name, builtin=False)
            role.grants = [RolePermission(code=c) for c in perms]
            db.session.add(role)
            db.session.flush()
            role_names.append(role_name)
        user = services.create_user(username or f"user{next(_counter)}", password, roles=role_names, **fields)
        db.session.commit()
        return user.id


def login(client, app, user_id: int) -> None:
    """Sign ``client`` in as the user (without going through the throttled form)."""
    from ..auth.models import User

    with app.app_context():
        session_id = db.session.get(User, user_id).get_id()
    with client.session_transaction() as sess:
        sess["_user_id"] = session_id
        sess["_fresh"] = True


def api_token(app, perms=(), roles=()) -> str:
    """A personal API token of a new user holding exactly ``perms`` plus ``roles``."""
    from ..api.tokens import create_token
    from ..auth.models import User

    user_id = make_user(app, perms=perms, roles=roles)
    with app.app_context():
        _row, clear = create_token(db.session.get(User, user_id), "test")
        db.session.commit()
    return clear


def allow_internal_webhooks(app, allowed: bool = True) -> None:
    """Let outgoing webhooks reach internal addresses (a test receiver on 127.0.0.1): the
    ``core.webhooks.allow_internal`` site setting, off by default (SSRF)."""
    from .. import settings

    with app.test_request_context():
        settings.set_many({"core.webhooks.allow_internal": allowed})
        db.session.commit()


def bearer(token: str, **extra) -> dict:
    """Request headers carrying ``token`` (and ``extra`` headers)."""
    return {"Authorization": f"Bearer {token}", **extra}


class QueryCounter:
    """Count SQL statements run on an engine inside a ``with`` block."""

    def __init__(self, engine):
        self.engine = engine
        self.statements: list[str] = []

    def _on_execute(self, conn, cursor, statement, *args):
        if not statement.strip().upper().startswith(("SAVEPOINT", "RELEASE", "BEGIN", "PRAGMA")):
            self.statements.append(statement)

    def __enter__(self):
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *exc):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._on_execute)

    @property
    def count(self) -> int:
        return len(self.statements)


def _needing(manager, name: str) -> set[str]:
    """Loaded plugins that need ``name``, directly or through another."""
    found: set[str] = set()
    for other in manager.loaded_names:
        requires = set(manager.records[other].meta.requires)
        if name in requires or requires & found:
            found.add(other)
    return found


@contextmanager
def plugin_switched_off(app, name: str, *, dependents: bool = True) -> Iterator[list[str]]:
    """Switch plugin ``name`` off for every process of ``app``'s site inside the ``with`` block,
    and back on when it ends (also when it fails), through the real switch (audited, refused
    when it would break a requirement)::

        with plugin_switched_off(app, "finance"):
            assert client.get("/finance/payments").status_code == 404
        assert client.get("/finance/payments").status_code == 200

    With ``dependents`` (the default) the enabled plugins that need it are switched off first and
    back on after it. Gives the names switched off. Works in the caller's app or request context
    of ``app`` (committing its session, as a switch must; work the block leaves uncommitted is
    rolled back at its end) or pushes one of its own. A plugin that was off already stays off.
    """
    from flask import current_app, has_app_context

    from ..plugins import switch_plugin

    def in_context(work):
        if has_app_context() and current_app._get_current_object() is app:
            work()
        else:
            with app.app_context():
                work()

    switched: list[str] = []

    def off():
        manager = app.extensions["erp_plugins"]
        enabled = manager.enabled()
        wanted = ({name} | (_needing(manager, name) if dependents else set())) & set(enabled)
        for plugin in reversed(manager.loaded_names):  # those needing it first
            if plugin in wanted:
                switch_plugin(plugin, False)
                switched.append(plugin)
        db.session.commit()

    def back_on():
        db.session.rollback()  # whatever the block left unfinished
        for plugin in reversed(switched):
            switch_plugin(plugin, True)
        db.session.commit()

    in_context(off)
    try:
        yield list(switched)
    finally:
        in_context(back_on)
