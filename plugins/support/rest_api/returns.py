"""The returns API of support (``/api/v1/returns``): return and exchange requests (RMA) and their steps."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint
from sqlalchemy import select

from erp_core.api.idempotency import idempotent
from erp_core.api.pagination import paginate
from erp_core.api.schemas import (
    NO_NUL,
    ApiSchema,
    PageQuerySchema,
    WholeNumber,
    count,
    id_field,
    in_range,
    one_of,
    page_schema,
    sort_choices,
    text_field,
)
from erp_core.extensions import db
from erp_core.security import requires
from erp_core.ui import apply_sort
from plugins.orders.public import Order

from .. import returns, states
from ..models import Attachment, ReturnRequest
from ..returns_refunds import STATE_LABELS as REFUND_STATES
from ..scope import require_visible, return_scope
from ._common import AttachmentOut, With, refuse, unit_of_work, version_field

returns_bp = Blueprint("support_returns_api", __name__, url_prefix="/api/v1/returns",
                       description="Return and exchange requests (RMA) and their steps")


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
    kind = ma.fields.String(required=True, validate=one_of(tuple(states.LINK_KINDS)), metadata={
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
    kind = ma.fields.String(required=True, validate=one_of(tuple(states.RETURN_KINDS)))
    status = ma.fields.String(required=True, validate=one_of(states.RETURN_STATUSES))
    reason_code = ma.fields.String(required=True, validate=one_of(tuple(states.REASONS)))
    reason = ma.fields.String(required=True)
    staff_message = ma.fields.String(required=True)
    restock = ma.fields.Boolean(required=True, allow_none=True)
    amount_minor = WholeNumber(required=True, metadata={"description": "Value of the goods, minor units"})
    refund_amount_minor = WholeNumber(required=True, allow_none=True)
    refund_state = ma.fields.String(required=True, allow_none=True, validate=one_of(tuple(REFUND_STATES)), metadata={
        "description": "The refund as finance last told it: requested, paid, failed, rejected, or manual "
                       "(paid back by hand with finance off); null before a refund"})
    refund_paid_minor = WholeNumber(required=True, allow_none=True, metadata={
        "description": "How much of the refund finance has paid out, minor units"})
    currency = ma.fields.String(required=True)
    source = ma.fields.String(required=True, validate=one_of(("customer", "staff")))
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


ReturnPage = page_schema(ReturnOut, "ReturnPage")
RETURN_SORT_COLUMNS = {"id": ReturnRequest.id, "created": ReturnRequest.created_at,
                       "updated": ReturnRequest.updated_at}


class ReturnListIn(PageQuerySchema):
    status = ma.fields.String(validate=one_of((*states.RETURN_STATUSES, "open")), metadata={
        "description": "A status, or open (requested, approved or received)"})
    kind = ma.fields.String(validate=one_of(tuple(states.RETURN_KINDS)))
    order_id = id_field()
    sort = ma.fields.String(load_default="-id", validate=one_of(sort_choices(RETURN_SORT_COLUMNS)))


class ReturnLineIn(ApiSchema):
    order_line_id = id_field(required=True)
    quantity = WholeNumber(required=True, validate=in_range(1, 1_000_000))


class ReturnIn(ApiSchema):
    order_id = id_field(required=True)
    kind = ma.fields.String(load_default="refund", validate=one_of(tuple(states.RETURN_KINDS)))
    reason_code = ma.fields.String(required=True, validate=one_of(tuple(states.REASONS)))
    reason = text_field(returns.MAX_TEXT, NO_NUL, load_default="",
                        metadata={"description": "Required when reason_code is other"})
    lines = ma.fields.List(ma.fields.Nested(ReturnLineIn), required=True, validate=count(1, 500), metadata={
        "description": "Delivered lines of the order and how many of each come back"})


class DecisionIn(ApiSchema):
    message = text_field(returns.MAX_TEXT, NO_NUL, load_default="", metadata={"description": "For the customer"})
    version = version_field()


class RejectIn(DecisionIn):
    message = text_field(returns.MAX_TEXT, NO_NUL, required=True, metadata={"description": "Why, for the customer"})


class ReceiveIn(ApiSchema):
    restock = ma.fields.Boolean(load_default=True, metadata={"description": "false: written off"})
    note = text_field(returns.MAX_TEXT, NO_NUL, load_default="", metadata={
        "description": "What was done with the goods; required when inventory is off"})
    version = version_field()


class ReturnRefundIn(ApiSchema):
    amount_minor = WholeNumber(allow_none=True, validate=in_range(1, 2**62), metadata={
        "description": "Minor units; empty: the whole value of the goods"})
    note = text_field(returns.MAX_TEXT, NO_NUL, load_default="",
                      metadata={"description": "Required when finance is off"})
    version = version_field()


class NoteIn(ApiSchema):
    note = text_field(returns.MAX_TEXT, NO_NUL, load_default="",
                      metadata={"description": "Required for an exchange when logistics is off"})
    version = version_field()


def _return_detail(request_: ReturnRequest) -> With:
    photos = list(db.session.scalars(select(Attachment).where(Attachment.return_id == request_.id)
                                     .order_by(Attachment.id)))
    return With(request_, photos=photos)


def _fresh_return(return_id: int) -> ReturnRequest:
    db.session.expire_all()
    return require_visible(returns.get_return(return_id))


@returns_bp.route("")
class Returns(MethodView):
    @requires("support.returns.view")
    @returns_bp.arguments(ReturnListIn, location="query")
    @returns_bp.response(200, ReturnPage)
    def get(self, args):
        """List return requests, filtered by status, kind or order."""
        stmt = select(ReturnRequest).where(return_scope())
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
            refuse(_("No such order."), "order_id")
        line_ids = {line.id for line in order.lines}
        quantities: dict[int, int] = {}
        for line in data["lines"]:
            if line["order_line_id"] not in line_ids:
                refuse(_("Line %(line)d is not a line of order %(number)s.", line=line["order_line_id"],
                          number=order.number), "lines")
            if line["order_line_id"] in quantities:
                refuse(_("Give each order line once."), "lines")
            quantities[line["order_line_id"]] = line["quantity"]
        with unit_of_work():
            request_ = returns.create_return(order, data["kind"], data["reason_code"], data["reason"], quantities,
                                             source="staff")
        return _return_detail(_fresh_return(request_.id))


@returns_bp.route("/<int:return_id>")
class ReturnItem(MethodView):
    @requires("support.returns.view")
    @returns_bp.response(200, ReturnDetailOut)
    def get(self, return_id):
        """One return request with its lines, the documents it caused and its photos' metadata."""
        return _return_detail(require_visible(returns.get_return(return_id)))


def _return_step(return_id: int, action):
    request_ = require_visible(returns.get_return(return_id))
    with unit_of_work():
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
