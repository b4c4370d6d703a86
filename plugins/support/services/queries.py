"""Queues and lists of tickets: the SELECT behind each queue and its filters, sort columns,
counts per queue, an order's tickets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, not_, or_, select
from sqlalchemy.orm import lazyload

from erp_core.extensions import db
from erp_core.timeutil import utcnow

from .. import states
from ..models import TeamMember, Ticket
from ..scope import ticket_scope
from .sla import overdue_condition

QUEUES = ("mine", "team", "unassigned", "overdue", "all")


@dataclass
class TicketFilters:
    """A queue and the filters of the ticket list (as the page or the API reads them)."""

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


# Filters by a choice (applied when the value is one of the choices) and by an id (when digits).
_CHOICE_FILTERS = (("priority", Ticket.priority, states.PRIORITIES), ("category", Ticket.category, states.CATEGORIES),
                   ("channel", Ticket.channel, states.CHANNELS))
_ID_FILTERS = (("team_id", Ticket.team_id), ("order_id", Ticket.order_id), ("assignee_id", Ticket.assignee_id),
               ("customer_id", Ticket.customer_id))


def ticket_query(filters: TicketFilters, user_id: int, now: datetime | None = None):
    """The SELECT of a queue with filters (no ordering; the view sorts and paginates)."""
    now = now or utcnow()
    queue = filters.queue if filters.queue in QUEUES else "all"
    stmt = _queue_clause(select(Ticket).where(ticket_scope()), queue, user_id, now)  # own customers only
    stmt = _status_clause(stmt, filters.status, queue)
    for name, column, choices in _CHOICE_FILTERS:
        if getattr(filters, name) in choices:
            stmt = stmt.where(column == getattr(filters, name))
    for name, column in _ID_FILTERS:
        if str(getattr(filters, name)).isdigit():
            stmt = stmt.where(column == int(getattr(filters, name)))
    if filters.overdue is True:
        stmt = stmt.where(overdue_condition(now))
    elif filters.overdue is False:
        stmt = stmt.where(not_(func.coalesce(overdue_condition(now), False)))
    return _search_clause(stmt, filters.q)


def _queue_clause(stmt, queue: str, user_id: int, now: datetime):
    """Narrow to a queue: the user's tickets, their teams', the unassigned or the overdue ones."""
    if queue == "mine":
        return stmt.where(Ticket.assignee_id == user_id)
    if queue == "team":
        return stmt.where(Ticket.team_id.in_(select(TeamMember.team_id).where(TeamMember.user_id == user_id)))
    if queue == "unassigned":
        return stmt.where(Ticket.assignee_id.is_(None))
    if queue == "overdue":
        return stmt.where(overdue_condition(now))
    return stmt


def _status_clause(stmt, status: str, queue: str):
    """One status; or the active ones when asked, and by default in every queue but "all"."""
    if status in states.TICKET_STATUSES:
        return stmt.where(Ticket.status == status)
    if status == "active" or (status != "any" and queue != "all"):
        return stmt.where(Ticket.status.in_(states.ACTIVE))
    return stmt


def _search_clause(stmt, q: str | None):
    """Search by exact number or e-mail, or by part of the subject or the contact's name."""
    q = (q or "").strip()
    if not q:
        return stmt
    like = f"%{q.lower()}%"
    return stmt.where(or_(func.lower(Ticket.number) == q.lower(), func.lower(Ticket.subject).like(like),
                          func.lower(Ticket.contact_name).like(like), Ticket.contact_email == q.lower()))


PRIORITY_RANK = case({"urgent": 0, "high": 1, "normal": 2, "low": 3}, value=Ticket.priority, else_=4)

SORT_COLUMNS = {
    "id": Ticket.id,
    "created": Ticket.created_at,
    "updated": Ticket.updated_at,
    "due": Ticket.resolution_due,
    "priority": PRIORITY_RANK,
}


def queue_counts(user_id: int, now: datetime | None = None) -> dict[str, int]:
    """How many active tickets each queue holds (one query), of those the logged-in user may see."""
    now = now or utcnow()
    my_teams = select(TeamMember.team_id).where(TeamMember.user_id == user_id)
    active = Ticket.status.in_(states.ACTIVE)
    row = db.session.execute(select(
        func.count().filter(and_(active, Ticket.assignee_id == user_id)),
        func.count().filter(and_(active, Ticket.team_id.in_(my_teams))),
        func.count().filter(and_(active, Ticket.assignee_id.is_(None))),
        func.count().filter(overdue_condition(now)),
    ).select_from(Ticket).where(ticket_scope())).one()
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
