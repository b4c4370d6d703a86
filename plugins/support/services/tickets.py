"""Opening and finding tickets: check what the staff form, the public form or another plugin
submits, find the customer, route to a team, set the due times and post the first message."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _

from erp_core import audit, settings, webhooks
from erp_core.db import MAX_ID, next_counter
from erp_core.errors import NotFound
from erp_core.extensions import db
from erp_core.timeutil import to_zone, utcnow
from plugins.orders import public as order_services
from plugins.orders.public import Customer, Order

from .. import states, tokens, uploads
from ..models import Team, Ticket, TicketMessage
from ._common import (
    MAX_BODY,
    attach,
    check_assignee,
    check_team,
    int_or_none,
    raise_first,
)
from .sla import compute_due
from .teams import route_team


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


@dataclass
class _Checked:
    """A TicketInput once checked: cleaned texts and the rows it names."""

    subject: str
    body: str
    email: str
    phone: str
    order: Order | None
    customer: Customer | None
    team: Team | None
    assignee_id: int | None


@dataclass
class _Contact:
    """Who the ticket is about: the customer row (if known) and how to reach them."""

    customer: Customer | None
    name: str
    email: str
    phone: str


def open_ticket(data: TicketInput, now: datetime | None = None) -> Ticket:
    """Open a ticket, route it to a team on duty and set its SLA due times."""
    now = now or utcnow()
    checked = _check_input(data)
    uploads_checked = uploads.check_files(data.attachments)
    contact = _find_contact(data, checked)
    team = checked.team
    if team is None:
        team = route_team(now)
    actor = audit.current_actor()
    ticket = _new_ticket(data, checked, contact, team, actor[0], now)
    message = _first_message(ticket, data, checked.body, contact.name, actor, now)
    attach(ticket, message, uploads_checked, from_customer=actor[0] is None)
    created = {"number": ticket.number, "channel": ticket.channel, "category": ticket.category,
               "priority": ticket.priority, "team": team.name if team else None,
               "order": checked.order.number if checked.order else None}
    audit.record("ticket", ticket.id, "created", after={k: v for k, v in created.items() if v is not None})
    webhooks.emit("ticket.created", ticket)
    return ticket


def _check_input(data: TicketInput) -> _Checked:
    """Check every field of a new ticket; raise the first error on its field."""
    errors: dict[str, str] = {}
    subject, body = _check_texts(data, errors)
    email, phone = _check_contact(data, errors)
    order, customer = _check_order_customer(data, errors)
    if data.require_contact and not email and not phone:
        errors["contact_email"] = _("Give an e-mail address or a phone number so that we can answer.")
    team = check_team(data.team_id, errors)
    assignee_id = check_assignee(data.assignee_id, errors)
    raise_first(errors)
    return _Checked(subject, body, email, phone, order, customer, team, assignee_id)


def _check_texts(data: TicketInput, errors: dict) -> tuple[str, str]:
    """Subject and first message (cleaned), and the category, priority and channel chosen."""
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
    return subject, body


def _check_contact(data: TicketInput, errors: dict) -> tuple[str, str]:
    """The contact's e-mail (normalised) and phone as given."""
    email = _email_or_error(data.contact_email, "contact_email", errors)
    phone = (data.contact_phone or "").strip()[:40]
    if phone and len(re.sub(r"\D", "", phone)) < 3:
        errors["contact_phone"] = _("%(phone)s does not look like a phone number.", phone=phone)
    return email, phone


def _check_order_customer(data: TicketInput, errors: dict) -> tuple[Order | None, Customer | None]:
    """The order the ticket is about and its customer, or the customer chosen without an order."""
    order = None
    if str(data.order_id or "").strip():
        order_id = int_or_none(data.order_id)
        order = db.session.get(Order, order_id) if order_id else None
        if order is None:
            errors["order_id"] = _("No such order.")
    if order is not None:
        return order, order.customer
    customer = None
    if str(data.customer_id or "").strip():
        customer_id = int_or_none(data.customer_id)
        customer = db.session.get(Customer, customer_id) if customer_id else None
        if customer is None:
            errors["customer_id"] = _("Unknown customer.")
    return order, customer


def _email_or_error(raw: str, field_name: str, errors: dict) -> str:
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        return validate_email(raw, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        errors[field_name] = _("%(email)s is not a valid e-mail address.", email=raw)
        return raw


def _find_contact(data: TicketInput, checked: _Checked) -> _Contact:
    """The customer (matched by e-mail or phone when none was named) and the contact details,
    those given first, then the order's, then the customer's."""
    customer = checked.customer
    if customer is None and (checked.email or checked.phone):
        customer = _match_customer(checked.email, checked.phone)
    found = [(data.contact_name or "").strip()[:200], checked.email, checked.phone]
    if checked.order is not None:
        order = checked.order
        found = _fill(found, (order.contact_name, order.contact_email, order.contact_phone))
    if customer is not None:
        found = _fill(found, (customer.name, customer.email or "", customer.phone or ""))
    return _Contact(customer, *found)


def _fill(found: list, fallback: tuple) -> list:
    """Each empty value of ``found`` replaced by the one at the same place in ``fallback``."""
    return [mine or theirs for mine, theirs in zip(found, fallback)]


def _match_customer(email: str, phone: str) -> Customer | None:
    found = order_services.find_duplicates(phone, email)
    return found[0] if len(found) == 1 else None


def _new_ticket(data: TicketInput, checked: _Checked, contact: _Contact, team: Team | None,
                user_id: int | None, now: datetime) -> Ticket:
    """Add the ticket row, numbered, with its due times."""
    ticket = Ticket(number=next_number("TK", "support.ticket"), subject=checked.subject, status=states.OPEN,
                    priority=data.priority, category=data.category, channel=data.channel,
                    customer_id=contact.customer.id if contact.customer else None,
                    order_id=checked.order.id if checked.order else None,
                    contact_name=contact.name, contact_email=contact.email, contact_phone=contact.phone, team=team,
                    assignee_id=checked.assignee_id, created_by_id=user_id, created_at=now, updated_at=now,
                    source_type=data.source_type, source_id=str(data.source_id) if data.source_id is not None else None,
                    nonce=tokens.new_nonce(), version=1)
    compute_due(ticket, now)
    db.session.add(ticket)
    db.session.flush()
    return ticket


def _first_message(ticket: Ticket, data: TicketInput, body: str, name: str, actor: tuple,
                   now: datetime) -> TicketMessage:
    """The opening message: the customer's words, or an internal note by who opened it."""
    user_id, actor_name = actor
    kind = data.body_kind if data.body_kind in ("customer", "note") else "customer"
    author = (name or _("Customer")) if kind == "customer" else actor_name
    message = TicketMessage(kind=kind, body=body, author_id=user_id if kind == "note" else None,
                            author_name=author, created_at=now)
    ticket.messages.append(message)
    db.session.flush()
    return message


def next_number(prefix: str, counter: str) -> str:
    """The next gap-free number of the company's year, e.g. ``TK-2026-000042``."""
    year = to_zone(utcnow(), settings.company_timezone()).year
    return f"{prefix}-{year}-{next_counter(db.session, f'{counter}.{year}'):06d}"


def get_ticket(ticket_id) -> Ticket:
    """The ticket with this id; NotFound for an unknown or malformed id."""
    ticket = (db.session.get(Ticket, int(ticket_id))
              if str(ticket_id).isdecimal() and int(ticket_id) <= MAX_ID else None)
    if ticket is None:
        raise NotFound(_("No such ticket."))
    return ticket
