"""Test databases: a SQLite file, or PostgreSQL on the server named by ``ERP_TEST_DATABASE_URL``.

The project's suite and plugin authors' suites share these (through ``erp_core.testing.fixtures``):
with ``ERP_TEST_DATABASE_URL`` unset every test runs on SQLite; set to a PostgreSQL URL, each test
process (each pytest-xdist worker) gets a database of its own on that server, created on demand and
dropped at the end, whose tables are emptied before each test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from ..extensions import db

ENV = "ERP_TEST_DATABASE_URL"


def server_url() -> str | None:
    """The PostgreSQL URL tests should use, or None for SQLite."""
    return os.environ.get(ENV) or None


def _admin(url: str):
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def create_database(url: str, name: str) -> str:
    """Create database ``name`` (unless it exists) on the server of ``url``; return its URL."""
    admin = _admin(url)
    try:
        with admin.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop the database of ``url`` (closing its connections)."""
    admin = _admin(url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def worker_database_url() -> str | None:
    """This test process's PostgreSQL database (one per pytest-xdist worker), or None on SQLite."""
    url = server_url()
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    return create_database(url, f"{make_url(url).database}_{worker}")


@contextmanager
def fresh_database(folder: Path, prefix: str = "erp_fresh") -> Iterator[str]:
    """URL of a brand-new, empty database for one test: a SQLite file in ``folder``, or a
    PostgreSQL database created on the test server and dropped afterwards."""
    url = server_url()
    if not url:
        yield f"sqlite:///{folder / f'{prefix}_{uuid.uuid4().hex[:8]}.sqlite'}"
        return
    name = f"{make_url(url).database or 'erp'}_{prefix}_{uuid.uuid4().hex[:8]}"[:63]
    fresh = create_database(url, name)
    try:
        yield fresh
    finally:
        drop_database(fresh)


def empty_tables(app) -> None:
    """Create missing tables and empty every table of the metadata (fast: the schema stays)."""
    with app.app_context():
        engine = db.engine
        db.metadata.create_all(engine, checkfirst=True)
        present = set(inspect(engine).get_table_names())
        tables = [t.name for t in db.metadata.sorted_tables if t.name in present]
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
