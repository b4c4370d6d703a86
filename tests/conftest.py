"""Fixtures: apps with a chosen set of plugins, on SQLite and (when set) PostgreSQL.

``ERP_TEST_DATABASE_URL`` switches every database test to that PostgreSQL database (the suite
creates and empties its own tables there; with pytest-xdist each worker uses its own database
named after it, created on demand). ``ERP_TEST_REDIS_URL`` enables the tests against real Redis.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from erp_core.app import create_app
from erp_core.extensions import db
from erp_core.testing import config_for_tests

from tests.helpers import login, make_user

PG_URL = os.environ.get("ERP_TEST_DATABASE_URL") or None
REDIS_URL = os.environ.get("ERP_TEST_REDIS_URL") or None
ROOT = Path(__file__).resolve().parent.parent


def _worker_pg_url() -> str | None:
    if not PG_URL:
        return None
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return PG_URL
    url = make_url(PG_URL)
    name = f"{url.database}_{worker}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_url():
    """The PostgreSQL database of this test process, or None on SQLite runs.

    Under pytest-xdist each worker gets its own database, made here and dropped at the end.
    """
    url = _worker_pg_url()
    yield url
    if url and url != PG_URL:
        admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def backend(pg_url):
    return "postgresql" if pg_url else "sqlite"


@pytest.fixture
def empty_database_url(tmp_path, pg_url):
    """URL of a brand-new, empty database: a SQLite file, or a PostgreSQL database created here
    (and dropped afterwards) on the server of ERP_TEST_DATABASE_URL."""
    if not pg_url:
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    import uuid

    url = make_url(pg_url)
    name = f"erp_empty_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def base_config(database_url: str, plugins=None, **extra) -> dict:
    return config_for_tests(database_url, plugins, **extra)


def reset_postgres(app) -> None:
    """Create missing tables and empty every table of the metadata (fast, keeps the schema)."""
    with app.app_context():
        engine = db.engine
        db.metadata.create_all(engine, checkfirst=True)
        present = set(inspect(engine).get_table_names())
        tables = [t.name for t in db.metadata.sorted_tables if t.name in present]
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))


def prepare_schema(app) -> None:
    from erp_core.auth.services import sync_roles_and_permissions

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            db.metadata.create_all(db.engine)
        sync_roles_and_permissions()
        db.session.commit()


@pytest.fixture
def make_app(tmp_path, pg_url, request):
    """Build an app: ``make_app(plugins=[...], enabled=[...], **config)``.

    Apps made in one test share one database (so two apps can prove cross-process behaviour).
    """
    made = []
    state = {"reset": False}
    sqlite_url = f"sqlite:///{tmp_path / 'test.sqlite'}"

    def factory(plugins=None, enabled=None, instance=None, **config):
        url = config.pop("DATABASE_URL", None) or pg_url or sqlite_url
        if enabled is not None:
            config["PLUGINS_ENABLED"] = list(enabled)
        app = create_app(base_config(url, plugins, **config), instance=instance or tmp_path / "instance")
        if url.startswith("postgresql") and not state["reset"]:
            reset_postgres(app)
            state["reset"] = True
        prepare_schema(app)
        made.append(app)
        return app

    yield factory
    for app in made:
        with app.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def admin_client(app, client):
    user_id = make_user(app, roles=["admin"], username="admin")
    login(client, app, user_id)
    return client
