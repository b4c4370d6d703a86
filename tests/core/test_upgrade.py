"""Upgrades: a database made by an earlier release upgrades with ``erp db upgrade`` without loss.

Each released schema is frozen in ``tests/fixtures/schemas/<version>.json.gz`` (made by
``make_schema_fixture.py`` from that release's demo site): its Alembic heads and every row. The
test builds that schema with the migrations up to those heads, loads the rows as they were stored,
runs ``erp db upgrade`` and checks that every row is still there and the pages still open.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Boolean, DateTime, LargeBinary, MetaData, func, select, text

from erp_core.extensions import db
from erp_core.migrate import current_heads, pending, upgrade
from erp_core.testing import login
from tests.core.test_cli import _check_login, site, site_db  # noqa: F401  (fixtures)

FIXTURES = sorted((Path(__file__).resolve().parents[1] / "fixtures" / "schemas").glob("*.json.gz"))
FIXTURE_ADMIN_PASSWORD = "fixture-pass-1"  # what the fixtures' demo sites were made with


def _load_fixture(path: Path) -> dict:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def _value_for(column, value, dialect: str):
    """A stored SQLite value as the other backend takes it (the text is cast by the database)."""
    if value is None:
        return None
    if isinstance(column.type, LargeBinary):
        return bytes.fromhex(value)
    if dialect == "sqlite":
        return value
    if isinstance(column.type, Boolean):
        return bool(value)
    if isinstance(column.type, DateTime):
        moment = datetime.fromisoformat(value)
        return moment.isoformat() + ("+00:00" if moment.tzinfo is None else "")
    return value if isinstance(value, str) else (value if isinstance(value, bool) else str(value))


def load_rows(fixture: dict) -> None:
    """Insert every fixture row into the (old-schema) tables, parents before children."""
    engine = db.engine
    dialect = engine.dialect.name
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):  # rows the migrations seeded are in the fixture too
            if table.name in fixture["tables"]:
                conn.execute(table.delete())
        for table in metadata.sorted_tables:
            data = fixture["tables"].get(table.name)
            if not data or not data["rows"]:
                continue
            columns = [table.c[name] for name in data["columns"]]
            names = ", ".join(f'"{c.name}"' for c in columns)
            cast = [f"CAST(:c{i} AS {c.type.compile(engine.dialect)})" if dialect == "postgresql" else f":c{i}"
                    for i, c in enumerate(columns)]
            statement = text(f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join(cast)})')
            conn.execute(statement, [{f"c{i}": _value_for(c, v, dialect) for i, (c, v) in enumerate(zip(columns, row))}
                                     for row in data["rows"]])
            if dialect == "postgresql" and "id" in table.c and table.c.id.primary_key:
                conn.execute(text("SELECT setval(pg_get_serial_sequence(:t, 'id'), "
                                  f'(SELECT max(id) FROM "{table.name}"))'), {"t": table.name})


def _counts(names) -> dict[str, int]:
    metadata = MetaData()
    metadata.reflect(db.engine, only=list(names))
    with db.engine.connect() as conn:
        return {name: conn.scalar(select(func.count()).select_from(metadata.tables[name])) for name in names}


@pytest.mark.parametrize("fixture_path", FIXTURES, ids=[p.name.removesuffix(".json.gz") for p in FIXTURES])
def test_a_released_schema_upgrades_to_the_newest_without_loss(site, fixture_path):  # noqa: F811 (the fixture)
    from erp_core.config import write_instance_config

    fixture = _load_fixture(fixture_path)
    write_instance_config(site.folder, {"secret_key": "an-operator-made-secret"})
    old = site.app()
    with old.app_context():
        for head in fixture["heads"]:
            upgrade(head)
        assert current_heads() == set(fixture["heads"])
        load_rows(fixture)
        db.session.remove()
        db.engine.dispose()

    result = site.erp("db", "upgrade")
    assert result.exit_code == 0, result.output

    app = site.app()
    tables = {name for name, data in fixture["tables"].items() if data["rows"]}
    with app.app_context():
        assert not pending()
        counts, expected = _counts(tables), {name: len(fixture["tables"][name]["rows"]) for name in tables}
        # Permissions added since the release are synced in (and granted to their default roles).
        grown = {"core_permission", "core_role_permission"}
        assert {k: v for k, v in counts.items() if k not in grown} == {
            k: v for k, v in expected.items() if k not in grown}
        assert all(counts[name] >= expected[name] for name in grown & tables)
        orders = fixture["tables"]["orders_order"]
        number_at = orders["columns"].index("number")
        total_at = orders["columns"].index("total_minor")
        numbers = {row[number_at]: row[total_at] for row in orders["rows"]}
        from plugins.orders.models import Order

        assert {o.number: o.total_minor for o in db.session.scalars(select(Order))} == numbers
        admin_id = db.session.execute(text("SELECT id FROM core_user WHERE username = 'admin'")).scalar_one()
        last_order = db.session.scalar(select(Order).order_by(Order.id.desc()).limit(1))
        last_number, last_id = last_order.number, last_order.id
    assert _check_login(app, "admin", FIXTURE_ADMIN_PASSWORD)  # password hashes survive

    client = app.test_client()
    login(client, app, admin_id)
    for path in ("/dashboard", "/orders/", f"/orders/{last_id}", "/inventory/", "/inventory/moves", "/logistics/",
                 "/finance/payments", "/finance/reports", "/support/", "/support/returns", "/support/csat",
                 "/admin/audit"):
        response = client.get(path)
        assert response.status_code == 200, path
    assert last_number in client.get(f"/orders/{last_id}").get_data(as_text=True)


def test_every_fixture_is_older_than_or_equal_to_the_newest_schema():
    """A fixture names heads the migrations still know, so no released database is stranded."""
    from alembic.script import ScriptDirectory

    from erp_core.app import create_app
    from erp_core.migrate import alembic_config
    from tests.conftest import base_config

    app = create_app(base_config("sqlite://"))
    with app.app_context():
        script = ScriptDirectory.from_config(alembic_config())
        known = {rev.revision for rev in script.walk_revisions()}
    for path in FIXTURES:
        assert set(_load_fixture(path)["heads"]) <= known, path.name
