"""Due times (SLA): targets per priority, due times in a team's working hours, overdue tickets."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, update

from erp_core import audit, settings
from erp_core.extensions import db
from erp_core.i18n import render_system_text
from erp_core.mail import queue_mail
from erp_core.timeutil import utcnow

from .. import hours as hours_math
from .. import states
from ..models import TeamMember, Ticket
from .desk import public_url

SLA_DEFAULTS = {"urgent": (1, 8), "high": (4, 24), "normal": (8, 40), "low": (24, 80)}


def sla_minutes(priority: str) -> tuple[int, int]:
    """(first response, resolution) targets of a priority, in working minutes."""
    first_default, resolve_default = SLA_DEFAULTS.get(priority, SLA_DEFAULTS["normal"])
    first = _int_setting(f"support.sla.{priority}.first", first_default)
    resolve = _int_setting(f"support.sla.{priority}.resolve", resolve_default)
    return first * 60, resolve * 60


def _int_setting(key: str, default: int) -> int:
    try:
        value = int(settings.get(key, default))
    except (TypeError, ValueError):
        return default
    return value if value > 0 else default


def team_weekly(ticket: Ticket):
    """The weekly hours of the ticket's team, or None (round the clock) without a team."""
    return ticket.team.weekly() if ticket.team is not None else None


def compute_due(ticket: Ticket, since: datetime | None = None) -> None:
    """Set the first-response and resolution due times in the ticket's team's working hours."""
    since = since or ticket.created_at
    first, resolve = sla_minutes(ticket.priority)
    weekly = team_weekly(ticket)
    if ticket.first_responded_at is None:
        ticket.first_response_due = hours_math.add_working_minutes(weekly, since, first)
    ticket.resolution_due = hours_math.add_working_minutes(weekly, since, resolve)


def is_overdue(ticket: Ticket, now: datetime | None = None) -> bool:
    """Whether an open ticket went past its first-response or resolution due time."""
    now = now or utcnow()
    if ticket.status != states.OPEN:
        return False
    late_first = ticket.first_responded_at is None and ticket.first_response_due and ticket.first_response_due < now
    return bool(late_first or (ticket.resolution_due and ticket.resolution_due < now))


def overdue_condition(now: datetime):
    """The SQL condition of :func:`is_overdue`."""
    return and_(Ticket.status == states.OPEN,
                or_(and_(Ticket.first_responded_at.is_(None), Ticket.first_response_due < now),
                    Ticket.resolution_due < now))


def scan_sla(now: datetime | None = None) -> int:
    """Flag tickets that went past a due time (once each), audit it and tell the team leads."""
    now = now or utcnow()
    late = db.session.scalars(select(Ticket).where(overdue_condition(now), Ticket.sla_breached_at.is_(None))
                              .order_by(Ticket.id).limit(500)).all()
    flagged = 0
    for ticket in late:
        result = db.session.execute(update(Ticket).where(Ticket.id == ticket.id, Ticket.sla_breached_at.is_(None))
                                    .values(sla_breached_at=now).execution_options(synchronize_session=False))
        if result.rowcount != 1:
            continue
        flagged += 1
        _report_breach(ticket, now)
    return flagged


def _report_breach(ticket: Ticket, now: datetime) -> None:
    """Audit which due time a ticket missed and mail its team's leads."""
    which = "first_response" if ticket.first_responded_at is None and ticket.first_response_due < now else "resolution"
    audit.record("ticket", ticket.id, "sla_breached", after={"missed": which})
    leads = _lead_emails(ticket.team_id)
    if leads:
        queue_mail(leads, _("[%(number)s] is overdue", number=ticket.number),
                   _("Ticket %(number)s (%(subject)s) missed its %(which)s due time.\n\n%(url)s",
                     number=ticket.number, subject=render_system_text(ticket.subject),
                     which=_("first response") if which == "first_response" else _("resolution"),
                     url=public_url("support.ticket", ticket_id=ticket.id)))


def _lead_emails(team_id: int | None) -> list[str]:
    if team_id is None:
        return []
    from erp_core.auth.models import User

    return [e for e in db.session.scalars(
        select(User.email).join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.team_id == team_id, TeamMember.is_lead.is_(True), User.active.is_(True))) if e]
