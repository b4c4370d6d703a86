"""Support's answer to the header search (``erp_search``): tickets by number (a prefix, on its
unique index; ``support_ticket_number_search`` on PostgreSQL)."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from erp_core.contrib import SearchResult
from erp_core.extensions import db
from erp_core.search import prefix

from . import states
from .models import Ticket
from .scope import ticket_scope

TICKETS = _l("Support tickets")


def find_tickets(query: str, limit: int) -> list[Ticket]:
    """Tickets whose number starts with ``query``, newest first; those the logged-in user may see
    (:func:`~.scope.ticket_scope`)."""
    stmt = (select(Ticket).where(prefix(Ticket.number, query.replace(" ", "").upper()), ticket_scope())
            .order_by(Ticket.id.desc()).limit(limit))
    return list(db.session.scalars(stmt))


def search(query: str, user, limit: int) -> list[SearchResult]:
    """The tickets matching ``query``, for a user who may see tickets."""
    if not user.can("support.tickets.view"):
        return []
    return [SearchResult("ticket", TICKETS, ticket.number, url_for("support.ticket", ticket_id=ticket.id),
                         f"{ticket.subject} · {states.TICKET_LABELS.get(ticket.status, '')}", order=50)
            for ticket in find_tickets(query, limit)]
