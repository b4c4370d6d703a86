"""Database plumbing: UTC timestamps, SQLite pragmas and write transactions, counters.

SQLite gets WAL, foreign keys and a busy timeout on every connection. Transactions in requests
that may write (anything but GET/HEAD/OPTIONS) and in CLI commands and jobs start with
``BEGIN IMMEDIATE`` so that two writers queue on the busy timeout instead of one failing with
"database is locked" when it upgrades a read lock.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import has_request_context, request
from sqlalchemy import DateTime, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The largest value of an INTEGER id column: a larger id cannot exist, and PostgreSQL refuses to
# compare one with an integer column, so callers answer "not found" before asking.
MAX_ID = 2**31 - 1


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime stored in UTC on every backend.

    Naive values are refused: a naive datetime is a bug waiting to happen across time zones.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use erp_core.timeutil.utcnow()")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _wants_write_lock() -> bool:
    if has_request_context():
        return request.method not in READ_METHODS
    return True


def configure_engine(engine: Engine, busy_timeout: int) -> None:
    """Attach the SQLite connection and transaction behaviour to ``engine`` (no-op elsewhere)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "do_connect")
    def _create_private(dialect, conn_rec, cargs, cparams):
        create_private_file(engine.url.database)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout) * 1000}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write_lock() else "BEGIN")


def create_private_file(path: str | None) -> None:
    """Create a missing SQLite database file readable by its owner only (0600), whatever the umask.

    SQLite gives its -wal and -shm files the database file's mode, so they stay private too.
    """
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError:
        return  # a missing folder: SQLite itself reports it, with its own message
    os.fchmod(fd, 0o600)
    os.close(fd)


def next_counter(session, key: str) -> int:
    """Return the next value of the named counter, inside the caller's transaction.

    The counter row is bumped with one UPDATE ... RETURNING, which row-locks it on PostgreSQL
    and runs under the write lock on SQLite, so concurrent callers get distinct consecutive
    values; a rolled-back transaction gives its number back, which keeps sequences gap-free.
    """
    from .models import Counter

    stmt = text("UPDATE core_counter SET value = value + 1 WHERE key = :key RETURNING value")
    value = session.execute(stmt, {"key": key}).scalar()
    if value is not None:
        return int(value)
    # First use of this key: create it. A concurrent creator makes us retry the UPDATE.
    from sqlalchemy.exc import IntegrityError

    try:
        with session.begin_nested():
            session.add(Counter(key=key, value=1))
            session.flush()
        return 1
    except IntegrityError:
        return int(session.execute(stmt, {"key": key}).scalar_one())
