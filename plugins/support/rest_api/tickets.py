"""The tickets API of support (``/api/v1/tickets``): queues, threads, status and assignment."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy import func, select

from erp_core.api.idempotency import idempotent
from erp_core.api.pagination import paginate
from erp_core.api.schemas import (
    NO_NUL,
    ApiSchema,
    PageQuerySchema,
    WholeNumber,
    id_field,
    one_of,
    page_schema,
    sort_choices,
    text_field,
)
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.i18n import render_system_text
from erp_core.security import has_permission, requires
from erp_core.timeutil import utcnow
from erp_core.ui import apply_sort
from plugins.orders.public import Order

from .. import services, states
from ..models import Attachment, Ticket
from ..scope import require_visible
from ._common import AttachmentOut, With, refuse, unit_of_work, version_field

tickets_bp = Blueprint("support_tickets_api", __name__, url_prefix="/api/v1/tickets",
                       description="Support tickets: queues, threads, status and assignment")


class TicketOut(ma.Schema):
    id = WholeNumber(required=True)
    number = ma.fields.String(required=True)
    subject = ma.fields.Function(lambda t: render_system_text(t.subject), required=True, metadata={
        "type": "string", "description": "In the request's language when the system wrote it"})
    status = ma.fields.String(required=True, validate=one_of(states.TICKET_STATUSES))
    priority = ma.fields.String(required=True, validate=one_of(states.PRIORITIES))
    category = ma.fields.String(required=True, validate=one_of(states.CATEGORIES))
    channel = ma.fields.String(required=True, validate=one_of(states.CHANNELS))
    customer_id = WholeNumber(required=True, allow_none=True)
    order_id = WholeNumber(required=True, allow_none=True)
    order_number = ma.fields.Function(lambda t: t.order.number if t.order is not None else None,
                                      required=True, allow_none=True, metadata={"type": "string"})
    contact_name = ma.fields.String(required=True)
    contact_email = ma.fields.String(required=True)
    contact_phone = ma.fields.String(required=True)
    team_id = WholeNumber(required=True, allow_none=True)
    team_name = ma.fields.Function(lambda t: t.team.name if t.team is not None else None,
                                   required=True, allow_none=True, metadata={"type": "string"})
    assignee_id = WholeNumber(required=True, allow_none=True)
    assignee_username = ma.fields.Function(lambda t: t.assignee.username if t.assignee is not None else None,
                                           required=True, allow_none=True, metadata={"type": "string"})
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)
    first_response_due = ma.fields.DateTime(required=True, allow_none=True)
    first_responded_at = ma.fields.DateTime(required=True, allow_none=True)
    resolution_due = ma.fields.DateTime(required=True, allow_none=True)
    resolved_at = ma.fields.DateTime(required=True, allow_none=True)
    closed_at = ma.fields.DateTime(required=True, allow_none=True)
    overdue = ma.fields.Function(lambda t: services.is_overdue(t), required=True, metadata={"type": "boolean"})
    version = WholeNumber(required=True)


class MessageOut(ma.Schema):
    id = WholeNumber(required=True)
    kind = ma.fields.String(required=True, validate=one_of(tuple(states.MESSAGE_KINDS)), metadata={
        "description": "reply: to the customer; customer: from the customer; note: internal"})
    body = ma.fields.Function(lambda m: render_system_text(m.body), required=True, metadata={
        "type": "string", "description": "In the request's language when the system wrote it"})
    author_id = WholeNumber(required=True, allow_none=True)
    author_name = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)
    emailed = ma.fields.Boolean(required=True)
    attachments = ma.fields.List(ma.fields.Nested(AttachmentOut), required=True)


class TicketDetailOut(TicketOut):
    messages = ma.fields.List(ma.fields.Nested(MessageOut), required=True)
    attachments = ma.fields.List(ma.fields.Nested(AttachmentOut), required=True, metadata={
        "description": "Files of the ticket not tied to one message"})


TicketPage = page_schema(TicketOut, "TicketPage")

TICKET_SORTS = sort_choices(services.SORT_COLUMNS)


class TicketListIn(PageQuerySchema):
    queue = ma.fields.String(load_default="all", validate=one_of(services.QUEUES), metadata={
        "description": "mine, team (my teams), unassigned, overdue or all"})
    status = ma.fields.String(validate=one_of((*states.TICKET_STATUSES, "active", "any")), metadata={
        "description": "A status, active (open or pending) or any. In a queue other than all, "
                       "only active tickets are listed unless a status is given."})
    priority = ma.fields.String(validate=one_of(states.PRIORITIES))
    category = ma.fields.String(validate=one_of(states.CATEGORIES))
    channel = ma.fields.String(validate=one_of(states.CHANNELS))
    team_id = id_field()
    assignee_id = id_field()
    order_id = id_field()
    customer_id = id_field()
    overdue = ma.fields.Boolean(metadata={"description": "true: only overdue tickets; false: none of them"})
    q = text_field(200, NO_NUL, metadata={
        "description": "Ticket number, words of the subject or contact name, or e-mail"})
    sort = ma.fields.String(load_default="-id", validate=one_of(TICKET_SORTS))


class TicketIn(ApiSchema):
    subject = text_field(200, NO_NUL, required=True)
    body = text_field(services.MAX_BODY, NO_NUL, required=True, metadata={"description": "What the customer asks"})
    category = ma.fields.String(load_default="other", validate=one_of(states.CATEGORIES))
    priority = ma.fields.String(load_default="normal", validate=one_of(states.PRIORITIES))
    channel = ma.fields.String(load_default="web", validate=one_of(states.CHANNELS))
    order_id = id_field(allow_none=True)
    order_number = text_field(32, NO_NUL, allow_none=True, metadata={"description": "Instead of order_id"})
    customer_id = id_field(allow_none=True)
    contact_name = text_field(200, NO_NUL, load_default="")
    contact_email = text_field(200, NO_NUL, load_default="")
    contact_phone = text_field(40, NO_NUL, load_default="")
    team_id = id_field(allow_none=True, metadata={"description": "Empty: routed to the team on duty"})
    assignee_id = id_field(allow_none=True)


class StatusIn(ApiSchema):
    status = ma.fields.String(required=True, validate=one_of(states.TICKET_STATUSES), metadata={
        "description": "open (also to reopen a resolved or closed ticket), pending, resolved or closed"})
    note = text_field(1000, NO_NUL, load_default="")
    version = version_field()


class AssignmentIn(ApiSchema):
    team_id = id_field(required=True, allow_none=True)
    assignee_id = id_field(required=True, allow_none=True)
    version = version_field()


class TicketChangeIn(ApiSchema):
    subject = text_field(200, NO_NUL)
    category = ma.fields.String(validate=one_of(states.CATEGORIES))
    priority = ma.fields.String(validate=one_of(states.PRIORITIES))
    version = version_field()


class MessageIn(ApiSchema):
    kind = ma.fields.String(required=True, validate=one_of(("reply", "note")), metadata={
        "description": "reply: to the customer (e-mailed when mail is set up); note: internal"})
    body = text_field(services.MAX_BODY, NO_NUL, required=True)
    then_status = ma.fields.String(allow_none=True, validate=one_of(states.TICKET_STATUSES), metadata={
        "description": "Change the status in the same step"})
    version = version_field()


def _ticket_detail(ticket: Ticket) -> With:
    by_message: dict = {}
    loose = []
    for attachment in db.session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id)
                                         .order_by(Attachment.id)):
        if attachment.message_id is None:
            loose.append(attachment)
        else:
            by_message.setdefault(attachment.message_id, []).append(attachment)
    return With(ticket, messages=[With(m, attachments=by_message.get(m.id, [])) for m in ticket.messages],
                 attachments=loose)


def _fresh_ticket(ticket_id: int) -> Ticket:
    db.session.expire_all()
    return require_visible(services.get_ticket(ticket_id))


@tickets_bp.route("")
class Tickets(MethodView):
    @requires("support.tickets.view")
    @tickets_bp.arguments(TicketListIn, location="query")
    @tickets_bp.response(200, TicketPage)
    def get(self, args):
        """List tickets with the queues' filters, sorted and paginated."""
        now = utcnow()
        filters = services.TicketFilters(
            queue=args["queue"], status=args.get("status", ""), priority=args.get("priority", ""),
            category=args.get("category", ""), channel=args.get("channel", ""),
            team_id=str(args.get("team_id", "")), assignee_id=str(args.get("assignee_id", "")),
            order_id=str(args.get("order_id", "")), customer_id=str(args.get("customer_id", "")),
            overdue=args.get("overdue"), q=args.get("q", ""))
        stmt, _key, _desc = apply_sort(services.ticket_query(filters, current_user.id, now), services.SORT_COLUMNS,
                                       "-id")
        body, headers = paginate(stmt, args)
        return body, 200, headers

    @requires("support.tickets.reply")
    @idempotent
    @tickets_bp.arguments(TicketIn)
    @tickets_bp.response(201, TicketDetailOut)
    def post(self, data):
        """Open a ticket (routed to the team on duty unless a team is given). The body is the
        customer's first message."""
        order_id = data.get("order_id")
        number = (data.get("order_number") or "").strip().upper()
        if number and order_id is None:
            order_id = db.session.scalar(select(Order.id).where(func.upper(Order.number) == number))
            if order_id is None:
                refuse(_("No order has the number %(number)s.", number=number), "order_number")
        with unit_of_work():
            ticket = services.open_ticket(services.TicketInput(
                subject=data["subject"], body=data["body"], category=data["category"], priority=data["priority"],
                channel=data["channel"], order_id=order_id, customer_id=data.get("customer_id"),
                contact_name=data["contact_name"], contact_email=data["contact_email"],
                contact_phone=data["contact_phone"], team_id=data.get("team_id"),
                assignee_id=data.get("assignee_id")))
        return _ticket_detail(_fresh_ticket(ticket.id))


@tickets_bp.route("/<int:ticket_id>")
class TicketItem(MethodView):
    @requires("support.tickets.view")
    @tickets_bp.response(200, TicketDetailOut)
    def get(self, ticket_id):
        """One ticket with its thread: replies, the customer's messages and internal notes, and
        the attachments' metadata."""
        return _ticket_detail(require_visible(services.get_ticket(ticket_id)))

    @requires("support.tickets.reply")
    @tickets_bp.arguments(TicketChangeIn)
    @tickets_bp.response(200, TicketDetailOut)
    def patch(self, data, ticket_id):
        """Change the subject, category or priority (a new priority sets new due times)."""
        ticket = require_visible(services.get_ticket(ticket_id))
        with unit_of_work():
            services.update_details(ticket, data.get("subject", ticket.subject), data.get("category", ticket.category),
                                    data.get("priority", ticket.priority), expected_version=data.get("version"))
        return _ticket_detail(_fresh_ticket(ticket_id))


@tickets_bp.route("/<int:ticket_id>/status")
class TicketStatus(MethodView):
    @requires("support.tickets.reply")
    @tickets_bp.arguments(StatusIn)
    @tickets_bp.response(200, TicketDetailOut)
    def post(self, data, ticket_id):
        """Move the ticket: open -> pending -> resolved -> closed; open again reopens a resolved or
        closed ticket. Other moves are refused with 409."""
        ticket = require_visible(services.get_ticket(ticket_id))
        with unit_of_work():
            services.change_status(ticket, data["status"], data["note"], expected_version=data.get("version"))
        return _ticket_detail(_fresh_ticket(ticket_id))


@tickets_bp.route("/<int:ticket_id>/assignment")
class TicketAssignment(MethodView):
    @requires("support.tickets.reply")
    @tickets_bp.arguments(AssignmentIn)
    @tickets_bp.response(200, TicketDetailOut)
    def put(self, data, ticket_id):
        """Give the ticket to a team and an agent (null: none). Anyone answering tickets may take
        one (themselves, same team); other assignments need the assign permission or to lead the
        ticket's team or the new team, as on the ticket page."""
        ticket = require_visible(services.get_ticket(ticket_id))
        team_id, assignee_id = data["team_id"], data["assignee_id"]
        taking = assignee_id == current_user.id and team_id == ticket.team_id
        if not taking and not (has_permission("support.tickets.assign")
                               or services.is_lead(current_user.id, ticket.team_id)
                               or services.is_lead(current_user.id, team_id if team_id is not None else -1)):
            raise DomainError(_("Only team leads may give tickets to others."), code="forbidden", status=403)
        with unit_of_work():
            services.assign(ticket, team_id or "", assignee_id or "", expected_version=data.get("version"))
        return _ticket_detail(_fresh_ticket(ticket_id))


@tickets_bp.route("/<int:ticket_id>/messages")
class TicketMessages(MethodView):
    @requires("support.tickets.reply")
    @idempotent
    @tickets_bp.arguments(MessageIn)
    @tickets_bp.response(201, MessageOut)
    def post(self, data, ticket_id):
        """Add a reply to the customer (queued as an e-mail when mail is set up and the customer
        has an address) or an internal note; optionally change the status in the same step."""
        ticket = require_visible(services.get_ticket(ticket_id))
        with unit_of_work():
            message = services.add_message(ticket, data["kind"], data["body"],
                                           then_status=data.get("then_status") or None,
                                           expected_version=data.get("version"))
        return With(message, attachments=[])
