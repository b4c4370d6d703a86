"""The JSON API of invoices and credit notes (``/api/v1/finance/invoices``): list, read, issue.

Money is integer minor units with its ISO 4217 ``currency``; the lines, seller and buyer are the
snapshot taken when the document was issued.
"""

from __future__ import annotations

import marshmallow as ma
from flask import url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload

from erp_core.api.idempotency import idempotent
from erp_core.api.pagination import paginate
from erp_core.api.schemas import (
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
from erp_core.security import requires
from erp_core.ui import apply_sort
from plugins.orders.public import Order, get_order, order_scope, percent_text

from .models import Invoice
from .rest_api import _day_range
from .services import invoice_shipments
from .services import invoices as service

bp = Blueprint("finance_invoices_api", __name__, url_prefix="/api/v1/finance/invoices",
               description="Finance: invoices and credit notes of orders")


class PartySchema(ma.Schema):
    name = ma.fields.String(metadata={"description": "Seller: legal name"})
    title = ma.fields.String(metadata={"description": "Buyer: invoice title (抬头)"})
    taxpayer_id = ma.fields.String()
    address = ma.fields.String()
    phone = ma.fields.String()
    bank = ma.fields.String()
    account = ma.fields.String()


class InvoiceLineSchema(ma.Schema):
    position = WholeNumber(required=True)
    sku = ma.fields.String(required=True)
    name = ma.fields.Function(lambda line: _line_name(line), required=True, metadata={"type": "string"})
    quantity = WholeNumber(required=True)
    unit_price_minor = WholeNumber(required=True)
    tax_rate = ma.fields.Function(lambda line: percent_text(line.tax_rate_percent), required=True,
                                  metadata={"type": "string", "description": "Percent as a decimal string, e.g. \"13\""})
    tax_exempt = ma.fields.Boolean(required=True)
    net_minor = WholeNumber(required=True)
    tax_minor = WholeNumber(required=True)
    gross_minor = WholeNumber(required=True)


def _line_name(line) -> str:
    from erp_core.i18n import render_system_text

    return render_system_text(line.name)


class InvoiceSchema(ma.Schema):
    id = WholeNumber(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": [service.INVOICE, service.CREDIT_NOTE]})
    number = ma.fields.String(required=True, metadata={"description": "INV-2026-000001 or CN-2026-000001"})
    order_id = WholeNumber(required=True)
    order_number = ma.fields.String(attribute="order.number", required=True)
    invoice_id = WholeNumber(allow_none=True, required=True, metadata={"description": "Credit note: the invoice it corrects"})
    refund_id = WholeNumber(allow_none=True, required=True, metadata={"description": "Credit note: its refund"})
    shipment_id = WholeNumber(allow_none=True, required=True,
                              metadata={"description": "An invoice of one shipment: the shipment's id (null: whole order)"})
    shipment_number = ma.fields.String(allow_none=True, required=True,
                                       metadata={"description": "An invoice of one shipment: its number (SH-...)"})
    status = ma.fields.Function(lambda i: service.invoice_status(i), required=True,
                                metadata={"type": "string", "enum": ["issued", "partly_credited", "credited"]})
    currency = ma.fields.String(required=True)
    net_minor = WholeNumber(required=True)
    tax_minor = WholeNumber(required=True)
    gross_minor = WholeNumber(required=True)
    credited_minor = WholeNumber(required=True, metadata={"description": "Invoice: corrected by credit notes so far"})
    buyer_name = ma.fields.String(required=True)
    invoice_type = ma.fields.String(required=True, metadata={"enum": list(service.INVOICE_TYPES)})
    issued_at = ma.fields.DateTime(required=True)
    issued_by = ma.fields.String(attribute="issued_by_name", required=True)
    fapiao_code = ma.fields.String(allow_none=True, required=True)
    fapiao_number = ma.fields.String(allow_none=True, required=True)
    fapiao_date = ma.fields.Date(allow_none=True, required=True)


class InvoiceDetailSchema(InvoiceSchema):
    seller = ma.fields.Nested(PartySchema, required=True)
    buyer = ma.fields.Nested(PartySchema, required=True)
    lines = ma.fields.List(ma.fields.Nested(InvoiceLineSchema), required=True)


class InvoiceFilterSchema(PageQuerySchema):
    order_id = id_field()
    kind = choice_field([service.INVOICE, service.CREDIT_NOTE])
    q = text_field(100, metadata={"description": "Part of the number, the buyer or the order number"})
    fapiao_wanted = ma.fields.Boolean(metadata={"description": "true: invoices whose requested fapiao is not recorded"})
    start = ma.fields.Date(metadata={"description": "Issued on or after this day (company time zone)"})
    end = ma.fields.Date(metadata={"description": "Issued on or before this day (company time zone)"})
    sort = choice_field(["id", "-id", "issued_at", "-issued_at", "amount", "-amount"], load_default="-id")


class IssueInSchema(ApiSchema):
    order_id = id_field(required=True)
    shipment_id = id_field(metadata={"description": "Invoice only this shipment of the order (needs logistics); "
                                                    "omitted: the whole order"})
    invoice_type = choice_field(service.INVOICE_TYPES, load_default=None, metadata={
        "description": "The fapiao the buyer wants; defaults to the buyer's own choice"})


@bp.route("")
class Invoices(MethodView):
    @requires("finance.invoices.view")
    @bp.arguments(InvoiceFilterSchema, location="query")
    @bp.response(200, page_schema(InvoiceSchema, "InvoicePage"))
    def get(self, args):
        """Invoices and credit notes, newest first, filtered by order, kind, text, fapiao state and day issued."""
        stmt = (select(Invoice).join(Order, Order.id == Invoice.order_id).where(order_scope(Invoice.order_id))
                .options(contains_eager(Invoice.order)))
        if args.get("order_id"):
            stmt = stmt.where(Invoice.order_id == args["order_id"])
        if args.get("kind"):
            stmt = stmt.where(Invoice.kind == args["kind"])
        if args.get("q"):
            stmt = stmt.where(service.text_condition(args["q"]))
        if args.get("fapiao_wanted") is not None:
            wanted = service.fapiao_wanted_condition()
            stmt = stmt.where(wanted if args["fapiao_wanted"] else ~wanted)
        stmt = _day_range(stmt, Invoice.issued_at, args)
        stmt, _key, _desc = apply_sort(stmt, {"id": Invoice.id, "issued_at": Invoice.issued_at,
                                              "amount": Invoice.gross_minor}, "-id")
        body, headers = paginate(stmt, args)
        return body, 200, headers

    @requires("finance.invoices.issue")
    @idempotent
    @bp.arguments(IssueInSchema)
    @bp.response(201, InvoiceDetailSchema)
    @bp.alt_response(404, response="DEFAULT_ERROR", description="No such order")
    def post(self, data):
        """Issue the invoice of a whole order (confirmed or later, not invoiced yet), or with
        ``shipment_id`` of one dispatched shipment of it (its lines, amounts pro rata).

        Refused with 422 ``invoice_refused`` (the message says why) for a draft or cancelled
        order, an order invoiced already (whole, or per shipment when asking for the whole), a
        shipment invoiced already, or while the company's invoicing details are missing; 404 for
        a shipment not of this order or not dispatched.
        """
        order = get_order(data["order_id"])
        if data.get("shipment_id"):
            invoice = invoice_shipments.issue_shipment_invoice(order, data["shipment_id"], data.get("invoice_type"))
        else:
            invoice = service.issue_invoice(order, data.get("invoice_type"))
        db.session.commit()
        return _get(invoice.id), 201, {"Location": url_for("finance_invoices_api.Invoice", invoice_id=invoice.id)}


def _get(invoice_id: int) -> Invoice:
    from flask import abort

    invoice = db.session.scalar(select(Invoice).where(Invoice.id == invoice_id, order_scope(Invoice.order_id))
                                .options(selectinload(Invoice.lines), selectinload(Invoice.order)))
    if invoice is None:
        abort(404)
    return invoice


@bp.route("/<int:invoice_id>", endpoint="Invoice")
class InvoiceResource(MethodView):
    @requires("finance.invoices.view")
    @bp.response(200, InvoiceDetailSchema)
    @bp.alt_response(404, response="DEFAULT_ERROR", description="No such invoice or credit note")
    def get(self, invoice_id: int):
        """One invoice or credit note with its lines, seller and buyer as issued."""
        return _get(existing_id(invoice_id, _("No such invoice.")))
