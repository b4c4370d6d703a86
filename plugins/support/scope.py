"""The "own customers only" scope (``orders.scope.own``) on support records: a scoped user sees
no ticket or return tied to an order or a customer they may not see (``plugins.orders.public``)."""

from __future__ import annotations

from sqlalchemy import and_, or_, select

from erp_core.extensions import db
from plugins.orders.public import customer_scope, order_scope

from .models import Ticket


def ticket_scope(user=None):
    """A SQL condition on tickets: those ``user`` (default: the logged-in user) may see, i.e. whose
    order and customer, when set, are in their scope (``true()`` for an unscoped user)."""
    return and_(or_(Ticket.order_id.is_(None), order_scope(Ticket.order_id, user=user)),
                or_(Ticket.customer_id.is_(None), customer_scope(user=user, customer_id_column=Ticket.customer_id)))


def ticket_visible(ticket: Ticket, user=None) -> bool:
    """Whether ``user`` (default: the logged-in user) may see ``ticket``."""
    return db.session.scalar(select(Ticket.id).where(Ticket.id == ticket.id, ticket_scope(user))) is not None
