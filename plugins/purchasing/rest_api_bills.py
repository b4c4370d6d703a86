"""The JSON API of supplier bills and payments (``/api/v1``): a purchase order's bills, one bill
with its payments, paying a bill, and the payables (bills still owed, by due date).

Thin: the schemas (built on :mod:`erp_core.api.schemas`) check the arguments, the services do the
work; a refused payment (more than is owed) is 409 problem+json.
"""

from __future__ import annotations

import marshmallow as ma
from flask import abort, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from erp_core.api.idempotency import idempotent
from erp_core.api.pagination import paginate
from erp_core.api.schemas import (
    DECIMAL,
    NO_NUL,
    NON_BLANK,
    ApiSchema,
    PageQuerySchema,
    WholeNumber,
    choice_field,
    existing_id,
    id_field,
    page_schema,
    text_field,
)
from erp_core.extensions import db
from erp_core.money import format_plain
from erp_core.security import requires

from . import services
from .models import PurchaseOrder, SupplierBill

bp = Blueprint("purchasing_bills_api", __name__, url_prefix="/api/v1",
               description="Supplier bills, payments against them and payables (purchasing plugin)")


class BillPaymentSchema(ma.Schema):
    id = WholeNumber(required=True)
    amount = ma.fields.String(required=True, metadata={"description": "Major units"})
    amount_minor = WholeNumber(required=True)
    paid_on = ma.fields.Date(required=True)
    method = ma.fields.String(required=True, metadata={"enum": list(services.METHODS)})
    reference = ma.fields.String(required=True)


class BillSchema(ma.Schema):
    id = WholeNumber(required=True)
    purchase_order_id = WholeNumber(required=True)
    supplier_id = WholeNumber(required=True)
    number = ma.fields.String(required=True, metadata={"description": "The supplier's invoice number"})
    currency = ma.fields.String(required=True)
    amount_minor = WholeNumber(required=True)
    paid_minor = WholeNumber(required=True)
    owed_minor = WholeNumber(required=True, metadata={"description": "Still to pay"})
    bill_date = ma.fields.Date(required=True)
    due_date = ma.fields.Date(required=True)
    status = ma.fields.String(required=True, metadata={"enum": list(services.BILL_STATUSES)})
    payments = ma.fields.List(ma.fields.Nested(BillPaymentSchema), required=True)


class BillInputSchema(ApiSchema):
    number = text_field(64, NON_BLANK, required=True)
    amount = text_field(20, DECIMAL, required=True, metadata={"description": "Major units, tax included"})
    bill_date = ma.fields.Date(allow_none=True, metadata={"description": "Today (company time zone) when absent"})
    due_date = ma.fields.Date(allow_none=True, metadata={"description": "The bill date when absent"})


class PaymentInputSchema(ApiSchema):
    amount = text_field(20, DECIMAL, required=True, metadata={"description": "Major units"})
    paid_on = ma.fields.Date(allow_none=True, metadata={"description": "Today (company time zone) when absent"})
    method = choice_field(list(services.METHODS), required=True)
    reference = text_field(100, NO_NUL)


class PayablesArgs(PageQuerySchema):
    supplier_id = id_field()
    bucket = choice_field(list(services.BUCKETS), metadata={"description": "overdue, due_soon (7 days) or later"})


def _bills_json(bills: list[SupplierBill]) -> list[dict]:
    payments = services.payments_of([b.id for b in bills])
    return [{"id": b.id, "purchase_order_id": b.order_id, "supplier_id": b.supplier_id, "number": b.number,
             "currency": b.currency, "amount_minor": b.amount_minor, "paid_minor": b.paid_minor,
             "owed_minor": b.owed_minor, "bill_date": b.bill_date, "due_date": b.due_date, "status": b.status,
             "payments": [{"id": p.id, "amount": format_plain(p.amount_minor, b.currency), "amount_minor": p.amount_minor,
                           "paid_on": p.paid_on, "method": p.method, "reference": p.reference}
                          for p in payments[b.id]]} for b in bills]


def _bill(bill_id: int) -> SupplierBill:
    return db.session.get(SupplierBill, existing_id(bill_id)) or abort(404)


@bp.route("/purchase-orders/<int:po_id>/bills", endpoint="po_bills")
class PurchaseOrderBills(MethodView):
    @requires("purchasing.view")
    @bp.response(200, BillSchema(many=True))
    def get(self, po_id):
        """The bills recorded on a purchase order, with their payments."""
        po = db.session.get(PurchaseOrder, existing_id(po_id)) or abort(404)
        return _bills_json(services.bills_of(po.id))

    @requires("purchasing.bills")
    @idempotent
    @bp.arguments(BillInputSchema)
    @bp.response(201, BillSchema)
    @bp.alt_response(409, response="DEFAULT_ERROR",
                     description="The order is a draft or cancelled, or the supplier's number is recorded already")
    def post(self, data, po_id):
        """Record the supplier's bill (invoice) on a purchase order."""
        po = db.session.get(PurchaseOrder, existing_id(po_id)) or abort(404)
        bill = services.record_bill(po, data["number"], data["amount"], data.get("bill_date"), data.get("due_date"))
        db.session.commit()
        return _bills_json([bill])[0], 201, {"Location": url_for("purchasing_bills_api.bill", bill_id=bill.id)}


@bp.route("/bills/<int:bill_id>", endpoint="bill")
class BillItem(MethodView):
    @requires("purchasing.view")
    @bp.response(200, BillSchema)
    def get(self, bill_id):
        """One bill with its payments."""
        return _bills_json([_bill(bill_id)])[0]


@bp.route("/bills/<int:bill_id>/payments", endpoint="bill_payments")
class BillPayments(MethodView):
    @requires("purchasing.bills")
    @idempotent
    @bp.arguments(PaymentInputSchema)
    @bp.response(201, BillSchema)
    @bp.alt_response(409, response="DEFAULT_ERROR", description="More than is still owed on the bill")
    def post(self, data, bill_id):
        """Pay (part of) a bill; more than is still owed is refused, also under concurrency."""
        bill = _bill(bill_id)
        services.pay_bill(bill, data["amount"], data.get("paid_on"), data["method"], data.get("reference") or "")
        db.session.commit()
        return _bills_json([bill])[0], 201


@bp.route("/payables", endpoint="payables")
class Payables(MethodView):
    @requires("purchasing.view")
    @bp.arguments(PayablesArgs, location="query")
    @bp.response(200, page_schema(BillSchema, "BillPage"))
    def get(self, args):
        """Bills still owed, soonest due first, filtered by supplier and due bucket (paginated)."""
        stmt = services.payables_query(services.company_today(), args.get("supplier_id"), args.get("bucket", ""))
        body, headers = paginate(stmt, args)
        body["items"] = _bills_json(body["items"])
        return body, 200, headers
