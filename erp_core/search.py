"""The header search: one box that asks every enabled plugin (``erp_search``) for its records.

Helpers here build the indexed conditions plugins use: :func:`prefix` (a LIKE served by a
btree index: ``varchar_pattern_ops`` on PostgreSQL, a range on SQLite's binary order) and
:func:`contains` (a substring of a lower-cased search column, served by a pg_trgm GIN index on
PostgreSQL where the extension exists, a scan otherwise).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from .contrib import SearchResult
from .extensions import db

log = logging.getLogger(__name__)

MAX_QUERY = 100
DEFAULT_LIMIT = 10


@dataclass
class SearchGroup:
    """The results of one kind, as the /search page shows them."""

    kind: str
    label: Any
    order: int
    results: list[SearchResult] = field(default_factory=list)


def clean_query(text: str | None) -> str:
    """The query as searched: trimmed, inner runs of spaces made one, at most 100 characters."""
    return " ".join(str(text or "").split())[:MAX_QUERY]


def escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards escaped (use with ``escape="\\\\"``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def prefix(column, text: str):
    """``column`` starts with ``text``, in a form an ordinary index on ``column`` serves: a range
    on SQLite (binary order), ``LIKE 'text%'`` on PostgreSQL (needs a ``varchar_pattern_ops``
    index, or the C collation)."""
    if db.engine.dialect.name == "sqlite":
        return column.between(text, text + "\U0010ffff")
    return column.like(escape_like(text) + "%", escape="\\")


def contains(column, text: str):
    """``column`` (a lower-cased search column) contains ``text`` lower-cased. On PostgreSQL a GIN
    ``gin_trgm_ops`` index serves it for 3 characters or more; elsewhere it scans."""
    return column.like("%" + escape_like(text.lower()) + "%", escape="\\")


def run_search(query: str, user, limit: int = DEFAULT_LIMIT) -> list[SearchGroup]:
    """Ask every enabled plugin for records matching ``query`` that ``user`` may see, grouped by
    kind (in the groups' ``order``), at most ``limit`` per kind. An empty query finds nothing."""
    query = clean_query(query)
    if not query:
        return []
    manager = current_app.extensions["erp_plugins"]
    groups: dict[str, SearchGroup] = {}
    for result in manager.collect("erp_search", query=query, user=user, limit=limit):
        group = groups.get(result.kind)
        if group is None:
            group = groups[result.kind] = SearchGroup(result.kind, result.kind_label, result.order)
        if len(group.results) < limit:
            group.results.append(result)
    return sorted(groups.values(), key=lambda g: (g.order, g.kind))


# ----------------------------------------------------------------------------- migrations

SEARCH_INDEX_SUFFIX = "_search"


def create_search_indexes(op, table: str, *, prefix_columns=(), substring_columns=()) -> None:
    """In a migration: the PostgreSQL indexes that serve :func:`prefix` (``varchar_pattern_ops``
    btree) and :func:`contains` (``gin_trgm_ops`` GIN, when the pg_trgm extension exists or can
    be created; without it the substring search scans). Nothing on SQLite, whose ordinary
    indexes serve the prefix ranges. The indexes are named ``<table>_<column>_search`` and are
    not part of the models (the migration check leaves them out)."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for column in prefix_columns:
        op.execute(f'CREATE INDEX IF NOT EXISTS {table}_{column}{SEARCH_INDEX_SUFFIX} '
                   f'ON {table} ({column} varchar_pattern_ops)')
    if substring_columns and _trigram_available(bind):
        for column in substring_columns:
            op.execute(f'CREATE INDEX IF NOT EXISTS {table}_{column}_trgm{SEARCH_INDEX_SUFFIX} '
                       f'ON {table} USING gin ({column} gin_trgm_ops)')


def drop_search_indexes(op, table: str, *, prefix_columns=(), substring_columns=()) -> None:
    """Undo :func:`create_search_indexes` (the extension stays)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in prefix_columns:
        op.execute(f"DROP INDEX IF EXISTS {table}_{column}{SEARCH_INDEX_SUFFIX}")
    for column in substring_columns:
        op.execute(f"DROP INDEX IF EXISTS {table}_{column}_trgm{SEARCH_INDEX_SUFFIX}")


def _trigram_available(bind) -> bool:
    """Whether pg_trgm is installed, installing it when the role may (in a savepoint, so a
    refusal leaves the migration's transaction usable)."""
    from sqlalchemy import text

    if bind.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).scalar():
        return True
    savepoint = bind.begin_nested()
    try:
        bind.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except Exception:  # noqa: BLE001  (no right to create it, or not shipped: search still works)
        savepoint.rollback()
        log.warning("pg_trgm could not be created; name search will scan")
        return False
    savepoint.commit()
    return True
