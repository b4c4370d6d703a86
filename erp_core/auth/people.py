"""People as readers know them: a stored user name shown as the person's display name."""

from __future__ import annotations

from flask import g, has_app_context
from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from .models import User

SYSTEM = "system"  # the actor name of work done by jobs, schedules and the CLI (erp_core.audit)


def _names() -> dict[str, str]:
    # One query per request for every account: a small business has tens of them, and a page
    # (a history, the audit log) may name many people.
    cached = g.get("_erp_people") if has_app_context() else None
    if cached is None:
        cached = {u: (d or u) for u, d in db.session.execute(select(User.username, User.display_name))}
        if has_app_context():
            g._erp_people = cached
    return cached


def person_name(username: str | None) -> str:
    """The display name of the account ``username`` (as stored in the audit log and on records),
    "System" for the system, the user name itself when no such account exists any more."""
    if not username:
        return "—"
    if username == SYSTEM:
        return _("System")
    return _names().get(username, username)
