"""Audit entries in words: each change through its field's label and type, in the reader's language.

Plugins describe their records with ``erp_audit_vocabulary`` (:class:`erp_core.contrib.AuditVocabulary`);
:func:`describe` turns a page of :class:`erp_core.models.AuditLog` rows into :class:`Entry` objects
for the ``timeline`` macro and the audit log page. References are resolved in one call per record
type for the whole page. What no plugin declares falls back to a humanised name and a readable
value: never ``None``, a dict's repr or a snake_case code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app, g, has_request_context
from flask_babel import format_date, format_datetime, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from . import settings
from .contrib import AuditVocabulary, HistoryField
from .i18n import render_system_text
from .money import MoneyError, format_money, is_currency

EMPTY = "—"
LIST_LIMIT = 6
_CODE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")
NOT_MAPPING = "value"  # the field key of an entry whose before/after is not a mapping


@dataclass
class Shown:
    """A value as text, with a link when it names a record."""

    text: str
    url: str | None = None


@dataclass
class Change:
    """One field: its label, and the value before and after (``None`` when that side is absent)."""

    label: str
    before: Shown | None
    after: Shown | None


@dataclass
class Entry:
    """An audit entry ready to show."""

    raw: Any
    action: str
    at: datetime
    actor_name: str
    record: Shown
    changes: list[Change] = field(default_factory=list)
    note: str = ""


def humanise(name: str) -> str:
    """``tracking_number`` -> ``Tracking number`` (for keys and codes nobody declared)."""
    words = re.sub(r"[_.\-]+", " ", str(name)).strip()
    return words[:1].upper() + words[1:] if words else str(name)


def vocabulary() -> dict[str, AuditVocabulary]:
    """Every enabled plugin's vocabulary by object type (cached for the request)."""
    cached = g.get("_erp_audit_vocabulary") if has_request_context() else None
    if cached is not None:
        return cached
    manager = current_app.extensions["erp_plugins"]
    found: dict[str, AuditVocabulary] = {}
    for v in manager.collect("erp_audit_vocabulary"):
        found[v.object_type] = _merge(found[v.object_type], v) if v.object_type in found else v
    if has_request_context():
        g._erp_audit_vocabulary = found
    return found


def _merge(first: AuditVocabulary, more: AuditVocabulary) -> AuditVocabulary:
    """Two plugins describing one record type (inventory adds stock actions to products): the
    actions and fields of both; the owner's (first) name and resolver."""
    return AuditVocabulary(first.object_type, first.label, {**more.actions, **first.actions},
                           {**more.fields, **first.fields}, first.resolve or more.resolve)


def _spec(vocab: AuditVocabulary | None, key: str) -> HistoryField:
    declared = vocab.fields.get(key) if vocab is not None else None
    if declared is None:
        return HistoryField(humanise(key))
    if isinstance(declared, HistoryField):
        return declared
    return HistoryField(declared)


def _sides(entry) -> list[tuple[str, Any, Any, bool, bool]]:
    """``(key, before, after, has_before, has_after)`` per field of the entry, in written order."""
    before, after = entry.before, entry.after
    if before is None and after is None:
        return []
    if not isinstance(before, (dict, type(None))) or not isinstance(after, (dict, type(None))):
        return [(NOT_MAPPING, before, after, before is not None, after is not None)]
    before, after = before or {}, after or {}
    keys = list(after) + [k for k in before if k not in after]
    return [(k, before.get(k), after.get(k), k in before, k in after) for k in keys]


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


# ----------------------------------------------------------------------------- values


def _money(value: Any, spec: HistoryField, values: dict) -> str:
    currency = (values.get(spec.currency_field) if spec.currency_field else None) or spec.currency
    currency = currency if isinstance(currency, str) and is_currency(currency) else settings.company_currency()
    try:
        if isinstance(value, str):  # an amount written in major units ("12.50")
            return _money_major(Decimal(value), currency)
        return format_money(int(value), currency)
    except (TypeError, ValueError, InvalidOperation, MoneyError):
        return str(value)


def _money_major(amount: Decimal, currency: str) -> str:
    from babel.numbers import format_currency
    from flask_babel import get_locale

    return format_currency(amount, currency, locale=str(get_locale() or "en"))


def _when(value: Any, kind: str) -> str:
    try:
        if kind == "date":
            day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
            return format_date(day, "medium")
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return format_datetime(moment, "medium") if moment.tzinfo else format_date(moment, "medium")
    except (TypeError, ValueError):
        return str(value)


def _code(value: Any, choices: Any) -> str:
    mapping = choices() if callable(choices) else (choices or {})
    if value in mapping:
        return str(mapping[value])
    return readable(value)


def readable(value: Any) -> str:
    """A value nobody described, for people: Yes/No, short lists, humanised codes, "—"."""
    if _is_empty(value):
        return EMPTY
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, (int, float, Decimal)):
        return format_decimal(value)
    if isinstance(value, dict):
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value.values()):
            items = [f"{k} × {format_decimal(v)}" for k, v in value.items()]
        else:
            items = [f"{humanise(k)}: {readable(v)}" for k, v in value.items() if not _is_empty(v)]
        return _short_list(items)
    if isinstance(value, (list, tuple)):
        return _short_list([readable(v) for v in value])
    text = render_system_text(value)
    if _CODE.match(text):
        return humanise(text)
    return text


def _short_list(items: list[str]) -> str:
    if not items:
        return EMPTY
    if len(items) > LIST_LIMIT:
        more = len(items) - LIST_LIMIT
        items = items[:LIST_LIMIT] + [_("%(n)s more", n=more)]
    return ", ".join(items)


def _show(value: Any, spec: HistoryField, values: dict, refs: dict) -> Shown:
    if _is_empty(value) and spec.kind != "boolean":
        return Shown(EMPTY)
    kind = spec.kind
    if kind == "custom" and spec.format is not None:
        return Shown(str(spec.format(value, values)))
    if kind == "money":
        return Shown(_money(value, spec, values))
    if kind in ("date", "datetime"):
        return Shown(_when(value, kind))
    if kind == "reference":
        if isinstance(value, list):  # several records: their names, without links
            known = refs.get(spec.ref, {})
            return Shown(_short_list([str(known[str(v)][0]) if str(v) in known else str(v) for v in value]))
        found = refs.get(spec.ref, {}).get(str(value))
        return Shown(str(found[0]), found[1]) if found else Shown(str(value))
    if kind == "code":
        if isinstance(value, list):
            return Shown(_short_list([_code(v, spec.choices) for v in value]))
        return Shown(_code(value, spec.choices))
    if kind == "boolean":
        return Shown(str(_("Yes") if value else _("No")))
    if kind == "number":
        return Shown(readable(value))
    return Shown(readable(value))


# ----------------------------------------------------------------------------- entries


def _wanted_references(entries, vocab: dict[str, AuditVocabulary], with_records: bool) -> dict[str, set[str]]:
    wanted: dict[str, set[str]] = {}
    for e in entries:
        if with_records:
            wanted.setdefault(e.object_type, set()).add(str(e.object_id))
        kind_vocab = vocab.get(e.object_type)
        for key, before, after, _hb, _ha in _sides(e):
            spec = _spec(kind_vocab, key)
            if spec.kind == "reference" and spec.ref:
                ids = wanted.setdefault(spec.ref, set())
                for side in (before, after):
                    ids.update(str(v) for v in (side if isinstance(side, list) else [side]) if not _is_empty(v))
    return wanted


def resolve_references(wanted: dict[str, set[str]], vocab: dict[str, AuditVocabulary]) -> dict[str, dict]:
    """``{object_type: {id: (text, url)}}``: one ``resolve`` call per record type."""
    found: dict[str, dict] = {}
    for object_type, ids in wanted.items():
        target = vocab.get(object_type)
        if target is None or target.resolve is None or not ids:
            continue
        found[object_type] = target.resolve(sorted(ids)) or {}
    return found


def _record(e, vocab: AuditVocabulary | None, refs: dict) -> Shown:
    found = refs.get(e.object_type, {}).get(str(e.object_id))
    if found:
        return Shown(str(found[0]), found[1])
    label = str(vocab.label) if vocab is not None else humanise(e.object_type)
    return Shown(_("%(type)s #%(id)s", type=label, id=e.object_id))


def _changes(e, kind_vocab: AuditVocabulary | None, refs: dict) -> list[Change]:
    changes = []
    before_values = e.before if isinstance(e.before, dict) else {}
    after_values = e.after if isinstance(e.after, dict) else {}
    for key, before, after, has_before, has_after in _sides(e):
        spec = _spec(kind_vocab, key)
        if spec.hidden or (_is_empty(before) and _is_empty(after) and spec.kind != "boolean"):
            continue
        declared = kind_vocab is not None and key in kind_vocab.fields
        label = "" if key == NOT_MAPPING and not declared else str(spec.label)
        old = _show(before, spec, {**after_values, **before_values}, refs) if has_before else None
        new = _show(after, spec, {**before_values, **after_values}, refs) if has_after else None
        changes.append(Change(label, old, new))
    return changes


def describe(entries, *, with_records: bool = False) -> list[Entry]:
    """The entries (AuditLog rows) in words; ``with_records`` also names each entry's record."""
    entries = list(entries)
    vocab = vocabulary()
    refs = resolve_references(_wanted_references(entries, vocab, with_records), vocab)
    described = []
    for e in entries:
        kind_vocab = vocab.get(e.object_type)
        actions = kind_vocab.actions if kind_vocab is not None else {}
        action = str(actions[e.action]) if e.action in actions else _generic_action(e.action)
        described.append(Entry(
            raw=e, action=action, at=e.at, actor_name=e.actor_name,
            record=_record(e, kind_vocab, refs) if with_records else Shown(""),
            changes=_changes(e, kind_vocab, refs), note=render_system_text(e.note) if e.note else ""))
    return described


GENERIC_ACTIONS = {"created": _l("Created"), "changed": _l("Changed"), "updated": _l("Changed"),
                   "deleted": _l("Deleted"), "status_changed": _l("Status changed"), "enabled": _l("Switched on"),
                   "disabled": _l("Switched off")}


def _generic_action(action: str) -> str:
    known = GENERIC_ACTIONS.get(action)
    return str(known) if known is not None else humanise(action)


def raw_record(entry) -> str:
    """The stored entry as readable JSON (for administrators' "Raw record" toggle)."""
    data = {"object_type": entry.object_type, "object_id": entry.object_id, "action": entry.action,
            "before": entry.before, "after": entry.after, "note": entry.note}
    return json.dumps(data, ensure_ascii=False, indent=1, default=str)


def may_see_raw_record() -> bool:
    """Only administrators (every permission) see the stored entries behind the words."""
    from .security import has_permission

    return has_request_context() and has_permission(ALL_PERMISSIONS)


ALL_PERMISSIONS = "*"


def register(app) -> None:
    """Template globals ``describe_history(entries, with_records=False)``, ``may_see_raw_record()``
    and the ``raw_record`` filter."""
    app.jinja_env.globals["may_see_raw_record"] = may_see_raw_record
    app.jinja_env.globals["describe_history"] = describe
    app.jinja_env.filters["raw_record"] = raw_record
