"""The "own customers only" scope (``orders.scope.own``) on support records: a scoped user sees
no ticket or return tied to an order or a customer they may not see (``plugins.orders.public``).
Staff pages and the API narrow their lists with :func:`ticket_scope` / :func:`return_scope` and
answer 404 for one record out of scope (:func:`require_visible`); customers' token pages do not."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, true
from sqlalchemy.sql.elements import True_

from erp_core.errors import NotFound
from erp_core.extensions import db
from plugins.orders.public import customer_scope, order_scope

from .models import ReturnRequest, Survey, Ticket


def ticket_scope(user=None):
    """A SQL condition on tickets: those ``user`` (default: the logged-in user) may see, i.e. whose
    order and customer, when set, are in their scope (``true()`` for an unscoped user)."""
    return and_(or_(Ticket.order_id.is_(None), order_scope(Ticket.order_id, user=user)),
                or_(Ticket.customer_id.is_(None), customer_scope(user=user, customer_id_column=Ticket.customer_id)))


def return_scope(user=None):
    """A SQL condition on return requests: those of orders ``user`` may see."""
    return order_scope(ReturnRequest.order_id, user=user)


def survey_scope(user=None):
    """A SQL condition on surveys (the satisfaction report): those whose ticket and order, when
    set, ``user`` may see (``true()`` for an unscoped user, without a subquery)."""
    if isinstance(order_scope(user=user), True_):
        return true()
    return and_(or_(Survey.ticket_id.is_(None), Survey.ticket_id.in_(select(Ticket.id).where(ticket_scope(user)))),
                or_(Survey.order_key.is_(None), order_scope(Survey.order_key, user=user)))


def require_visible(record):
    """``record`` (a Ticket or a ReturnRequest) when the logged-in user may see it, else NotFound
    (as if it did not exist)."""
    if isinstance(record, Ticket):
        condition, message = and_(Ticket.id == record.id, ticket_scope()), _("No such ticket.")
    else:
        condition, message = and_(ReturnRequest.id == record.id, return_scope()), _("No such return request.")
    if db.session.scalar(select(type(record).id).where(condition)) is None:
        raise NotFound(message)
    return record
