"""Business rules of support: teams and their hours, routing, SLA, tickets and their thread,
canned replies, queues and coverage.

Every function works in the caller's transaction and raises a DomainError with a translated
message; the caller commits or rolls back. Ticket status changes fire
``erp_ticket_status_changed`` inside the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import and_, case, func, not_, or_, select, update
from sqlalchemy.orm import lazyload, selectinload

from erp_core import audit, settings, webhooks
from erp_core.db import MAX_ID, next_counter
from erp_core.errors import Conflict, DomainError, NotFound
from erp_core.extensions import db
from erp_core.ui import path_for
from erp_core.mail import queue_mail
from erp_core.timeutil import local_day_bounds, to_zone, utcnow, valid_timezone
from erp_core.plugins import hooks
from plugins.orders import services as order_services
from plugins.orders.models import Customer, Order

from . import hours as hours_math
from . import states, tokens, uploads
from .models import Attachment, CannedReply, Team, TeamHours, TeamMember, Ticket, TicketMessage

MAX_BODY = 20_000
WEEKDAYS = range(7)

# ----------------------------------------------------------------------------- settings

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


def split_list(raw) -> list[str]:
    return [part.strip() for part in re.split(r"[,;\n]", str(raw or "")) if part.strip()]


def contact_details() -> dict:
    """Phones, e-mails and hours of the support desk, as the settings give them."""
    return {"phones": split_list(settings.get("support.phones")),
            "emails": split_list(settings.get("support.emails")),
            "hours": (settings.get("support.hours_text") or "").strip()}


def check_phone_list(raw) -> str | None:
    """Setting validator: every entry looks like a phone number."""
    for phone in split_list(raw):
        digits = re.sub(r"\D", "", phone)
        if not re.fullmatch(r"[0-9+()\-. /ext]+", phone, re.I) or not 3 <= len(digits) <= 20:
            return _("%(phone)s does not look like a phone number.", phone=phone)
    return None


def public_url(endpoint: str, **values) -> str:
    """An absolute link for customers (mails, copy buttons).

    Uses the ``support.public_url`` setting when set, else the address of the current request;
    in a background job without either, the path alone.
    """
    path = path_for(endpoint, **values)
    base = (settings.get("support.public_url") or "").strip().rstrip("/")
    if not base and has_request_context():
        base = request.host_url.rstrip("/")
    return base + path


# ----------------------------------------------------------------------------- teams


def parse_day_hours(text: str) -> list[tuple[int, int]]:
    """``"09:00-12:00, 13:00-18:00"`` -> [(540, 720), (780, 1080)]; empty -> []. ValueError when bad."""
    found = []
    for part in split_list(text):
        start_text, sep, end_text = part.replace("–", "-").partition("-")
        if not sep:
            raise ValueError(part)
        start, end = hours_math.parse_clock(start_text), hours_math.parse_clock(end_text)
        if end <= start:
            raise ValueError(part)
        found.append((start, end))
    found.sort()
    for (_s1, e1), (s2, _e2) in zip(found, found[1:]):
        if s2 < e1:
            raise ValueError(text)
    return found


def format_day_hours(team: Team, weekday: int) -> str:
    return ", ".join(f"{hours_math.format_clock(h.start_minute)}-{hours_math.format_clock(h.end_minute)}"
                     for h in team.hours if h.weekday == weekday)


def save_team(team: Team | None, name: str, timezone_name: str, active: bool, week: dict[int, str],
              members: list[int], leads: list[int]) -> Team:
    """Create or change a team with its weekly hours (text per weekday) and members."""
    name = (name or "").strip()[:120]
    timezone_name = (timezone_name or "").strip()
    errors = {}
    if not name:
        errors["name"] = _("The team needs a name.")
    elif db.session.scalar(select(Team.id).where(func.lower(Team.name) == name.lower(),
                                                 Team.id != (team.id if team else -1))):
        errors["name"] = _("Another team is called %(name)s.", name=name)
    if not valid_timezone(timezone_name):
        errors["timezone"] = _("Unknown time zone.")
    parsed = {}
    for weekday in WEEKDAYS:
        try:
            parsed[weekday] = parse_day_hours(week.get(weekday, ""))
        except ValueError:
            errors[f"day{weekday}"] = _("Write hours like 09:00-12:00, 13:00-18:00 (00:00-24:00 for the whole day).")
    if errors:
        key, message = next(iter(errors.items()))
        raise DomainError(message, field=key)
    from erp_core.auth.models import User

    wanted = set(members) | set(leads)
    known = set(db.session.scalars(select(User.id).where(User.id.in_(wanted)))) if wanted else set()
    if wanted - known:
        raise DomainError(_("Unknown user."), field="members")
    before = _team_snapshot(team) if team else None
    if team is None:
        team = Team(name=name, timezone=timezone_name, active=active)
        db.session.add(team)
    team.name, team.timezone, team.active = name, timezone_name, active
    team.hours = [TeamHours(weekday=d, start_minute=s, end_minute=e) for d in WEEKDAYS for s, e in parsed[d]]
    team.members = [TeamMember(user_id=u, is_lead=u in leads) for u in sorted(wanted)]
    db.session.flush()
    after = _team_snapshot(team)
    if before is None:
        audit.record("support_team", team.id, "created", after=after)
    else:
        b, a = audit.diff(before, after)
        if a:
            audit.record("support_team", team.id, "changed", before=b, after=a)
    return team


def _team_snapshot(team: Team) -> dict:
    return {"name": team.name, "timezone": team.timezone, "active": team.active,
            "hours": "; ".join(f"{d}: {format_day_hours(team, d)}" for d in WEEKDAYS if format_day_hours(team, d)),
            "members": sorted(m.user_id for m in team.members),
            "leads": sorted(m.user_id for m in team.members if m.is_lead)}


def active_teams(with_members: bool = False) -> list[Team]:
    """Active teams with their hours (and, when asked, their members and users) in 2-3 queries."""
    stmt = select(Team).where(Team.active.is_(True)).order_by(Team.name)
    if with_members:
        stmt = stmt.options(selectinload(Team.members).joinedload(TeamMember.user))
    return list(db.session.scalars(stmt))


def all_teams(with_members: bool = False) -> list[Team]:
    stmt = select(Team).order_by(Team.name)
    if with_members:
        stmt = stmt.options(selectinload(Team.members).joinedload(TeamMember.user))
    return list(db.session.scalars(stmt))


def teams_of(user_id: int) -> list[int]:
    return list(db.session.scalars(select(TeamMember.team_id).where(TeamMember.user_id == user_id)))


def is_lead(user_id: int, team_id: int | None = None) -> bool:
    stmt = select(TeamMember.team_id).where(TeamMember.user_id == user_id, TeamMember.is_lead.is_(True))
    if team_id is not None:
        stmt = stmt.where(TeamMember.team_id == team_id)
    return db.session.scalar(stmt.limit(1)) is not None


def on_duty(now: datetime | None = None, teams: list[Team] | None = None) -> list[Team]:
    """Active teams (or those of ``teams``) working at ``now``."""
    now = now or utcnow()
    return [t for t in (active_teams() if teams is None else teams) if hours_math.on_duty(t.weekly(), now)]


def route_team(now: datetime | None = None) -> Team | None:
    """The team a new ticket goes to: one on duty now with the fewest open tickets; else the
    team whose hours start soonest; else none."""
    now = now or utcnow()
    teams = active_teams()
    if not teams:
        return None
    working = [t for t in teams if hours_math.on_duty(t.weekly(), now)]
    if working:
        loads = dict(db.session.execute(
            select(Ticket.team_id, func.count()).where(Ticket.team_id.in_([t.id for t in working]),
                                                       Ticket.status.in_(states.ACTIVE))
            .group_by(Ticket.team_id)).all())
        return min(working, key=lambda t: (loads.get(t.id, 0), t.name))
    upcoming = [(hours_math.next_start(t.weekly(), now), t.name, t) for t in teams]
    upcoming = [u for u in upcoming if u[0] is not None]
    return min(upcoming)[2] if upcoming else teams[0]


def coverage_gaps(start: datetime, end: datetime, teams: list[Team] | None = None) -> list[tuple[datetime, datetime]]:
    """When no active team (of ``teams``) works within ``[start, end)``."""
    return hours_math.gaps([t.weekly() for t in (active_teams() if teams is None else teams)], start, end)


@dataclass
class CoverageRow:
    label: str
    slots: list[float]  # share of each half-hour covered (0..1)
    team: Team | None = None


@dataclass
class CoverageDay:
    day: date
    rows: list[CoverageRow]
    total: list[float]

    @property
    def has_gap(self) -> bool:
        return any(share < 1 for share in self.total)


def week_coverage(first_day: date, tz_name: str, days: int = 7, teams: list[Team] | None = None) -> list[CoverageDay]:
    """Half-hour coverage per team and overall for ``days`` days of the company's calendar."""
    teams = active_teams() if teams is None else teams
    result = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        day_start, day_end = local_day_bounds(day, tz_name)
        edges = _slot_edges(day, tz_name, day_end)
        per_team = {t.id: hours_math.intervals(t.weekly(), day_start, day_end) for t in teams}
        rows = [CoverageRow(t.name, [_share(per_team[t.id], a, b) for a, b in edges], t) for t in teams]
        union = hours_math.merge(i for spans in per_team.values() for i in spans)
        total = [_share(union, a, b) for a, b in edges]
        result.append(CoverageDay(day, rows, total))
    return result


def _slot_edges(day: date, tz_name: str, day_end: datetime) -> list[tuple[datetime, datetime]]:
    from zoneinfo import ZoneInfo

    from .hours import _local_instant

    tz = ZoneInfo(tz_name)
    starts = [_local_instant(day, minute, tz) for minute in range(0, 1440, 30)]
    ends = starts[1:] + [day_end]
    return [(a, b) for a, b in zip(starts, ends)]


def _share(spans, start: datetime, end: datetime) -> float:
    if end <= start:
        return 1.0
    covered = sum(((min(e, end) - max(s, start)).total_seconds() for s, e in spans if s < end and e > start), 0.0)
    return round(covered / (end - start).total_seconds(), 3)


# ----------------------------------------------------------------------------- SLA


def compute_due(ticket: Ticket, since: datetime | None = None) -> None:
    """Set the first-response and resolution due times in the ticket's team's working hours."""
    since = since or ticket.created_at
    first, resolve = sla_minutes(ticket.priority)
    weekly = ticket.team.weekly() if ticket.team is not None else None
    if ticket.first_responded_at is None:
        ticket.first_response_due = hours_math.add_working_minutes(weekly, since, first)
    ticket.resolution_due = hours_math.add_working_minutes(weekly, since, resolve)


def _weekly(ticket: Ticket):
    return ticket.team.weekly() if ticket.team is not None else None


def is_overdue(ticket: Ticket, now: datetime | None = None) -> bool:
    now = now or utcnow()
    if ticket.status != states.OPEN:
        return False
    late_first = ticket.first_responded_at is None and ticket.first_response_due and ticket.first_response_due < now
    return bool(late_first or (ticket.resolution_due and ticket.resolution_due < now))


def overdue_condition(now: datetime):
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
        which = "first_response" if ticket.first_responded_at is None and ticket.first_response_due < now else "resolution"
        audit.record("ticket", ticket.id, "sla_breached", after={"missed": which})
        leads = _lead_emails(ticket.team_id)
        if leads:
            queue_mail(leads, _("[%(number)s] is overdue", number=ticket.number),
                       _("Ticket %(number)s (%(subject)s) missed its %(which)s due time.\n\n%(url)s",
                         number=ticket.number, subject=ticket.subject,
                         which=_("first response") if which == "first_response" else _("resolution"),
                         url=public_url("support.ticket", ticket_id=ticket.id)))
    return flagged


def _lead_emails(team_id: int | None) -> list[str]:
    if team_id is None:
        return []
    from erp_core.auth.models import User

    return [e for e in db.session.scalars(
        select(User.email).join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.team_id == team_id, TeamMember.is_lead.is_(True), User.active.is_(True))) if e]


# ----------------------------------------------------------------------------- tickets


@dataclass
class TicketInput:
    """What the staff form, the public form and other plugins submit to open a ticket."""

    subject: str = ""
    body: str = ""
    category: str = "other"
    priority: str = "normal"
    channel: str = "web"
    order_id: int | str | None = None
    customer_id: int | str | None = None
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    team_id: int | str | None = None
    assignee_id: int | str | None = None
    body_kind: str = "customer"  # the first message: the customer's words, or an internal note
    source_type: str | None = None
    source_id: str | None = None
    require_contact: bool = False  # the public form needs an e-mail or a phone to answer
    attachments: list = field(default_factory=list)


def _email_or_error(raw: str, field_name: str, errors: dict) -> str:
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        return validate_email(raw, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        errors[field_name] = _("%(email)s is not a valid e-mail address.", email=raw)
        return raw


def _int_or_none(raw) -> int | None:
    text = str(raw if raw is not None else "").strip()
    return int(text) if text.isdecimal() and int(text) <= MAX_ID else None


def _match_customer(email: str, phone: str) -> Customer | None:
    found = order_services.find_duplicates(phone, email)
    return found[0] if len(found) == 1 else None


def next_number(prefix: str, counter: str) -> str:
    year = to_zone(utcnow(), settings.company_timezone()).year
    return f"{prefix}-{year}-{next_counter(db.session, f'{counter}.{year}'):06d}"


def open_ticket(data: TicketInput, now: datetime | None = None) -> Ticket:
    """Open a ticket, route it to a team on duty and set its SLA due times."""
    now = now or utcnow()
    errors: dict[str, str] = {}
    subject = (data.subject or "").strip()[:200]
    body = (data.body or "").strip()
    if not subject:
        errors["subject"] = _("Give the request a subject.")
    if not body:
        errors["body"] = _("Write a message.")
    elif len(body) > MAX_BODY:
        errors["body"] = _("The message is too long (at most %(n)d characters).", n=MAX_BODY)
    if data.category not in states.CATEGORIES:
        errors["category"] = _("Choose a category.")
    if data.priority not in states.PRIORITIES:
        errors["priority"] = _("Choose a priority.")
    if data.channel not in states.CHANNELS:
        errors["channel"] = _("Choose a channel.")
    email = _email_or_error(data.contact_email, "contact_email", errors)
    phone = (data.contact_phone or "").strip()[:40]
    if phone and len(re.sub(r"\D", "", phone)) < 3:
        errors["contact_phone"] = _("%(phone)s does not look like a phone number.", phone=phone)
    order = None
    order_id = _int_or_none(data.order_id)
    if str(data.order_id or "").strip():
        order = db.session.get(Order, order_id) if order_id else None
        if order is None:
            errors["order_id"] = _("No such order.")
    customer = None
    if order is not None:
        customer = order.customer
    elif str(data.customer_id or "").strip():
        customer_id = _int_or_none(data.customer_id)
        customer = db.session.get(Customer, customer_id) if customer_id else None
        if customer is None:
            errors["customer_id"] = _("Unknown customer.")
    if data.require_contact and not email and not phone:
        errors["contact_email"] = _("Give an e-mail address or a phone number so that we can answer.")
    team = None
    if str(data.team_id or "").strip():
        team = db.session.get(Team, _int_or_none(data.team_id) or 0)
        if team is None:
            errors["team_id"] = _("Unknown team.")
    assignee_id = _check_assignee(data.assignee_id, errors)
    if errors:
        key, message = next(iter(errors.items()))
        raise DomainError(message, field=key)
    uploads_checked = uploads.check_files(data.attachments)

    if customer is None and (email or phone):
        customer = _match_customer(email, phone)
    name = (data.contact_name or "").strip()[:200]
    if order is not None:
        name = name or order.contact_name
        email = email or order.contact_email
        phone = phone or order.contact_phone
    if customer is not None:
        name = name or customer.name
        email = email or (customer.email or "")
        phone = phone or (customer.phone or "")
    if team is None:
        team = route_team(now)
    user_id, actor_name = audit.current_actor()
    ticket = Ticket(number=next_number("TK", "support.ticket"), subject=subject, status=states.OPEN,
                    priority=data.priority, category=data.category, channel=data.channel,
                    customer_id=customer.id if customer else None, order_id=order.id if order else None,
                    contact_name=name, contact_email=email, contact_phone=phone, team=team,
                    assignee_id=assignee_id, created_by_id=user_id, created_at=now, updated_at=now,
                    source_type=data.source_type, source_id=str(data.source_id) if data.source_id is not None else None,
                    nonce=tokens.new_nonce(), version=1)
    compute_due(ticket, now)
    db.session.add(ticket)
    db.session.flush()
    kind = data.body_kind if data.body_kind in ("customer", "note") else "customer"
    author = (name or _("Customer")) if kind == "customer" else actor_name
    message = TicketMessage(kind=kind, body=body, author_id=user_id if kind == "note" else None,
                            author_name=author, created_at=now)
    ticket.messages.append(message)
    db.session.flush()
    _attach(ticket, message, uploads_checked, from_customer=user_id is None)
    created = {"number": ticket.number, "channel": ticket.channel, "category": ticket.category,
               "priority": ticket.priority, "team": team.name if team else None, "order": order.number if order else None}
    audit.record("ticket", ticket.id, "created", after={k: v for k, v in created.items() if v is not None})
    webhooks.emit("ticket.created", ticket)
    return ticket


def _check_assignee(raw, errors: dict) -> int | None:
    from erp_core.auth.models import User

    assignee_id = _int_or_none(raw)
    if str(raw or "").strip():
        user = db.session.get(User, assignee_id) if assignee_id else None
        if user is None or not user.active:
            errors["assignee_id"] = _("Unknown user.")
            return None
    return assignee_id


def _attach(ticket: Ticket, message: TicketMessage | None, checked: list, from_customer: bool) -> list[Attachment]:
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


def get_ticket(ticket_id) -> Ticket:
    ticket = (db.session.get(Ticket, int(ticket_id))
              if str(ticket_id).isdecimal() and int(ticket_id) <= MAX_ID else None)
    if ticket is None:
        raise NotFound(_("No such ticket."))
    return ticket


def ticket_token(ticket: Ticket) -> str:
    return tokens.derive("ticket", ticket.id, ticket.nonce)


def ticket_public_url(ticket: Ticket) -> str:
    return public_url("support_public.ticket", ticket_id=ticket.id, token=ticket_token(ticket))


def find_ticket_by_token(ticket_id: int, token: str) -> Ticket | None:
    return tokens.find(Ticket, "ticket", ticket_id, token)


def _bump_version(ticket: Ticket, expected_version) -> None:
    tokens.bump_version(Ticket, ticket, expected_version, _(
        "Ticket %(number)s was changed by someone else meanwhile. Reload the page; nothing was saved.",
        number=ticket.number))


def change_status(ticket: Ticket, new_status: str, note: str | None = None, expected_version=None,
                  now: datetime | None = None) -> None:
    """Move a ticket along open -> pending -> resolved -> closed (reopen allowed)."""
    now = now or utcnow()
    note = (note or "").strip()[:1000] or None
    _bump_version(ticket, expected_version)
    old = ticket.status
    if new_status not in states.TICKET_ALLOWED.get(old, ()):
        if old == new_status:
            raise Conflict(_("Ticket %(number)s is already %(status)s.", number=ticket.number,
                             status=states.TICKET_LABELS[old]))
        raise Conflict(_("A ticket that is %(old)s cannot become %(new)s.", old=states.TICKET_LABELS.get(old, old),
                         new=states.TICKET_LABELS.get(new_status, new_status)))
    weekly = _weekly(ticket)
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
    ticket.status = new_status
    ticket.updated_at = now
    db.session.flush()
    hooks().erp_ticket_status_changed(ticket=ticket, old_status=old, new_status=new_status)
    webhooks.emit("ticket.status_changed", ticket, old_status=old, new_status=new_status)
    action = "reopened" if new_status == states.OPEN and old in (states.RESOLVED, states.CLOSED) else "status_changed"
    audit.record("ticket", ticket.id, action, before={"status": old}, after={"status": new_status}, note=note)
    if new_status == states.RESOLVED:
        from . import surveys

        surveys.issue_for_ticket(ticket, now)


def add_message(ticket: Ticket, kind: str, body: str, attachments=(), then_status: str | None = None,
                expected_version=None, now: datetime | None = None) -> TicketMessage:
    """Add a reply to the customer, an internal note or (from the public page) the customer's message.

    A reply is e-mailed to the customer when mail is configured. A customer's message reopens a
    ticket that waited on them or was resolved; a closed ticket takes no more messages.
    """
    now = now or utcnow()
    body = (body or "").strip()
    if kind not in states.MESSAGE_KINDS:
        raise DomainError(_("Unknown kind of message."))
    if not body:
        raise DomainError(_("Write a message."), field="body")
    if len(body) > MAX_BODY:
        raise DomainError(_("The message is too long (at most %(n)d characters).", n=MAX_BODY), field="body")
    if ticket.status == states.CLOSED and kind != "note":
        raise Conflict(_("This request is closed. Please open a new one."))
    if then_status and then_status not in states.TICKET_STATUSES:
        raise DomainError(_("Unknown status."))
    checked = uploads.check_files(attachments)
    user_id, actor_name = audit.current_actor()
    author = (ticket.contact_name or _("Customer")) if kind == "customer" else _author_label()
    last = db.session.scalar(select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
                             .order_by(TicketMessage.id.desc()).limit(1))
    if last is not None and last.kind == kind and last.body == body and last.author_id == (
            user_id if kind != "customer" else None) and (now - last.created_at) < timedelta(minutes=2):
        raise Conflict(_("This message was already posted."))
    message = TicketMessage(kind=kind, body=body, created_at=now, author_name=author,
                            author_id=user_id if kind != "customer" else None)
    ticket.messages.append(message)
    db.session.flush()
    _attach(ticket, message, checked, from_customer=kind == "customer")
    ticket.updated_at = now
    if kind == "reply":
        if ticket.first_responded_at is None:
            ticket.first_responded_at = now
        if ticket.contact_email:
            message.emailed = queue_mail(
                ticket.contact_email, _("[%(number)s] %(subject)s", number=ticket.number, subject=ticket.subject),
                _("%(body)s\n\n—\nSee the whole conversation and answer here: %(url)s",
                  body=body, url=ticket_public_url(ticket)))
    audit.record("ticket", ticket.id, {"reply": "replied", "note": "noted", "customer": "customer_wrote"}[kind],
                 after={"emailed": message.emailed} if kind == "reply" else None)
    if kind != "note":  # internal notes stay inside
        webhooks.emit("ticket.message_added", ticket, message={
            "id": message.id, "kind": kind, "body": body, "author_name": message.author_name,
            "created_at": message.created_at.isoformat(), "emailed": message.emailed})
    if kind == "customer" and ticket.status in (states.PENDING, states.RESOLVED):
        change_status(ticket, states.OPEN, note=_("The customer wrote again."), now=now)
    elif then_status and then_status != ticket.status:
        change_status(ticket, then_status, expected_version=expected_version, now=now)
    return message


def _author_label() -> str:
    from flask_login import current_user

    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.label
    return "system"


def assign(ticket: Ticket, team_id, assignee_id, expected_version=None) -> None:
    """Give the ticket to a team and/or an agent (audited)."""
    errors: dict[str, str] = {}
    team = None
    if str(team_id or "").strip():
        team = db.session.get(Team, _int_or_none(team_id) or 0)
        if team is None:
            errors["team_id"] = _("Unknown team.")
    new_assignee = _check_assignee(assignee_id, errors)
    if errors:
        key, message = next(iter(errors.items()))
        raise DomainError(message, field=key)
    _bump_version(ticket, expected_version)
    before = {"team": ticket.team.name if ticket.team else None, "assignee": _username(ticket.assignee_id)}
    ticket.team = team
    ticket.assignee_id = new_assignee
    ticket.updated_at = utcnow()
    db.session.flush()
    after = {"team": team.name if team else None, "assignee": _username(new_assignee)}
    b, a = audit.diff(before, after)
    if a:
        audit.record("ticket", ticket.id, "assigned", before=b, after=a)


def _username(user_id: int | None) -> str | None:
    if user_id is None:
        return None
    from erp_core.auth.models import User

    user = db.session.get(User, user_id)
    return user.username if user else None


def update_details(ticket: Ticket, subject: str, category: str, priority: str, expected_version=None) -> None:
    """Change subject, category or priority; a new priority sets new due times from creation."""
    subject = (subject or "").strip()[:200]
    if not subject:
        raise DomainError(_("Give the request a subject."), field="subject")
    if category not in states.CATEGORIES:
        raise DomainError(_("Choose a category."), field="category")
    if priority not in states.PRIORITIES:
        raise DomainError(_("Choose a priority."), field="priority")
    _bump_version(ticket, expected_version)
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


def ticket_requested(order, subject: str, body: str, category: str, source_type: str, source_id) -> Ticket:
    """Another plugin asks us to contact the customer about ``order`` (``erp_ticket_requested``)."""
    if category not in states.CATEGORIES:
        category = "order_question"
    existing = None
    if source_type and source_id is not None:
        existing = db.session.scalar(select(Ticket).where(
            Ticket.source_type == source_type, Ticket.source_id == str(source_id),
            Ticket.status.in_(states.ACTIVE)).limit(1))
    if existing is not None:  # the same problem asked twice: one ticket, with a note
        add_message(existing, "note", body or subject)
        return existing
    return open_ticket(TicketInput(subject=subject, body=body or subject, category=category, priority="high",
                                   channel="internal", order_id=order.id if order is not None else None,
                                   body_kind="note", source_type=source_type, source_id=source_id))


# ----------------------------------------------------------------------------- queues


QUEUES = ("mine", "team", "unassigned", "overdue", "all")


@dataclass
class TicketFilters:
    queue: str = "all"
    status: str = ""
    priority: str = ""
    category: str = ""
    channel: str = ""
    team_id: str = ""
    q: str = ""
    order_id: str = ""
    assignee_id: str = ""
    customer_id: str = ""
    overdue: bool | None = None  # True: only overdue tickets; False: none of them


def ticket_query(filters: TicketFilters, user_id: int, now: datetime | None = None):
    """The SELECT of a queue with filters (no ordering; the view sorts and paginates)."""
    now = now or utcnow()
    stmt = select(Ticket)
    queue = filters.queue if filters.queue in QUEUES else "all"
    if queue == "mine":
        stmt = stmt.where(Ticket.assignee_id == user_id)
    elif queue == "team":
        stmt = stmt.where(Ticket.team_id.in_(select(TeamMember.team_id).where(TeamMember.user_id == user_id)))
    elif queue == "unassigned":
        stmt = stmt.where(Ticket.assignee_id.is_(None))
    elif queue == "overdue":
        stmt = stmt.where(overdue_condition(now))
    if filters.status in states.TICKET_STATUSES:
        stmt = stmt.where(Ticket.status == filters.status)
    elif filters.status == "active" or (filters.status != "any" and queue != "all"):
        stmt = stmt.where(Ticket.status.in_(states.ACTIVE))
    if filters.priority in states.PRIORITIES:
        stmt = stmt.where(Ticket.priority == filters.priority)
    if filters.category in states.CATEGORIES:
        stmt = stmt.where(Ticket.category == filters.category)
    if filters.channel in states.CHANNELS:
        stmt = stmt.where(Ticket.channel == filters.channel)
    if str(filters.team_id).isdigit():
        stmt = stmt.where(Ticket.team_id == int(filters.team_id))
    if str(filters.order_id).isdigit():
        stmt = stmt.where(Ticket.order_id == int(filters.order_id))
    if str(filters.assignee_id).isdigit():
        stmt = stmt.where(Ticket.assignee_id == int(filters.assignee_id))
    if str(filters.customer_id).isdigit():
        stmt = stmt.where(Ticket.customer_id == int(filters.customer_id))
    if filters.overdue is True:
        stmt = stmt.where(overdue_condition(now))
    elif filters.overdue is False:
        stmt = stmt.where(not_(func.coalesce(overdue_condition(now), False)))
    q = (filters.q or "").strip()
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(Ticket.number) == q.lower(), func.lower(Ticket.subject).like(like),
                              func.lower(Ticket.contact_name).like(like), Ticket.contact_email == q.lower()))
    return stmt


PRIORITY_RANK = case({"urgent": 0, "high": 1, "normal": 2, "low": 3}, value=Ticket.priority, else_=4)

SORT_COLUMNS = {
    "id": Ticket.id,
    "created": Ticket.created_at,
    "updated": Ticket.updated_at,
    "due": Ticket.resolution_due,
    "priority": PRIORITY_RANK,
}


def queue_counts(user_id: int, now: datetime | None = None) -> dict[str, int]:
    """How many active tickets each queue holds (one query)."""
    now = now or utcnow()
    my_teams = select(TeamMember.team_id).where(TeamMember.user_id == user_id)
    active = Ticket.status.in_(states.ACTIVE)
    row = db.session.execute(select(
        func.count().filter(and_(active, Ticket.assignee_id == user_id)),
        func.count().filter(and_(active, Ticket.team_id.in_(my_teams))),
        func.count().filter(and_(active, Ticket.assignee_id.is_(None))),
        func.count().filter(overdue_condition(now)),
    ).select_from(Ticket)).one()
    return dict(zip(("mine", "team", "unassigned", "overdue"), row))


def order_tickets(order_id: int) -> list[Ticket]:
    """The latest 50 tickets about an order, for its page's panel.

    The ticket's order, team and assignee are not joined (the panel shows none of them and the
    page already has the order): joining the order eagerly nests its customer's inner join in an
    outer join, which SQLite answers by materialising every order with its customer."""
    return list(db.session.scalars(select(Ticket).where(Ticket.order_id == order_id).order_by(Ticket.id.desc())
                                   .options(lazyload(Ticket.order), lazyload(Ticket.team),
                                            lazyload(Ticket.assignee))
                                   .limit(50)))


# ----------------------------------------------------------------------------- canned replies


def save_canned(reply: CannedReply | None, title: str, body: str, active: bool) -> CannedReply:
    title = (title or "").strip()[:120]
    body = (body or "").strip()
    if not title:
        raise DomainError(_("Give the reply a title."), field="title")
    if not body:
        raise DomainError(_("Write the text of the reply."), field="body")
    clash = db.session.scalar(select(CannedReply.id).where(func.lower(CannedReply.title) == title.lower(),
                                                           CannedReply.id != (reply.id if reply else -1)))
    if clash:
        raise DomainError(_("Another canned reply is called %(title)s.", title=title), field="title")
    created = reply is None
    if created:
        reply = CannedReply(title=title, body=body, active=active)
        db.session.add(reply)
    before = None if created else {"title": reply.title, "body": reply.body, "active": reply.active}
    reply.title, reply.body, reply.active, reply.updated_at = title, body, active, utcnow()
    db.session.flush()
    after = {"title": title, "body": body, "active": active}
    if created:
        audit.record("support_canned", reply.id, "created", after=after)
    else:
        b, a = audit.diff(before, after)
        if a:
            audit.record("support_canned", reply.id, "changed", before=b, after=a)
    return reply


def render_canned(reply: CannedReply, ticket: Ticket) -> str:
    """Fill the placeholders {customer}, {ticket}, {order} and {agent} of a canned reply."""
    values = {"customer": ticket.contact_name or _("customer"), "ticket": ticket.number,
              "order": ticket.order.number if ticket.order is not None else "", "agent": _author_label()}
    return re.sub(r"\{(customer|ticket|order|agent)\}", lambda m: values[m.group(1)], reply.body)

