"""Data migrations to system texts: recognise sentences stored in English or Chinese before they
were kept as message keys (:func:`erp_core.i18n.system_text`) and store the key and parameters.

A plugin's migration freezes the sentences it once wrote (msgid and translations) and calls
:func:`convert_column` per column; a value that matches none stays as typed text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable

import sqlalchemy as sa

Pattern = tuple[str, Iterable[str]]  # (key, sentences with %(name)s placeholders)


def _regex(sentence: str) -> re.Pattern:
    parts = re.split(r"%\((\w+)\)[sd]", sentence)
    out = []
    for index, part in enumerate(parts):
        out.append(f"(?P<{part}>.+?)" if index % 2 else re.escape(part.replace("%%", "%")))
    return re.compile("^" + "".join(out) + "$", re.DOTALL)


def compile_patterns(patterns: Iterable[Pattern]) -> list[tuple[str, re.Pattern]]:
    """Regular expressions of every language's sentence, per key."""
    return [(key, _regex(sentence)) for key, sentences in patterns for sentence in sentences]


def recognise(text: str, compiled: list[tuple[str, re.Pattern]],
              params: Callable[[str, dict], dict] | None = None) -> str | None:
    """The stored system text of ``text``, or ``None`` when it is no known sentence."""
    if not isinstance(text, str) or not text or text.startswith('{"key":'):
        return None
    for key, regex in compiled:
        match = regex.match(text.strip())
        if match:
            found = match.groupdict()
            if params is not None:
                found = params(key, found)
            return json.dumps({"key": key, "params": found}, ensure_ascii=False, separators=(",", ":"))
    return None


def convert_column(conn, table: str, column: str, patterns: Iterable[Pattern], *, key_column: str = "id",
                   where: str | None = None, params: Callable[[str, dict], dict] | None = None) -> int:
    """Rewrite the recognised values of ``table.column`` as system texts; returns how many."""
    compiled = compile_patterns(patterns)
    meta = sa.MetaData()
    t = sa.Table(table, meta, autoload_with=conn)
    stmt = sa.select(t.c[key_column], t.c[column]).where(t.c[column].is_not(None))
    if where:
        stmt = stmt.where(sa.text(where))
    changed = 0
    for row_id, value in conn.execute(stmt).all():
        stored = recognise(value, compiled, params)
        if stored is not None:
            conn.execute(t.update().where(t.c[key_column] == row_id).values({column: stored}))
            changed += 1
    return changed


def table_exists(conn, table: str) -> bool:
    """Whether another plugin's table is there (its branch may not be installed)."""
    return sa.inspect(conn).has_table(table)


def _plain(value) -> str:
    if isinstance(value, dict):
        return str(value.get("date") or value.get("datetime") or value.get("msgid") or value.get("money") or "")
    return str(value)


def revert_column(conn, table: str, column: str, patterns: Iterable[Pattern], *, key_column: str = "id") -> int:
    """For a downgrade: the system texts of ``patterns`` back to their first (English) sentence."""
    english = {key: list(sentences)[0] for key, sentences in patterns}
    meta = sa.MetaData()
    t = sa.Table(table, meta, autoload_with=conn)
    changed = 0
    rows = conn.execute(sa.select(t.c[key_column], t.c[column]).where(t.c[column].like('{"key":%'))).all()
    for row_id, value in rows:
        try:
            data = json.loads(value)
            sentence = english[data["key"]]
            text = sentence % {k: _plain(v) for k, v in data.get("params", {}).items()}
        except (ValueError, KeyError, TypeError):
            continue
        conn.execute(t.update().where(t.c[key_column] == row_id).values({column: text}))
        changed += 1
    return changed
