"""Small helpers shared by the support service modules (not part of the public surface)."""

from __future__ import annotations

import re

from flask import has_request_context
from flask_babel import gettext as _

from erp_core import audit
from erp_core.db import MAX_ID
from erp_core.errors import DomainError
from erp_core.extensions import db

from .. import tokens, uploads
from ..models import Attachment, Team, Ticket, TicketMessage

MAX_BODY = 20_000
WEEKDAYS = range(7)


def split_list(raw) -> list[str]:
    """Split a setting or form text at commas, semicolons and new lines; blanks dropped."""
    return [part.strip() for part in re.split(r"[,;\n]", str(raw or "")) if part.strip()]


def int_or_none(raw) -> int | None:
    """A positive database id from form or API input, else None."""
    text = str(raw if raw is not None else "").strip()
    return int(text) if text.isdecimal() and int(text) <= MAX_ID else None


def raise_first(errors: dict[str, str]) -> None:
    """Raise the first collected form error, if any, as a DomainError on its field."""
    if errors:
        key, message = next(iter(errors.items()))
        raise DomainError(message, field=key)


def check_team(raw, errors: dict) -> Team | None:
    """The team chosen in a form (None when none was chosen); an unknown one adds an error."""
    team = None
    if str(raw or "").strip():
        team = db.session.get(Team, int_or_none(raw) or 0)
        if team is None:
            errors["team_id"] = _("Unknown team.")
    return team


def check_assignee(raw, errors: dict) -> int | None:
    """The id of the active user chosen as assignee; an unknown or inactive one adds an error."""
    from erp_core.auth.models import User

    assignee_id = int_or_none(raw)
    if str(raw or "").strip():
        user = db.session.get(User, assignee_id) if assignee_id else None
        if user is None or not user.active:
            errors["assignee_id"] = _("Unknown user.")
            return None
    return assignee_id


def author_label() -> str:
    """The label of the signed-in user who writes, or "system" outside a request."""
    from flask_login import current_user

    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.label
    return "system"


def bump_version(ticket: Ticket, expected_version) -> None:
    """Refuse a change made on a stale copy of the ticket, else count a new version."""
    tokens.bump_version(Ticket, ticket, expected_version, _(
        "Ticket %(number)s was changed by someone else meanwhile. Reload the page; nothing was saved.",
        number=ticket.number))


def attach(ticket: Ticket, message: TicketMessage | None, checked: list, from_customer: bool) -> list[Attachment]:
    """Store checked uploads and link them to the ticket (and the message they came with)."""
    user_id, _name = audit.current_actor()
    made = []
    for upload in checked:
        stored = uploads.store(upload)
        attachment = Attachment(ticket_id=ticket.id, message_id=message.id if message else None,
                                filename=upload.filename, stored_name=stored, content_type=upload.content_type,
                                size=upload.size, from_customer=from_customer, uploaded_by_id=user_id)
        db.session.add(attachment)
        made.append(attachment)
    if made:
        db.session.flush()
    return made


def username(user_id: int | None) -> str | None:
    """The username of a user id (None for none or an unknown id), for audit entries."""
    if user_id is None:
        return None
    from erp_core.auth.models import User

    user = db.session.get(User, user_id)
    return user.username if user else None
