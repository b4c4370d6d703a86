"""Satisfaction surveys (客户满意度调查): issued after a ticket is resolved and after an order is
delivered, answered once through an unguessable link before they expire, reported as CSAT.

CSAT is the share of answers scoring 4 or 5. A score at or below the low-score setting opens a
follow-up ticket.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import selectinload

from erp_core import audit, settings
from erp_core.errors import Conflict, DomainError
from erp_core.extensions import db
from erp_core.i18n import system_text
from erp_core.mail import mail_configured, queue_mail
from erp_core.timeutil import local_day_bounds, to_zone, utcnow

from . import states, tokens
from .models import Survey, Ticket
from .scope import survey_scope

SATISFIED = 4  # scores from here up count as satisfied
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def valid_days() -> int:
    try:
        return max(1, int(settings.get("support.survey_valid_days", 14) or 14))
    except (TypeError, ValueError):
        return 14


def low_score() -> int:
    try:
        return min(5, max(0, int(settings.get("support.survey_low_score", 2))))
    except (TypeError, ValueError):
        return 2


def issue_for_ticket(ticket: Ticket, now: datetime | None = None) -> Survey | None:
    """One survey per ticket, issued when it is first resolved. Tickets opened by other modules
    for internal reasons, and follow-ups of surveys, are not surveyed."""
    now = now or utcnow()
    if ticket.channel == "internal" or ticket.source_type == "survey":
        return None
    if db.session.scalar(select(Survey.id).where(Survey.ticket_id == ticket.id)):
        return None
    survey = Survey(kind="ticket", ticket_id=ticket.id, order_id=ticket.order_id, team_id=ticket.team_id,
                    agent_id=ticket.assignee_id, category=ticket.category, email=ticket.contact_email or "",
                    nonce=tokens.new_nonce(), issued_at=now, expires_at=now + timedelta(days=valid_days()))
    return _insert(survey, f"ticket {ticket.number}")


def issue_for_order(order, now: datetime | None = None) -> Survey | None:
    """One survey per order, issued when it is delivered."""
    now = now or utcnow()
    if db.session.scalar(select(Survey.id).where(Survey.order_key == order.id)):
        return None
    email = order.contact_email or (order.customer.email if order.customer is not None else "") or ""
    survey = Survey(kind="order", order_id=order.id, order_key=order.id, category="delivery", email=email,
                    nonce=tokens.new_nonce(), issued_at=now, expires_at=now + timedelta(days=valid_days()))
    return _insert(survey, f"order {order.number}")


def _insert(survey: Survey, what: str) -> Survey | None:
    from sqlalchemy.exc import IntegrityError

    try:
        with db.session.begin_nested():
            db.session.add(survey)
            db.session.flush()
    except IntegrityError:  # issued concurrently by another transaction
        return None
    audit.record("survey", survey.id, "issued", after={"for": what, "expires": survey.expires_at})
    return survey


def token(survey: Survey) -> str:
    return tokens.derive("survey", survey.id, survey.nonce)


def url(survey: Survey) -> str:
    from .services.desk import public_url

    return public_url("support_public.survey", survey_id=survey.id, token=token(survey))


def find_by_token(survey_id: int, raw_token: str) -> Survey | None:
    return tokens.find(Survey, "survey", survey_id, raw_token)


def is_open(survey: Survey, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return survey.answered_at is None and survey.expires_at > now


def answer(survey: Survey, score, comment: str, now: datetime | None = None) -> Survey:
    """Record the one answer (a conditional UPDATE: a second or late answer is refused)."""
    now = now or utcnow()
    text = str(score if score is not None else "").strip()
    if not text.isdigit() or not 1 <= int(text) <= 5:
        raise DomainError(_("Choose a score from 1 to 5."), field="score")
    score_value = int(text)
    comment = (comment or "").strip()[:4000]
    result = db.session.execute(
        update(Survey).where(Survey.id == survey.id, Survey.answered_at.is_(None), Survey.expires_at > now)
        .values(answered_at=now, score=score_value, comment=comment).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.refresh(survey)
        if survey.answered_at is not None:
            raise Conflict(_("This survey has already been answered. Thank you!"))
        raise Conflict(_("This survey has expired."))
    db.session.refresh(survey)
    audit.record("survey", survey.id, "answered", after={"score": score_value}, note=comment or None)
    if score_value <= low_score():
        _follow_up(survey)
    return survey


def _follow_up(survey: Survey) -> None:
    from .services.tickets import TicketInput, open_ticket

    ticket = survey.ticket
    order = survey.order
    about = ticket.number if ticket is not None else (order.number if order is not None else "")
    # Stored as system texts: every member of staff reads the subject and note in their language.
    comment = CONTROL.sub("", survey.comment or "") or "—"  # kept short of the message limit once stored
    body = system_text("support.survey_followup_note", score=survey.score, about=about, comment=comment)
    subject = system_text("support.survey_followup_subject", about=about)
    data = TicketInput(subject=subject, body=body,
                       category="complaint", priority="high", channel="internal", body_kind="note",
                       order_id=survey.order_id, source_type="survey", source_id=survey.id,
                       contact_name=ticket.contact_name if ticket is not None else "",
                       contact_email=survey.email, contact_phone=ticket.contact_phone if ticket is not None else "",
                       team_id=survey.team_id)
    if ticket is not None and ticket.customer_id and not survey.order_id:
        data.customer_id = ticket.customer_id
    followup = open_ticket(data)
    survey.followup_ticket_id = followup.id
    audit.record("survey", survey.id, "follow_up_opened", after={"ticket": followup.number})


def send_pending(now: datetime | None = None, limit: int = 200) -> int:
    """Job: e-mail surveys not sent yet (each claimed once, across processes)."""
    now = now or utcnow()
    if not mail_configured():
        return 0
    candidates = db.session.scalars(
        select(Survey).where(Survey.sent_at.is_(None), Survey.answered_at.is_(None), Survey.email != "",
                             Survey.expires_at > now).order_by(Survey.id).limit(limit)).all()
    sent = 0
    for survey in candidates:
        claimed = db.session.execute(update(Survey).where(Survey.id == survey.id, Survey.sent_at.is_(None))
                                     .values(sent_at=now).execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            continue
        if survey.kind == "ticket" and survey.ticket is not None:
            subject = _("How did we do? (%(number)s)", number=survey.ticket.number)
        else:
            subject = _("How was your order %(number)s?", number=survey.order.number if survey.order else "")
        queue_mail(survey.email, subject,
                   _("Please tell us how satisfied you are, from 1 to 5. It takes ten seconds:\n\n%(url)s\n\n"
                     "The link works until %(until)s.", url=url(survey), until=survey.expires_at.date().isoformat()))
        sent += 1
    return sent


# ----------------------------------------------------------------------------- reports


@dataclass
class ReportFilters:
    start: date
    end: date  # inclusive
    kind: str = ""
    team_id: int | None = None
    agent_id: int | None = None
    category: str = ""
    period: str = "week"


def _conditions(f: ReportFilters, tz: str):
    start, _ = local_day_bounds(f.start, tz)
    _, end = local_day_bounds(f.end, tz)
    conds = [Survey.answered_at.is_not(None), Survey.answered_at >= start, Survey.answered_at < end,
             survey_scope()]  # a salesperson: own customers' surveys only
    if f.kind in ("ticket", "order"):
        conds.append(Survey.kind == f.kind)
    if f.team_id:
        conds.append(Survey.team_id == f.team_id)
    if f.agent_id:
        conds.append(Survey.agent_id == f.agent_id)
    if f.category in states.CATEGORIES:
        conds.append(Survey.category == f.category)
    return and_(*conds)


def _stats_columns():
    satisfied = func.count().filter(Survey.score >= SATISFIED)
    return func.count(), satisfied, func.avg(Survey.score)


@dataclass
class Stat:
    key: object
    label: str
    responses: int
    satisfied: int
    average: float | None

    @property
    def csat(self) -> float | None:
        return round(100.0 * self.satisfied / self.responses, 1) if self.responses else None


def summary(f: ReportFilters, tz: str) -> Stat:
    total, satisfied, average = db.session.execute(select(*_stats_columns()).where(_conditions(f, tz))).one()
    return Stat(None, _("All"), total or 0, satisfied or 0, round(float(average), 2) if average is not None else None)


def breakdown(f: ReportFilters, tz: str, by: str) -> list[Stat]:
    """CSAT grouped by ``team``, ``agent`` or ``category`` (one query each)."""
    from erp_core.auth.models import User

    from .models import Team

    if by == "team":
        key, label = Survey.team_id, Team.name
        stmt = select(key, label, *_stats_columns()).outerjoin(Team, Team.id == Survey.team_id)
    elif by == "agent":
        key, label = Survey.agent_id, func.coalesce(func.nullif(User.display_name, ""), User.username)
        stmt = select(key, label, *_stats_columns()).outerjoin(User, User.id == Survey.agent_id)
    else:
        key = label = Survey.category
        stmt = select(key, label, *_stats_columns())
    group = [key] if by == "category" else [key, label]
    rows = db.session.execute(stmt.where(_conditions(f, tz)).group_by(*group).order_by(func.count().desc())).all()
    result = []
    for k, name, total, satisfied, average in rows:
        if by == "category":
            name = str(states.CATEGORY_LABELS.get(k, k or _("Delivery")))
        if not name:
            name = _("No team") if by == "team" else _("No agent")
        result.append(Stat(k, name, total, satisfied or 0,
                           round(float(average), 2) if average is not None else None))
    return result


def by_period(f: ReportFilters, tz: str) -> list[Stat]:
    """CSAT per day, week (starting Monday) or month of the company's calendar, gaps included."""
    rows = db.session.execute(select(Survey.answered_at, Survey.score).where(_conditions(f, tz))).all()
    buckets: OrderedDict = OrderedDict()
    cursor = _period_start(f.start, f.period)
    while cursor <= f.end:
        buckets[cursor] = [0, 0, 0]
        cursor = _next_period(cursor, f.period)
    for answered_at, score in rows:
        key = _period_start(to_zone(answered_at, tz).date(), f.period)
        bucket = buckets.setdefault(key, [0, 0, 0])
        bucket[0] += 1
        bucket[1] += 1 if score >= SATISFIED else 0
        bucket[2] += score
    return [Stat(k, _period_label(k, f.period), n, s, round(total / n, 2) if n else None)
            for k, (n, s, total) in buckets.items()]


def _period_start(day: date, period: str) -> date:
    if period == "month":
        return day.replace(day=1)
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day


def _next_period(day: date, period: str) -> date:
    if period == "month":
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day + timedelta(days=7 if period == "week" else 1)


def _period_label(day: date, period: str) -> str:
    if period == "month":
        return day.strftime("%Y-%m")
    return day.isoformat()


def answered_query(f: ReportFilters, tz: str, score: int | None = None, max_score: int | None = None):
    """Answered surveys within the report's filters (the rows the CSAT numbers count), with their
    ticket and order loaded in two more queries; no ordering."""
    stmt = select(Survey).where(_conditions(f, tz)).options(selectinload(Survey.ticket), selectinload(Survey.order))
    if score:
        stmt = stmt.where(Survey.score == score)
    if max_score:
        stmt = stmt.where(Survey.score <= max_score)
    return stmt


def comments_query(f: ReportFilters, tz: str, max_score: int | None = None):
    stmt = (select(Survey).where(_conditions(f, tz), Survey.comment != "")
            .options(selectinload(Survey.ticket), selectinload(Survey.order)))
    if max_score:
        stmt = stmt.where(Survey.score <= max_score)
    return stmt
