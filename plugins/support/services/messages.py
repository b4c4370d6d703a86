"""A ticket's thread: replies to the customer, internal notes and the customer's own messages,
and requests from other plugins to contact a customer (a new ticket, or a note on the open one)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from erp_core import audit, webhooks
from erp_core.errors import Conflict, DomainError
from erp_core.extensions import db
from erp_core.mail import queue_mail
from erp_core.timeutil import utcnow

from .. import states, uploads
from ..models import Ticket, TicketMessage
from ._common import MAX_BODY, attach, author_label
from .actions import change_status
from .desk import ticket_public_url
from .tickets import TicketInput, open_ticket

AUDIT_ACTIONS = {"reply": "replied", "note": "noted", "customer": "customer_wrote"}


def add_message(ticket: Ticket, kind: str, body: str, attachments=(), then_status: str | None = None,
                expected_version=None, now: datetime | None = None) -> TicketMessage:
    """Add a reply to the customer, an internal note or (from the public page) the customer's message.

    A reply is e-mailed to the customer when mail is configured. A customer's message reopens a
    ticket that waited on them or was resolved; a closed ticket takes no more messages.
    """
    now = now or utcnow()
    body = (body or "").strip()
    _check_message(ticket, kind, body, then_status)
    checked = uploads.check_files(attachments)
    message = _append(ticket, kind, body, now)
    attach(ticket, message, checked, from_customer=kind == "customer")
    ticket.updated_at = now
    if kind == "reply":
        _after_reply(ticket, message, body, now)
    audit.record("ticket", ticket.id, AUDIT_ACTIONS[kind],
                 after={"emailed": message.emailed} if kind == "reply" else None)
    if kind != "note":  # internal notes stay inside
        webhooks.emit("ticket.message_added", ticket, message={
            "id": message.id, "kind": kind, "body": body, "author_name": message.author_name,
            "created_at": message.created_at.isoformat(), "emailed": message.emailed})
    _follow_status(ticket, kind, then_status, expected_version, now)
    return message


def _check_message(ticket: Ticket, kind: str, body: str, then_status: str | None) -> None:
    """Refuse an unknown kind or status, an empty or too long text, a message on a closed ticket."""
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


def _append(ticket: Ticket, kind: str, body: str, now: datetime) -> TicketMessage:
    """Add the message row, signed by the customer or the agent; refuse a double post."""
    user_id, _actor_name = audit.current_actor()
    author_id = user_id if kind != "customer" else None
    author = (ticket.contact_name or _("Customer")) if kind == "customer" else author_label()
    _refuse_repeat(ticket, kind, body, author_id, now)
    message = TicketMessage(kind=kind, body=body, created_at=now, author_name=author, author_id=author_id)
    ticket.messages.append(message)
    db.session.flush()
    return message


def _refuse_repeat(ticket: Ticket, kind: str, body: str, author_id: int | None, now: datetime) -> None:
    """Refuse the same text by the same author as the ticket's last message within two minutes."""
    last = db.session.scalar(select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
                             .order_by(TicketMessage.id.desc()).limit(1))
    if last is None or (last.kind, last.body, last.author_id) != (kind, body, author_id):
        return
    if (now - last.created_at) < timedelta(minutes=2):
        raise Conflict(_("This message was already posted."))


def _after_reply(ticket: Ticket, message: TicketMessage, body: str, now: datetime) -> None:
    """A reply answers the customer: it counts as first response and is mailed to them."""
    if ticket.first_responded_at is None:
        ticket.first_responded_at = now
    if ticket.contact_email:
        message.emailed = queue_mail(
            ticket.contact_email, _("[%(number)s] %(subject)s", number=ticket.number, subject=ticket.subject),
            _("%(body)s\n\n—\nSee the whole conversation and answer here: %(url)s",
              body=body, url=ticket_public_url(ticket)))


def _follow_status(ticket: Ticket, kind: str, then_status: str | None, expected_version, now: datetime) -> None:
    """Reopen a ticket the customer wrote to again, or move it to the status the agent chose."""
    if kind == "customer" and ticket.status in (states.PENDING, states.RESOLVED):
        change_status(ticket, states.OPEN, note=_("The customer wrote again."), now=now)
    elif then_status and then_status != ticket.status:
        change_status(ticket, then_status, expected_version=expected_version, now=now)


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
