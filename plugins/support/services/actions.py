"""What agents do to a ticket: move its status, assign it, change its details.

A status change fires ``erp_ticket_status_changed`` and the ``ticket.status_changed`` webhook
inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _

from erp_core import audit, webhooks
from erp_core.errors import Conflict, DomainError
from erp_core.extensions import db
from erp_core.i18n import languages, parse_system_text, render_system_text
from erp_core.plugins import hooks
from erp_core.timeutil import utcnow

from .. import hours as hours_math
from .. import states
from ..models import Ticket
from ._common import bump_version, check_assignee, check_team, raise_first, username
from .sla import compute_due, sla_minutes, team_weekly


def change_status(ticket: Ticket, new_status: str, note: str | None = None, expected_version=None,
                  now: datetime | None = None) -> None:
    """Move a ticket along open -> pending -> resolved -> closed (reopen allowed)."""
    now = now or utcnow()
    note = (note or "").strip()[:1000] or None
    bump_version(ticket, expected_version)
    old = ticket.status
    _check_transition(ticket, old, new_status)
    _move_clocks(ticket, old, new_status, now)
    ticket.status = new_status
    ticket.updated_at = now
    db.session.flush()
    hooks().erp_ticket_status_changed(ticket=ticket, old_status=old, new_status=new_status)
    webhooks.emit("ticket.status_changed", ticket, old_status=old, new_status=new_status)
    action = "reopened" if new_status == states.OPEN and old in (states.RESOLVED, states.CLOSED) else "status_changed"
    audit.record("ticket", ticket.id, action, before={"status": old}, after={"status": new_status}, note=note)
    if new_status == states.RESOLVED:
        from .. import surveys

        surveys.issue_for_ticket(ticket, now)


def _check_transition(ticket: Ticket, old: str, new_status: str) -> None:
    """Refuse a status the ticket cannot move to from ``old``."""
    if new_status in states.TICKET_ALLOWED.get(old, ()):
        return
    if old == new_status:
        raise Conflict(_("Ticket %(number)s is already %(status)s.", number=ticket.number,
                         status=states.TICKET_LABELS[old]))
    raise Conflict(_("A ticket that is %(old)s cannot become %(new)s.", old=states.TICKET_LABELS.get(old, old),
                     new=states.TICKET_LABELS.get(new_status, new_status)))


def _move_clocks(ticket: Ticket, old: str, new_status: str, now: datetime) -> None:
    """Set the time stamps and due times a status change moves."""
    weekly = team_weekly(ticket)
    if old == states.PENDING and ticket.pending_since is not None and ticket.resolution_due is not None:
        # The resolution clock stood still while we waited for the customer.
        left = hours_math.working_minutes_between(weekly, ticket.pending_since, ticket.resolution_due)
        ticket.resolution_due = hours_math.add_working_minutes(weekly, now, left)
        ticket.pending_since = None
    if new_status == states.PENDING:
        ticket.pending_since = now
    elif new_status == states.RESOLVED:
        ticket.resolved_at = now
    elif new_status == states.CLOSED:
        ticket.closed_at = now
        ticket.pending_since = None
    elif new_status == states.OPEN and old in (states.RESOLVED, states.CLOSED):
        ticket.resolved_at = None
        ticket.closed_at = None
        ticket.resolution_due = hours_math.add_working_minutes(weekly, now, sla_minutes(ticket.priority)[1])
        ticket.sla_breached_at = None


def assign(ticket: Ticket, team_id, assignee_id, expected_version=None) -> None:
    """Give the ticket to a team and/or an agent (audited)."""
    errors: dict[str, str] = {}
    team = check_team(team_id, errors)
    new_assignee = check_assignee(assignee_id, errors)
    raise_first(errors)
    bump_version(ticket, expected_version)
    before = {"team": ticket.team.name if ticket.team else None, "assignee": username(ticket.assignee_id)}
    ticket.team = team
    ticket.assignee_id = new_assignee
    ticket.updated_at = utcnow()
    db.session.flush()
    after = {"team": team.name if team else None, "assignee": username(new_assignee)}
    b, a = audit.diff(before, after)
    if a:
        audit.record("ticket", ticket.id, "assigned", before=b, after=a)


def _as_shown(stored: str) -> set[str]:
    """A stored subject as typed, or a system text as read in each of the site's languages."""
    if parse_system_text(stored) is None:
        return {stored}
    shown = {stored}
    for language in languages():
        with force_locale(language):
            shown.add(render_system_text(stored))
    return shown


def update_details(ticket: Ticket, subject: str, category: str, priority: str, expected_version=None) -> None:
    """Change subject, category or priority; a new priority sets new due times from creation.

    A subject the system wrote (a system text) stays stored as such while it comes back unchanged,
    as stored or as shown in any of the site's languages."""
    subject = (subject or "").strip()[:200]
    if subject and subject in _as_shown(ticket.subject):
        subject = ticket.subject
    if not subject:
        raise DomainError(_("Give the request a subject."), field="subject")
    if category not in states.CATEGORIES:
        raise DomainError(_("Choose a category."), field="category")
    if priority not in states.PRIORITIES:
        raise DomainError(_("Choose a priority."), field="priority")
    bump_version(ticket, expected_version)
    before = {"subject": ticket.subject, "category": ticket.category, "priority": ticket.priority}
    ticket.subject, ticket.category = subject, category
    if priority != ticket.priority:
        ticket.priority = priority
        if ticket.status in states.ACTIVE:
            compute_due(ticket)
    ticket.updated_at = utcnow()
    b, a = audit.diff(before, {"subject": subject, "category": category, "priority": priority})
    if a:
        audit.record("ticket", ticket.id, "changed", before=b, after=a)
