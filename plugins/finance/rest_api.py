"""The JSON API of finance (``/api/v1/finance``): payment methods, payments, refunds and an
order's balance, over the same services (and the same permissions) as the pages.

Money is integer minor units (``amount_minor``) with its ISO 4217 ``currency``. Registered
through ``erp_api_blueprints``: the endpoints, and their part of the OpenAPI document, are gone
while the plugin is switched off.
"""

from __future__ import annotations

import marshmallow as ma
from flask import url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from erp_core import settings
from erp_core.api.idempotency import idempotent
from erp_core.api.pagination import paginate
from erp_core.api.schemas import (
    ApiSchema,
    AwareDateTime,
    PageQuerySchema,
    WholeNumber,
    choice_field,
    clamp_date,
    code_field,
    existing_id,
    id_field,
    in_range,
    page_schema,
    text_field,
)
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.money import MAX_MINOR
from erp_core.security import requires
from erp_core.timeutil import local_day_bounds
from erp_core.ui import apply_sort
from plugins.orders.public import Order, get_order, order_scope

from . import services, states
from .models import Payment, Refund

bp = Blueprint("finance_api", __name__, url_prefix="/api/v1/finance",
               description="Finance: payment methods, payments, refunds and order balances")


def _amount_field(**kw):
    return WholeNumber(validate=in_range(1, MAX_MINOR - 1),
                       metadata={"description": "Integer minor units of the currency (fen, cents)"}, **kw)


# ----------------------------------------------------------------------------- output schemas


class PaymentMethodSchema(ma.Schema):
    code = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    online = ma.fields.Boolean(required=True, metadata={
        "description": "Paid on the provider's page and confirmed by its callback; cannot be recorded here"})
    requires_reference = ma.fields.Boolean(required=True, metadata={
        "description": "A reference (e.g. the bank transfer's) must be sent when recording"})
    refundable = ma.fields.Boolean(required=True)


class RefundSchema(ma.Schema):
    id = WholeNumber(required=True)
    number = ma.fields.Function(lambda r: services.refund_ref(r), required=True,
                                metadata={"type": "string", "description": "REF-000123"})
    payment_id = WholeNumber(required=True)
    order_id = WholeNumber(required=True)
    order_number = ma.fields.String(attribute="order.number", required=True)
    method = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": list(states.REFUND_STATUSES)})
    amount_minor = WholeNumber(required=True)
    currency = ma.fields.String(required=True)
    reason = ma.fields.String(required=True)
    source_type = ma.fields.String(required=True, metadata={"description": "manual, return, shipment..."})
    source_id = ma.fields.String(allow_none=True, required=True)
    reference = ma.fields.String(required=True)
    decision_note = ma.fields.String(required=True)
    requested_at = ma.fields.DateTime(required=True)
    decided_at = ma.fields.DateTime(allow_none=True, required=True)
    refunded_at = ma.fields.DateTime(allow_none=True, required=True)


class PaymentSchema(ma.Schema):
    id = WholeNumber(required=True)
    number = ma.fields.String(attribute="merchant_ref", required=True, metadata={"description": "PAY-000123"})
    order_id = WholeNumber(required=True)
    order_number = ma.fields.String(attribute="order.number", required=True)
    method = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": list(states.PAYMENT_STATUSES)})
    amount_minor = WholeNumber(required=True)
    currency = ma.fields.String(required=True)
    refunded_minor = WholeNumber(required=True, metadata={
        "description": "Promised to refunds (requested or paid out)"})
    refundable_minor = WholeNumber(required=True)
    credit_minor = WholeNumber(required=True, metadata={
        "description": "The part beyond what the order owed, kept as customer credit"})
    needs_review = ma.fields.Boolean(required=True, metadata={
        "description": "Paid by the provider after it was marked failed; finance reviews it"})
    paid_at = ma.fields.DateTime(allow_none=True, required=True)
    reference = ma.fields.String(required=True)
    note = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)
    created_by = ma.fields.String(attribute="created_by_name", required=True)


class PaymentDetailSchema(PaymentSchema):
    refunds = ma.fields.List(ma.fields.Nested(RefundSchema), required=True)


class BalanceSchema(ma.Schema):
    order_id = WholeNumber(required=True)
    order_number = ma.fields.String(required=True)
    currency = ma.fields.String(required=True)
    total_minor = WholeNumber(required=True)
    paid_minor = WholeNumber(required=True, metadata={"description": "Payments received"})
    refunded_minor = WholeNumber(required=True, metadata={"description": "Refunds paid out"})
    pending_minor = WholeNumber(required=True, metadata={"description": "Online payments not yet confirmed"})
    refund_requested_minor = WholeNumber(required=True, metadata={"description": "Refunds awaiting a decision"})
    balance_minor = WholeNumber(required=True, metadata={"description": "Paid minus refunded"})
    due_minor = WholeNumber(required=True, metadata={"description": "What the customer still owes"})
    credit_minor = WholeNumber(required=True, metadata={"description": "Held beyond the order total"})
    state = ma.fields.String(required=True, metadata={"enum": list(states.ORDER_STATES)})
    state_label = ma.fields.String(required=True)


# ----------------------------------------------------------------------------- input schemas


class PaymentFilterSchema(PageQuerySchema):
    order_id = id_field()
    method = code_field(40)
    status = choice_field(states.PAYMENT_STATUSES)
    currency = code_field(3)
    needs_review = ma.fields.Boolean(metadata={"description": "true: only payments flagged for review"})
    start = ma.fields.Date(metadata={"description": "Recorded on or after this day (company time zone)"})
    end = ma.fields.Date(metadata={"description": "Recorded on or before this day (company time zone)"})
    sort = choice_field(["id", "-id", "paid_at", "-paid_at", "amount", "-amount"], load_default="-id")


class RefundFilterSchema(PageQuerySchema):
    order_id = id_field()
    payment_id = id_field()
    status = choice_field(states.REFUND_STATUSES)
    source = code_field(40, metadata={"description": "manual, return, shipment..."})
    start = ma.fields.Date(metadata={"description": "Requested on or after this day (company time zone)"})
    end = ma.fields.Date(metadata={"description": "Requested on or before this day (company time zone)"})
    sort = choice_field(["id", "-id", "amount", "-amount", "requested_at", "-requested_at"], load_default="-id")


class PaymentInSchema(ApiSchema):
    order_id = id_field(required=True)
    method = code_field(40, required=True, metadata={"description": "A manual method's code (cash, bank_transfer)"})
    amount_minor = _amount_field(required=True)
    currency = code_field(3, load_default=None, metadata={"description": "Must be the order's currency when given"})
    paid_at = AwareDateTime(load_default=None, metadata={"description": "Defaults to now"})
    reference = text_field(120, load_default="")
    note = text_field(services.MAX_TEXT, load_default="")
    as_credit = ma.fields.Boolean(load_default=False, metadata={
        "description": "Take more than the order still owes and keep the excess as customer credit"})


class RefundInSchema(ApiSchema):
    amount_minor = _amount_field(required=True)
    reason = text_field(services.MAX_TEXT, required=True)
    reference = text_field(120, load_default="")
    pay_now = ma.fields.Boolean(load_default=True, metadata={
        "description": "Pay it out at once (as the page does by default); false leaves it in the refund queue"})


# ----------------------------------------------------------------------------- helpers


class _ApiFields:
    """Name the API's fields in a service's refusal (the pages call the amount ``amount``)."""

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, _tb):
        if isinstance(exc, DomainError) and exc.field == "amount":
            exc.field = "amount_minor"
        return False


def _day_range(stmt, column, args):
    tz = settings.company_timezone()
    # days beyond what a time zone can convert are clamped (nothing was recorded then anyway)
    if args.get("start"):
        stmt = stmt.where(column >= local_day_bounds(clamp_date(args["start"]), tz)[0])
    if args.get("end"):
        stmt = stmt.where(column < local_day_bounds(clamp_date(args["end"]), tz)[1])
    return stmt


# ----------------------------------------------------------------------------- payments


@bp.route("/payments")
class Payments(MethodView):
    @requires("finance.view")
    @bp.arguments(PaymentFilterSchema, location="query")
    @bp.response(200, page_schema(PaymentSchema, "PaymentPage"))
    def get(self, args):
        """Payments, newest first, filtered by order, method, status, currency and day recorded."""
        stmt = select(Payment).join(Order, Order.id == Payment.order_id).options(contains_eager(Payment.order))
        stmt = stmt.where(order_scope())  # a salesperson: own customers' only
        if args.get("order_id"):
            stmt = stmt.where(Payment.order_id == args["order_id"])
        if args.get("method"):
            stmt = stmt.where(Payment.method == args["method"])
        if args.get("status"):
            stmt = stmt.where(Payment.status == args["status"])
        if args.get("currency"):
            stmt = stmt.where(Payment.currency == args["currency"].upper())
        if args.get("needs_review") is not None:
            stmt = stmt.where(Payment.needs_review.is_(args["needs_review"]))
        stmt = _day_range(stmt, Payment.created_at, args)
        stmt, _key, _desc = apply_sort(stmt, {"id": Payment.id, "paid_at": Payment.paid_at,
                                              "amount": Payment.amount_minor}, "-id")
        body, headers = paginate(stmt, args)
        return body, 200, headers

    @requires("finance.payments.record")
    @idempotent
    @bp.arguments(PaymentInSchema)
    @bp.response(201, PaymentDetailSchema)
    @bp.alt_response(404, response="DEFAULT_ERROR", description="No such order")
    def post(self, data):
        """Record money received by a manual method.

        More than the order still owes is refused (422 ``payment_refused``, the message says what
        is due) unless ``as_credit`` is true; nothing is recorded then. Send an
        ``Idempotency-Key`` so that a retry cannot record the payment twice.
        """
        order = get_order(data["order_id"])
        currency = (data.get("currency") or order.currency).upper()
        if currency != order.currency:
            raise DomainError(_("Order %(number)s is in %(ours)s, not %(theirs)s.", number=order.number,
                                ours=order.currency, theirs=currency), field="currency", status=422)
        paid_at = data.get("paid_at")  # in UTC (AwareDateTime)
        with _ApiFields():
            payment = services.record_payment(order, data["method"], data["amount_minor"], paid_at=paid_at,
                                              reference=data["reference"], note=data["note"],
                                              as_credit=data["as_credit"])
        db.session.commit()
        return services.get_payment(payment.id), 201, {
            "Location": url_for("finance_api.Payment", payment_id=payment.id)}


@bp.route("/payments/<int:payment_id>", endpoint="Payment")
class PaymentResource(MethodView):
    @requires("finance.view")
    @bp.response(200, PaymentDetailSchema)
    @bp.alt_response(404, response="DEFAULT_ERROR", description="No such payment")
    def get(self, payment_id):
        """One payment with its refunds."""
        return services.get_payment(existing_id(payment_id, _("No such payment.")))


# ----------------------------------------------------------------------------- refunds


@bp.route("/refunds")
class Refunds(MethodView):
    @requires("finance.view")
    @bp.arguments(RefundFilterSchema, location="query")
    @bp.response(200, page_schema(RefundSchema, "RefundPage"))
    def get(self, args):
        """Refunds, newest first, filtered by order, payment, status, source and day requested."""
        stmt = select(Refund).join(Order, Order.id == Refund.order_id).options(contains_eager(Refund.order))
        stmt = stmt.where(order_scope())  # a salesperson: own customers' only
        for name, column in (("order_id", Refund.order_id), ("payment_id", Refund.payment_id),
                             ("status", Refund.status), ("source", Refund.source_type)):
            if args.get(name):
                stmt = stmt.where(column == args[name])
        stmt = _day_range(stmt, Refund.requested_at, args)
        stmt, _key, _desc = apply_sort(stmt, {"id": Refund.id, "amount": Refund.amount_minor,
                                              "requested_at": Refund.requested_at}, "-id")
        body, headers = paginate(stmt, args)
        return body, 200, headers


@bp.route("/refunds/<int:refund_id>", endpoint="Refund")
class RefundResource(MethodView):
    @requires("finance.view")
    @bp.response(200, RefundSchema)
    @bp.alt_response(404, response="DEFAULT_ERROR", description="No such refund")
    def get(self, refund_id):
        """One refund."""
        return services.get_refund(existing_id(refund_id, _("No such refund.")))


@bp.route("/payments/<int:payment_id>/refunds")
class PaymentRefunds(MethodView):
    @requires("finance.refunds.manage")
    @idempotent
    @bp.arguments(RefundInSchema)
    @bp.response(201, RefundSchema)
    @bp.alt_response(404, response="DEFAULT_ERROR", description="No such payment")
    @bp.alt_response(409, response="DEFAULT_ERROR", description="The refund was decided meanwhile")
    def post(self, data, payment_id):
        """Refund (part of) a payment.

        Never more than is left of the payment, and a reason is required (422 ``refund_refused``).
        Paid out at once unless ``pay_now`` is false (a remote provider answers later).
        """
        payment = services.get_payment(existing_id(payment_id, _("No such payment.")))
        with _ApiFields():
            refund = services.request_refund(payment, data["amount_minor"], data["reason"],
                                             reference=data["reference"])
            if data["pay_now"]:
                services.approve_refund(refund, reference=data["reference"])
        db.session.commit()
        return services.get_refund(refund.id), 201, {"Location": url_for("finance_api.Refund", refund_id=refund.id)}


# ----------------------------------------------------------------------------- balances


@bp.route("/orders/<int:order_id>/balance")
class OrderBalance(MethodView):
    @requires("finance.view")
    @bp.response(200, BalanceSchema)
    @bp.alt_response(404, response="DEFAULT_ERROR", description="No such order")
    def get(self, order_id):
        """An order's payment state and balance, derived from its payments and refunds."""
        order = get_order(existing_id(order_id, _("No such order.")))
        summary = services.order_summary(order)
        return {"order_id": order.id, "order_number": order.number, "currency": summary.currency,
                "total_minor": summary.total, "paid_minor": summary.paid, "refunded_minor": summary.refunded,
                "pending_minor": summary.pending, "refund_requested_minor": summary.refund_requested,
                "balance_minor": summary.balance, "due_minor": summary.due, "credit_minor": summary.credit,
                "state": summary.state, "state_label": str(summary.state_label)}


# The payment methods' part (listing, configuring) lives in a module of its own, on this blueprint.
from . import rest_api_methods  # noqa: E402,F401
