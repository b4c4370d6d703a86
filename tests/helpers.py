"""Helpers shared by the tests: users with chosen permissions, sign-in, SQL counting."""

from __future__ import annotations

import itertools

from erp_core.extensions import db

_counter = itertools.count(1)


def make_user(app, *, perms=(), roles=(), username=None, password="correct-horse-battery", **fields):
    """Create a user holding exactly ``perms`` (through a role made for them) plus ``roles``."""
    from erp_core.auth import services
    from erp_core.auth.models import Role, RolePermission

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
    from erp_core.auth.models import User

    with app.app_context():
        session_id = db.session.get(User, user_id).get_id()
    with client.session_transaction() as sess:
        sess["_user_id"] = session_id
        sess["_fresh"] = True


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
