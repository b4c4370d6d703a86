"""The JSON API of support under ``/api/v1``: tickets, return requests (RMA) and survey results.

Thin like the pages: parse with a schema, call the same services (``services``, ``returns``,
``surveys``), commit, answer with a schema. A refused operation rolls back and answers
problem+json (a business rule breaking on the input is 422, a state conflict 409). Every method
carries the permission mark of the page doing the same thing.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta

import marshmallow as ma
from flask.views import MethodView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy import func, select

from erp_core import settings
from erp_core.api.idempotency import idempotent
from erp_core.api.pagination import LinksSchema, paginate
from erp_core.api.schemas import MAX_ID, StorableText, WholeNumber
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.security import has_permission, requires
from erp_core.timeutil import to_zone, utcnow
from erp_core.ui import apply_sort
from plugins.orders.public import Order

from . import returns, services, states, surveys
from .models import Attachment, ReturnRequest, Survey, Ticket

MAX_REPORT_DAYS = 800  # as the CSAT page: a longer window keeps its end and moves its start
EARLIEST, LATEST = date(1970, 1, 1), date(9000, 12, 31)

tickets_bp = Blueprint("support_tickets_api", __name__, url_prefix="/api/v1/tickets",
                       description="Support tickets: queues, threads, status and assignment")
returns_bp = Blueprint("support_returns_api", __name__, url_prefix="/api/v1/returns",
                       description="Return and exchange requests (RMA) and their steps")
surveys_bp = Blueprint("support_surveys_api", __name__, url_prefix="/api/v1/surveys",
                       description="Answered satisfaction surveys and CSAT")

# ----------------------------------------------------------------------------- validation in the asked language

# marshmallow's own messages (English) -> ours, translated when the request is validated.
_MESSAGES = {
    "Missing data for required field.": _l("Missing data for required field."),
    "Field may not be null.": _l("Field may not be null."),
    "Not a valid integer.": _l("Not a valid integer."),
    "Not a valid string.": _l("Not a valid string."),
    "Not a valid boolean.": _l("Not a valid boolean."),
    "Not a valid date.": _l("Not a valid date."),
    "Not a valid list.": _l("Expected a list."),
    "Invalid input type.": _l("Expected a JSON object."),
    "Unknown field.": _l("This field is not part of the request."),
    "Invalid value.": _l("The value is not valid."),
    "Number too large.": _l("Number too large."),
}


def _translate(messages):
    if isinstance(messages, dict):
        return {key: _translate(value) for key, value in messages.items()}
    if isinstance(messages, list):
        return [_translate(value) for value in messages]
    if isinstance(messages, str) and messages in _MESSAGES:
        return str(_MESSAGES[messages])
    return messages


class OneOf(ma.validate.OneOf):
    """``OneOf`` whose message follows the request's language (the OpenAPI ``enum`` stays)."""

    def _format_error(self, value) -> str:
        return _("Must be one of: %(choices)s.", choices=self.choices_text)


class Range(ma.validate.Range):
    """An inclusive ``Range`` whose message follows the request's language."""

    def _format_error(self, value, message: str) -> str:
        if self.min is not None and self.max is not None:
            return _("Must be from %(min)s to %(max)s.", min=self.min, max=self.max)
        if self.min is not None:
            return _("Must be at least %(min)s.", min=self.min)
        return _("Must be at most %(max)s.", max=self.max)


class Length(ma.validate.Length):
    """A ``Length`` (of text or lists) whose message follows the request's language."""

    def _format_error(self, value, message: str) -> str:
        if self.max is not None and len(value) > self.max:
            return _("At most %(max)d characters or items.", max=self.max)
        return _("At least %(min)d characters or items.", min=self.min)


class In(StorableText):
    """A request schema whose field messages come in the user's language; unknown fields refused."""

    class Meta:
        unknown = ma.RAISE

    def handle_error(self, error, data, *, many, **kwargs):
        raise ma.ValidationError(_translate(error.normalized_messages()), data=error.data,
                                 valid_data=error.valid_data)


class QueryIn(In):
    """Query arguments: unknown ones are ignored, like on the pages."""

    class Meta:
        unknown = ma.EXCLUDE


class PageIn(QueryIn):
    page = WholeNumber(load_default=1, validate=Range(min=1, max=1_000_000))
    per_page = WholeNumber(load_default=25, validate=Range(min=1, max=200))


def _id(**kw):
    return WholeNumber(validate=Range(min=1, max=MAX_ID), **kw)


# The core refuses a NUL character in any input (400) before a view runs; the schema says so.
NO_NUL = ma.validate.Regexp(r"^[^\x00]*$")


def _text(max_length: int, **kw):
    return ma.fields.String(validate=[Length(max=max_length), NO_NUL], **kw)


def _version():
    return WholeNumber(validate=Range(min=1, max=MAX_ID), metadata={
        "description": "The version the change is based on (from a GET); a stale one is refused with 409."})


def _sort_choices(keys) -> list[str]:
    return [prefix + key for key in keys for prefix in ("", "-")]


def _page_of(item_schema, name: str):
    return type(name, (ma.Schema,), {
        "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
        "page": WholeNumber(required=True),
        "per_page": WholeNumber(required=True),
        "total": WholeNumber(required=True),
        "links": ma.fields.Nested(LinksSchema, required=True),
    })


@contextmanager
def _unit_of_work():
    """Commit what the block did; on a refusal roll back everything and answer problem+json.

    A plain business-rule refusal (DomainError's default 400) is a 422 for API clients: the
    request was understood, its values cannot be used.
    """
    try:
        yield
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 400:
            exc.status = 422
        raise


def _refuse(message, field: str | None = None):
    raise DomainError(message, field=field, status=422)


# ----------------------------------------------------------------------------- schemas: tickets

def _name_of(attr):
    return lambda obj: getattr(getattr(obj, attr), "name", None) if getattr(obj, attr) is not None else None


class TicketOut(ma.Schema):
    id = WholeNumber(required=True)
    number = ma.fields.String(required=True)
    subject = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=OneOf(states.TICKET_STATUSES))
    priority = ma.fields.String(required=True, validate=OneOf(states.PRIORITIES))
    category = ma.fields.String(required=True, validate=OneOf(states.CATEGORIES))
    channel = ma.fields.String(required=True, validate=OneOf(states.CHANNELS))
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


class AttachmentOut(ma.Schema):
    id = WholeNumber(required=True)
    filename = ma.fields.String(required=True)
    content_type = ma.fields.String(required=True)
    size = WholeNumber(required=True, metadata={"description": "Bytes"})
    from_customer = ma.fields.Boolean(required=True)
    created_at = ma.fields.DateTime(required=True)


class MessageOut(ma.Schema):
    id = WholeNumber(required=True)
    kind = ma.fields.String(required=True, validate=OneOf(tuple(states.MESSAGE_KINDS)), metadata={
        "description": "reply: to the customer; customer: from the customer; note: internal"})
    body = ma.fields.String(required=True)
    author_id = WholeNumber(required=True, allow_none=True)
    author_name = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)
    emailed = ma.fields.Boolean(required=True)
    attachments = ma.fields.List(ma.fields.Nested(AttachmentOut), required=True)


class TicketDetailOut(TicketOut):
    messages = ma.fields.List(ma.fields.Nested(MessageOut), required=True)
    attachments = ma.fields.List(ma.fields.Nested(AttachmentOut), required=True, metadata={
        "description": "Files of the ticket not tied to one message"})


TicketPage = _page_of(TicketOut, "TicketPage")

TICKET_SORTS = _sort_choices(services.SORT_COLUMNS)


class TicketListIn(PageIn):
    queue = ma.fields.String(load_default="all", validate=OneOf(services.QUEUES), metadata={
        "description": "mine, team (my teams), unassigned, overdue or all"})
    status = ma.fields.String(validate=OneOf((*states.TICKET_STATUSES, "active", "any")), metadata={
        "description": "A status, active (open or pending) or any. In a queue other than all, "
                       "only active tickets are listed unless a status is given."})
    priority = ma.fields.String(validate=OneOf(states.PRIORITIES))
    category = ma.fields.String(validate=OneOf(states.CATEGORIES))
    channel = ma.fields.String(validate=OneOf(states.CHANNELS))
    team_id = _id()
    assignee_id = _id()
    order_id = _id()
    customer_id = _id()
    overdue = ma.fields.Boolean(metadata={"description": "true: only overdue tickets; false: none of them"})
    q = _text(200, metadata={"description": "Ticket number, words of the subject or contact name, or e-mail"})
    sort = ma.fields.String(load_default="-id", validate=OneOf(TICKET_SORTS))


class TicketIn(In):
    subject = _text(200, required=True)
    body = _text(services.MAX_BODY, required=True, metadata={"description": "What the customer asks"})
    category = ma.fields.String(load_default="other", validate=OneOf(states.CATEGORIES))
    priority = ma.fields.String(load_default="normal", validate=OneOf(states.PRIORITIES))
    channel = ma.fields.String(load_default="web", validate=OneOf(states.CHANNELS))
    order_id = _id(allow_none=True)
    order_number = _text(32, allow_none=True, metadata={"description": "Instead of order_id"})
    customer_id = _id(allow_none=True)
    contact_name = _text(200, load_default="")
    contact_email = _text(200, load_default="")
    contact_phone = _text(40, load_default="")
    team_id = _id(allow_none=True, metadata={"description": "Empty: routed to the team on duty"})
    assignee_id = _id(allow_none=True)


class StatusIn(In):
    status = ma.fields.String(required=True, validate=OneOf(states.TICKET_STATUSES), metadata={
        "description": "open (also to reopen a resolved or closed ticket), pending, resolved or closed"})
    note = _text(1000, load_default="")
    version = _version()


class AssignmentIn(In):
    team_id = _id(required=True, allow_none=True)
    assignee_id = _id(required=True, allow_none=True)
    version = _version()


class TicketChangeIn(In):
    subject = _text(200)
    category = ma.fields.String(validate=OneOf(states.CATEGORIES))
    priority = ma.fields.String(validate=OneOf(states.PRIORITIES))
    version = _version()


class MessageIn(In):
    kind = ma.fields.String(required=True, validate=OneOf(("reply", "note")), metadata={
        "description": "reply: to the customer (e-mailed when mail is set up); note: internal"})
    body = _text(services.MAX_BODY, required=True)
    then_status = ma.fields.String(allow_none=True, validate=OneOf(states.TICKET_STATUSES), metadata={
        "description": "Change the status in the same step"})
    version = _version()


class _With:
    """An ORM object seen with a few more attributes, for dumping (``messages`` with their files)."""

    def __init__(self, obj, **extra):
        self._obj = obj
        self.__dict__.update(extra)

    def __getattr__(self, name):
        return getattr(self._obj, name)


def _ticket_detail(ticket: Ticket) -> _With:
    by_message: dict = {}
    loose = []
    for attachment in db.session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id)
                                         .order_by(Attachment.id)):
        if attachment.message_id is None:
            loose.append(attachment)
        else:
            by_message.setdefault(attachment.message_id, []).append(attachment)
    return _With(ticket, messages=[_With(m, attachments=by_message.get(m.id, [])) for m in ticket.messages],
                 attachments=loose)


def _fresh_ticket(ticket_id: int) -> Ticket:
    db.session.expire_all()
    return services.get_ticket(ticket_id)


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
                _refuse(_("No order has the number %(number)s.", number=number), "order_number")
        with _unit_of_work():
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
        return _ticket_detail(services.get_ticket(ticket_id))

    @requires("support.tickets.reply")
    @tickets_bp.arguments(TicketChangeIn)
    @tickets_bp.response(200, TicketDetailOut)
    def patch(self, data, ticket_id):
        """Change the subject, category or priority (a new priority sets new due times)."""
        ticket = services.get_ticket(ticket_id)
        with _unit_of_work():
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
        ticket = services.get_ticket(ticket_id)
        with _unit_of_work():
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
        ticket = services.get_ticket(ticket_id)
        team_id, assignee_id = data["team_id"], data["assignee_id"]
        taking = assignee_id == current_user.id and team_id == ticket.team_id
        if not taking and not (has_permission("support.tickets.assign")
                               or services.is_lead(current_user.id, ticket.team_id)
                               or services.is_lead(current_user.id, team_id if team_id is not None else -1)):
            raise DomainError(_("Only team leads may give tickets to others."), code="forbidden", status=403)
        with _unit_of_work():
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
        ticket = services.get_ticket(ticket_id)
        with _unit_of_work():
            message = services.add_message(ticket, data["kind"], data["body"],
                                           then_status=data.get("then_status") or None,
                                           expected_version=data.get("version"))
        return _With(message, attachments=[])


# ----------------------------------------------------------------------------- schemas: returns


class ReturnLineOut(ma.Schema):
    id = WholeNumber(required=True)
    order_line_id = WholeNumber(required=True, allow_none=True)
    product_id = WholeNumber(required=True)
    sku = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    quantity = WholeNumber(required=True)
    amount_minor = WholeNumber(required=True, metadata={"description": "Value at the prices paid, minor units"})


class ReturnLinkOut(ma.Schema):
    id = WholeNumber(required=True)
    kind = ma.fields.String(required=True, validate=OneOf(tuple(states.LINK_KINDS)), metadata={
        "description": "stock: the stock move; refund: the refund; shipment: the replacement shipment"})
    manual = ma.fields.Boolean(required=True, metadata={"description": "Recorded by hand (that module was off)"})
    label = ma.fields.String(required=True)
    url = ma.fields.String(required=True, metadata={"description": "Page of the linked document, when any"})
    external_id = ma.fields.String(required=True, metadata={"description": "Id of the linked document"})
    note = ma.fields.String(required=True)
    actor_name = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)


class ReturnOut(ma.Schema):
    id = WholeNumber(required=True)
    number = ma.fields.String(required=True)
    order_id = WholeNumber(required=True)
    order_number = ma.fields.Function(lambda r: r.order.number, required=True, metadata={"type": "string"})
    kind = ma.fields.String(required=True, validate=OneOf(tuple(states.RETURN_KINDS)))
    status = ma.fields.String(required=True, validate=OneOf(states.RETURN_STATUSES))
    reason_code = ma.fields.String(required=True, validate=OneOf(tuple(states.REASONS)))
    reason = ma.fields.String(required=True)
    staff_message = ma.fields.String(required=True)
    restock = ma.fields.Boolean(required=True, allow_none=True)
    amount_minor = WholeNumber(required=True, metadata={"description": "Value of the goods, minor units"})
    refund_amount_minor = WholeNumber(required=True, allow_none=True)
    currency = ma.fields.String(required=True)
    source = ma.fields.String(required=True, validate=OneOf(("customer", "staff")))
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)
    rejected_at = ma.fields.DateTime(required=True, allow_none=True)
    received_at = ma.fields.DateTime(required=True, allow_none=True)
    closed_at = ma.fields.DateTime(required=True, allow_none=True)
    version = WholeNumber(required=True)
    lines = ma.fields.List(ma.fields.Nested(ReturnLineOut), required=True)


class ReturnDetailOut(ReturnOut):
    links = ma.fields.List(ma.fields.Nested(ReturnLinkOut), required=True, metadata={
        "description": "What the return caused: stock move, refund, replacement shipment"})
    photos = ma.fields.List(ma.fields.Nested(AttachmentOut), required=True)


ReturnPage = _page_of(ReturnOut, "ReturnPage")
RETURN_SORT_COLUMNS = {"id": ReturnRequest.id, "created": ReturnRequest.created_at,
                       "updated": ReturnRequest.updated_at}


class ReturnListIn(PageIn):
    status = ma.fields.String(validate=OneOf((*states.RETURN_STATUSES, "open")), metadata={
        "description": "A status, or open (requested, approved or received)"})
    kind = ma.fields.String(validate=OneOf(tuple(states.RETURN_KINDS)))
    order_id = _id()
    sort = ma.fields.String(load_default="-id", validate=OneOf(_sort_choices(RETURN_SORT_COLUMNS)))


class ReturnLineIn(In):
    order_line_id = _id(required=True)
    quantity = WholeNumber(required=True, validate=Range(min=1, max=1_000_000))


class ReturnIn(In):
    order_id = _id(required=True)
    kind = ma.fields.String(load_default="refund", validate=OneOf(tuple(states.RETURN_KINDS)))
    reason_code = ma.fields.String(required=True, validate=OneOf(tuple(states.REASONS)))
    reason = _text(returns.MAX_TEXT, load_default="", metadata={"description": "Required when reason_code is other"})
    lines = ma.fields.List(ma.fields.Nested(ReturnLineIn), required=True, validate=Length(min=1, max=500), metadata={
        "description": "Delivered lines of the order and how many of each come back"})


class DecisionIn(In):
    message = _text(returns.MAX_TEXT, load_default="", metadata={"description": "For the customer"})
    version = _version()


class RejectIn(DecisionIn):
    message = _text(returns.MAX_TEXT, required=True, metadata={"description": "Why, for the customer"})


class ReceiveIn(In):
    restock = ma.fields.Boolean(load_default=True, metadata={"description": "false: written off"})
    note = _text(returns.MAX_TEXT, load_default="", metadata={
        "description": "What was done with the goods; required when inventory is off"})
    version = _version()


class ReturnRefundIn(In):
    amount_minor = WholeNumber(allow_none=True, validate=Range(min=1, max=2**62), metadata={
        "description": "Minor units; empty: the whole value of the goods"})
    note = _text(returns.MAX_TEXT, load_default="", metadata={"description": "Required when finance is off"})
    version = _version()


class NoteIn(In):
    note = _text(returns.MAX_TEXT, load_default="", metadata={"description": "Required for an exchange when logistics is off"})
    version = _version()


def _return_detail(request_: ReturnRequest) -> _With:
    photos = list(db.session.scalars(select(Attachment).where(Attachment.return_id == request_.id)
                                     .order_by(Attachment.id)))
    return _With(request_, photos=photos)


def _fresh_return(return_id: int) -> ReturnRequest:
    db.session.expire_all()
    return returns.get_return(return_id)


@returns_bp.route("")
class Returns(MethodView):
    @requires("support.returns.view")
    @returns_bp.arguments(ReturnListIn, location="query")
    @returns_bp.response(200, ReturnPage)
    def get(self, args):
        """List return requests, filtered by status, kind or order."""
        stmt = select(ReturnRequest)
        status = args.get("status")
        if status == "open":
            stmt = stmt.where(ReturnRequest.status.in_(states.RETURN_OPEN))
        elif status:
            stmt = stmt.where(ReturnRequest.status == status)
        if args.get("kind"):
            stmt = stmt.where(ReturnRequest.kind == args["kind"])
        if args.get("order_id"):
            stmt = stmt.where(ReturnRequest.order_id == args["order_id"])
        stmt, _key, _desc = apply_sort(stmt, RETURN_SORT_COLUMNS, "-id")
        body, headers = paginate(stmt, args)
        return body, 200, headers

    @requires("support.returns.manage")
    @idempotent
    @returns_bp.arguments(ReturnIn)
    @returns_bp.response(201, ReturnDetailOut)
    def post(self, data):
        """Record a return for delivered lines of an order. Never more than was delivered and not
        yet returned (422, nothing recorded)."""
        order = db.session.get(Order, data["order_id"])
        if order is None:
            _refuse(_("No such order."), "order_id")
        line_ids = {line.id for line in order.lines}
        quantities: dict[int, int] = {}
        for line in data["lines"]:
            if line["order_line_id"] not in line_ids:
                _refuse(_("Line %(line)d is not a line of order %(number)s.", line=line["order_line_id"],
                          number=order.number), "lines")
            if line["order_line_id"] in quantities:
                _refuse(_("Give each order line once."), "lines")
            quantities[line["order_line_id"]] = line["quantity"]
        with _unit_of_work():
            request_ = returns.create_return(order, data["kind"], data["reason_code"], data["reason"], quantities,
                                             source="staff")
        return _return_detail(_fresh_return(request_.id))


@returns_bp.route("/<int:return_id>")
class ReturnItem(MethodView):
    @requires("support.returns.view")
    @returns_bp.response(200, ReturnDetailOut)
    def get(self, return_id):
        """One return request with its lines, the documents it caused and its photos' metadata."""
        return _return_detail(returns.get_return(return_id))


def _return_step(return_id: int, action):
    request_ = returns.get_return(return_id)
    with _unit_of_work():
        action(request_)
    return _return_detail(_fresh_return(return_id))


@returns_bp.route("/<int:return_id>/approve")
class ReturnApprove(MethodView):
    @requires("support.returns.manage")
    @returns_bp.arguments(DecisionIn)
    @returns_bp.response(200, ReturnDetailOut)
    def post(self, data, return_id):
        """Approve a requested return (the customer is told by e-mail when possible)."""
        return _return_step(return_id, lambda rr: returns.decide(rr, True, data["message"], data.get("version")))


@returns_bp.route("/<int:return_id>/reject")
class ReturnReject(MethodView):
    @requires("support.returns.manage")
    @returns_bp.arguments(RejectIn)
    @returns_bp.response(200, ReturnDetailOut)
    def post(self, data, return_id):
        """Reject a requested return, telling the customer why."""
        return _return_step(return_id, lambda rr: returns.decide(rr, False, data["message"], data.get("version")))


@returns_bp.route("/<int:return_id>/receive")
class ReturnReceive(MethodView):
    @requires("support.returns.receive")
    @returns_bp.arguments(ReceiveIn)
    @returns_bp.response(200, ReturnDetailOut)
    def post(self, data, return_id):
        """The goods are back: restocked or written off through inventory (recorded by hand when
        inventory is off)."""
        return _return_step(return_id, lambda rr: returns.receive(rr, data["restock"], data["note"],
                                                                  data.get("version")))


@returns_bp.route("/<int:return_id>/refund")
class ReturnRefund(MethodView):
    @requires("support.returns.manage")
    @returns_bp.arguments(ReturnRefundIn)
    @returns_bp.response(200, ReturnDetailOut)
    def post(self, data, return_id):
        """Refund received goods through finance (recorded by hand when finance is off)."""
        return _return_step(return_id, lambda rr: returns.refund(rr, None, data["note"], data.get("version"),
                                                                 amount_minor=data.get("amount_minor")))


@returns_bp.route("/<int:return_id>/exchange")
class ReturnExchange(MethodView):
    @requires("support.returns.manage")
    @returns_bp.arguments(NoteIn)
    @returns_bp.response(200, ReturnDetailOut)
    def post(self, data, return_id):
        """Send the same goods again through logistics (recorded by hand when logistics is off)."""
        return _return_step(return_id, lambda rr: returns.exchange(rr, data["note"], data.get("version")))


@returns_bp.route("/<int:return_id>/close")
class ReturnClose(MethodView):
    @requires("support.returns.manage")
    @returns_bp.arguments(NoteIn)
    @returns_bp.response(200, ReturnDetailOut)
    def post(self, data, return_id):
        """Close a refunded, exchanged or rejected return."""
        return _return_step(return_id, lambda rr: returns.close(rr, data["note"], data.get("version")))


# ----------------------------------------------------------------------------- surveys


class SurveyOut(ma.Schema):
    id = WholeNumber(required=True)
    kind = ma.fields.String(required=True, validate=OneOf(("ticket", "order")))
    ticket_id = WholeNumber(required=True, allow_none=True)
    ticket_number = ma.fields.Function(lambda s: s.ticket.number if s.ticket is not None else None,
                                       required=True, allow_none=True, metadata={"type": "string"})
    order_id = WholeNumber(required=True, allow_none=True)
    order_number = ma.fields.Function(lambda s: s.order.number if s.order is not None else None,
                                      required=True, allow_none=True, metadata={"type": "string"})
    team_id = WholeNumber(required=True, allow_none=True)
    agent_id = WholeNumber(required=True, allow_none=True)
    category = ma.fields.String(required=True)
    score = WholeNumber(required=True, validate=Range(min=1, max=5))
    comment = ma.fields.String(required=True)
    issued_at = ma.fields.DateTime(required=True)
    answered_at = ma.fields.DateTime(required=True)
    followup_ticket_id = WholeNumber(required=True, allow_none=True)


SurveyPage = _page_of(SurveyOut, "SurveyPage")


class ReportIn(QueryIn):
    start = ma.fields.Date(data_key="from", metadata={"description": "First day (company calendar); default: 89 days before to"})
    end = ma.fields.Date(data_key="to", metadata={"description": "Last day, included; default: today"})
    kind = ma.fields.String(validate=OneOf(("ticket", "order")))
    team_id = _id()
    agent_id = _id()
    category = ma.fields.String(validate=OneOf(states.CATEGORIES))

    @ma.post_load
    def _within_reach(self, data, **kwargs):
        # No survey exists outside these years; keeping dates inside them keeps the day arithmetic
        # of time zones away from the calendar's ends without changing any result.
        for key in ("start", "end"):
            if key in data:
                data[key] = min(max(data[key], EARLIEST), LATEST)
        return data


class SurveyListIn(ReportIn, PageIn):
    score = WholeNumber(validate=Range(min=1, max=5))
    max_score = WholeNumber(validate=Range(min=1, max=5), metadata={"description": "Scores up to this"})


class CsatIn(ReportIn):
    period = ma.fields.String(load_default="week", validate=OneOf(("day", "week", "month")))


class StatOut(ma.Schema):
    responses = WholeNumber(required=True)
    satisfied = WholeNumber(required=True, metadata={"description": "Answers scoring 4 or 5"})
    average = ma.fields.Float(required=True, allow_none=True)
    csat = ma.fields.Float(required=True, allow_none=True, metadata={"description": "Share satisfied, in %"})


class PeriodStatOut(StatOut):
    start = ma.fields.Date(attribute="key", required=True)
    label = ma.fields.String(required=True)


class GroupStatOut(StatOut):
    key = ma.fields.String(required=True, allow_none=True, metadata={"description": "Team id, agent id or category"})
    label = ma.fields.String(required=True)


class CsatOut(ma.Schema):
    start = ma.fields.Date(data_key="from", required=True)
    end = ma.fields.Date(data_key="to", required=True)
    period = ma.fields.String(required=True, validate=OneOf(("day", "week", "month")))
    summary = ma.fields.Nested(StatOut, required=True)
    periods = ma.fields.List(ma.fields.Nested(PeriodStatOut), required=True)
    by_team = ma.fields.List(ma.fields.Nested(GroupStatOut), required=True)
    by_agent = ma.fields.List(ma.fields.Nested(GroupStatOut), required=True)
    by_category = ma.fields.List(ma.fields.Nested(GroupStatOut), required=True)


def _report_filters(args: dict, period: str = "week", limit: bool = False) -> tuple[surveys.ReportFilters, str]:
    """The filters of the CSAT page from API arguments: the same defaults (the last 90 days),
    ``from`` after ``to`` swapped, and (``limit``) at most 800 days."""
    tz = settings.company_timezone()
    end = args.get("end") or to_zone(utcnow(), tz).date()
    start = args.get("start") or end - timedelta(days=89)
    if start > end:
        start, end = end, start
    if limit and (end - start).days > MAX_REPORT_DAYS:
        start = end - timedelta(days=MAX_REPORT_DAYS)
    return surveys.ReportFilters(start=start, end=end, kind=args.get("kind", ""), period=period,
                                 category=args.get("category", ""), team_id=args.get("team_id"),
                                 agent_id=args.get("agent_id")), tz


def _group(stats) -> list[dict]:
    return [{"key": None if s.key is None else str(s.key), "label": s.label, "responses": s.responses,
             "satisfied": s.satisfied, "average": s.average, "csat": s.csat} for s in stats]


def _stat(s) -> dict:
    return {"responses": s.responses, "satisfied": s.satisfied, "average": s.average, "csat": s.csat}


@surveys_bp.route("")
class Surveys(MethodView):
    @requires("support.reports.view")
    @surveys_bp.arguments(SurveyListIn, location="query")
    @surveys_bp.response(200, SurveyPage)
    def get(self, args):
        """Answered surveys (newest first) within a period, by team, agent, category or score."""
        filters, tz = _report_filters(args)
        stmt = surveys.answered_query(filters, tz, score=args.get("score"), max_score=args.get("max_score"))
        body, headers = paginate(stmt.order_by(Survey.answered_at.desc(), Survey.id.desc()), args)
        return body, 200, headers


@surveys_bp.route("/csat")
class Csat(MethodView):
    @requires("support.reports.view")
    @surveys_bp.arguments(CsatIn, location="query")
    @surveys_bp.response(200, CsatOut)
    def get(self, args):
        """CSAT (share of scores 4-5) over the period and per day, week or month, team, agent and
        category: the numbers of the CSAT report page. Like the page, a window longer than 800
        days keeps its end and starts 800 days before; ``from`` and ``to`` answer the window used."""
        filters, tz = _report_filters(args, args["period"], limit=True)
        periods = surveys.by_period(filters, tz)
        return {"start": filters.start, "end": filters.end, "period": filters.period,
                "summary": _stat(surveys.summary(filters, tz)),
                "periods": [{"key": p.key, "label": p.label, **_stat(p)} for p in periods],
                "by_team": _group(surveys.breakdown(filters, tz, "team")),
                "by_agent": _group(surveys.breakdown(filters, tz, "agent")),
                "by_category": _group(surveys.breakdown(filters, tz, "category"))}


BLUEPRINTS = (tickets_bp, returns_bp, surveys_bp)
