"""The migrations build exactly the models' schema, on SQLite and PostgreSQL."""

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from erp_core.app import create_app
from erp_core.extensions import db
from erp_core.migrate import include_object_for, pending, upgrade
from tests.conftest import base_config


@pytest.fixture
def empty_database(tmp_path, pg_url):
    """A brand-new database: a SQLite file, or a PostgreSQL database created (and dropped) here."""
    if not pg_url:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite'}"
        return
    url = make_url(pg_url)
    name = f"erp_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migrations_give_exactly_the_models_schema(empty_database, tmp_path):
    app = create_app(base_config(empty_database), instance=tmp_path)
    with app.app_context():
        assert pending()
        upgrade()
        assert not pending()
        loaded = ["core", *app.extensions["erp_plugins"].loaded_names]
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True, "include_object": include_object_for(None, loaded)})
            diff = compare_metadata(context, db.metadata)
        assert diff == []
        tables = set(inspect(db.engine).get_table_names())
        assert {"core_user", "core_audit_log", "core_plugin_state"} <= tables
        upgrade()  # running it again is harmless
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
