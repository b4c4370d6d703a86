"""Audit entries of tickets and returns made readable: field names and coded values in the
reader's language (the log itself keeps the codes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from erp_core import audit

from . import states

KEY_LABELS = {
    "status": _l("Status"), "channel": _l("Channel"), "category": _l("Category"), "priority": _l("Priority"),
    "team": _l("Team"), "assignee": _l("Assignee"), "order": _l("Order"), "number": _l("Number"),
    "subject": _l("Subject"), "emailed": _l("E-mailed"), "missed": _l("Missed"), "links": _l("Links"),
    "goods": _l("Goods"), "amount": _l("Amount"), "by_hand": _l("Recorded by hand"), "kind": _l("Kind"),
    "reason": _l("Reason"), "lines": _l("Items"),
}


@dataclass
class Entry:
    """What the ``timeline`` macro reads from an audit entry."""

    action: str
    at: datetime
    actor_name: str
    before: Any
    after: Any
    note: str | None


def _value(key: str, value: Any, kind: str) -> Any:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{k} × {v}" for k, v in value.items())
    maps = {
        "status": states.TICKET_LABELS if kind == "ticket" else states.RETURN_LABELS,
        "channel": states.CHANNEL_LABELS, "category": states.CATEGORY_LABELS, "priority": states.PRIORITY_LABELS,
        "kind": states.RETURN_KINDS, "reason": states.REASONS,
        "missed": {"first_response": _l("first response"), "resolution": _l("resolution")},
    }
    labels = maps.get(key)
    if labels and value in labels:
        return str(labels[value])
    return value


def _readable(data: Any, kind: str) -> Any:
    if not isinstance(data, dict):
        return data
    return {str(KEY_LABELS.get(k, k)): _value(k, v, kind) for k, v in data.items()}


def timeline(kind: str, object_id) -> list[Entry]:
    """The audit trail of a ``ticket`` or a ``return``, ready for the timeline macro."""
    return [Entry(e.action, e.at, e.actor_name, _readable(e.before, kind), _readable(e.after, kind), e.note)
            for e in audit.timeline(kind, object_id)]
