"""The JSON API of purchasing (``/api/v1``): suppliers, purchase orders, sending and receiving.

Thin, like the pages: the schemas (built on :mod:`erp_core.api.schemas`) check the arguments,
:mod:`plugins.purchasing.services` does the work, a DomainError becomes problem+json with its code.
"""

from __future__ import annotations

import marshmallow as ma
from flask import abort, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import selectinload

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
    count,
    existing_id,
    id_field,
    in_range,
    page_schema,
    text_field,
)
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.money import format_plain
from erp_core.security import requires
from plugins.orders.public import MAX_QUANTITY, Product, percent_text

from . import services, states
from .models import PurchaseOrder, Supplier

bp = Blueprint("purchasing_api", __name__, url_prefix="/api/v1",
               description="Suppliers, purchase orders and receiving against them (purchasing plugin)")


# ----------------------------------------------------------------------------- schemas


class SupplierSchema(ma.Schema):
    id = WholeNumber(required=True)
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    contact_name = ma.fields.String(required=True)
    phone = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    address = ma.fields.String(required=True)
    tax_id = ma.fields.String(required=True)
    currency = ma.fields.String(required=True)
    payment_terms = ma.fields.String(required=True)
    notes = ma.fields.String(required=True)
    active = ma.fields.Boolean(required=True)


class SupplierInputSchema(ApiSchema):
    code = text_field(32, NON_BLANK, required=True)
    name = text_field(200, NON_BLANK, required=True)
    contact_name = text_field(120, NO_NUL)
    phone = text_field(40, NO_NUL)
    email = text_field(254, NO_NUL)
    address = text_field(2000, NO_NUL)
    tax_id = text_field(40, NO_NUL)
    currency = text_field(3, NO_NUL, metadata={"description": "ISO 4217; the company currency when empty"})
    payment_terms = text_field(200, NO_NUL)
    notes = text_field(4000, NO_NUL)
    active = ma.fields.Boolean(load_default=True)


class SupplierListArgs(PageQuerySchema):
    q = text_field(100, NO_NUL, metadata={"description": "Code, name, contact or phone contains"})
    active = ma.fields.Boolean()


class PurchaseOrderLineSchema(ma.Schema):
    id = WholeNumber(required=True)
    product_id = WholeNumber(required=True)
    sku = ma.fields.String(required=True)
    quantity = WholeNumber(required=True)
    received = WholeNumber(required=True)
    unit_price = ma.fields.String(required=True, metadata={"description": "Major units, e.g. 12.50, tax included"})
    expected_date = ma.fields.Date(required=True, allow_none=True)
    tax_rate = ma.fields.String(required=True, metadata={
        "description": "The VAT rate of the line when entered: a percent (\"13\", \"6.5\") or \"exempt\""})
    net_minor = WholeNumber(required=True, metadata={"description": "Amount without tax"})
    tax_minor = WholeNumber(required=True, metadata={"description": "Tax of the line (rounded half-up per line)"})
    gross_minor = WholeNumber(required=True, metadata={"description": "Amount with tax: quantity x unit price"})


class PurchaseOrderSchema(ma.Schema):
    id = WholeNumber(required=True)
    number = ma.fields.String(required=True)
    supplier_id = WholeNumber(required=True)
    warehouse_id = WholeNumber(required=True)
    status = ma.fields.String(required=True, metadata={"enum": list(states.STATUSES)})
    currency = ma.fields.String(required=True)
    total = ma.fields.String(required=True, metadata={"description": "Major units, tax included"})
    tax_minor = WholeNumber(required=True, metadata={"description": "Tax of the lines, summed"})
    total_minor = WholeNumber(required=True, metadata={"description": "What the order costs, tax included"})
    note = ma.fields.String(required=True)
    close_reason = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)
    sent_at = ma.fields.DateTime(required=True, allow_none=True)
    lines = ma.fields.List(ma.fields.Nested(PurchaseOrderLineSchema), required=True)


class PurchaseOrderListArgs(PageQuerySchema):
    status = choice_field(states.STATUSES)
    supplier_id = id_field()


class PurchaseOrderLineInputSchema(ApiSchema):
    product_id = id_field(required=True)
    quantity = WholeNumber(required=True, validate=in_range(1, MAX_QUANTITY))
    unit_price = text_field(20, DECIMAL, metadata={"description": "Major units; the supplier's price when absent"})
    expected_date = ma.fields.Date(allow_none=True)


class PurchaseOrderInputSchema(ApiSchema):
    supplier_id = id_field(required=True)
    warehouse_id = id_field(required=True)
    note = text_field(4000, NO_NUL)
    lines = ma.fields.List(ma.fields.Nested(PurchaseOrderLineInputSchema), required=True, validate=count(1, 200))


class PurchaseOrderSendSchema(ApiSchema):
    language = choice_field(services.LANGUAGES, load_default="zh_CN")


class PurchaseReceiptLineSchema(ApiSchema):
    line_id = id_field(required=True)
    quantity = WholeNumber(required=True, validate=in_range(1, MAX_QUANTITY))
    expected_received = WholeNumber(validate=in_range(0, 2**31 - 1), metadata={
        "description": "What you saw received on the line; refused (409) if it changed since"})


class PurchaseReceiptSchema(ApiSchema):
    lines = ma.fields.List(ma.fields.Nested(PurchaseReceiptLineSchema), required=True, validate=count(1, 200))
    confirm_over = ma.fields.Boolean(load_default=False, metadata={
        "description": "Receive more than ordered (otherwise refused with 409 over_receipt)"})


class PurchaseOrderReasonSchema(ApiSchema):
    reason = text_field(1000, NON_BLANK, required=True)


# ----------------------------------------------------------------------------- helpers


def _po_json(pos: list[PurchaseOrder]) -> list[dict]:
    ids = {line.product_id for po in pos for line in po.lines}
    skus = dict(db.session.execute(select(Product.id, Product.sku).where(Product.id.in_(ids))).all()) if ids else {}
    return [{"id": po.id, "number": po.number, "supplier_id": po.supplier_id, "warehouse_id": po.warehouse_id,
             "status": po.status, "currency": po.currency, "total": format_plain(po.total_minor, po.currency),
             "tax_minor": po.tax_minor, "total_minor": po.total_minor,
             "note": po.note, "close_reason": po.close_reason, "created_at": po.created_at, "sent_at": po.sent_at,
             "lines": [{"id": line.id, "product_id": line.product_id, "sku": skus.get(line.product_id, ""),
                        "quantity": line.quantity, "received": line.received,
                        "unit_price": format_plain(line.unit_price_minor, po.currency),
                        "expected_date": line.expected_date,
                        "tax_rate": "exempt" if line.tax_exempt else percent_text(line.tax_rate_percent),
                        "net_minor": line.net_minor, "tax_minor": line.tax_minor, "gross_minor": line.gross_minor}
                       for line in po.lines]} for po in pos]


def _po(po_id: int) -> PurchaseOrder:
    po = db.session.get(PurchaseOrder, existing_id(po_id))
    if po is None:
        abort(404)
    return po


def _supplier_input(data: dict) -> services.SupplierInput:
    return services.SupplierInput(**{k: data.get(k) or "" for k in services.suppliers.FIELDS},
                                  active=data.get("active", True))


def _lines(data: dict) -> list:
    return [services.LineInput(line["product_id"], line["quantity"], line.get("unit_price") or "",
                               line.get("expected_date")) for line in data["lines"]]


def _api_field(exc: DomainError) -> DomainError:
    if exc.field and exc.field.startswith("lines-"):
        exc.field = exc.field.replace("-", ".")
    return exc


# ----------------------------------------------------------------------------- endpoints


@bp.route("/suppliers", endpoint="suppliers")
class Suppliers(MethodView):
    @requires("purchasing.view")
    @bp.arguments(SupplierListArgs, location="query")
    @bp.response(200, page_schema(SupplierSchema, "SupplierPage"))
    def get(self, args):
        """Suppliers by name, filtered by text and active."""
        stmt = services.supplier_query(args.get("q", ""), args.get("active")).order_by(Supplier.name_key, Supplier.id)
        body, headers = paginate(stmt, args)
        return body, 200, headers

    @requires("purchasing.manage")
    @idempotent
    @bp.arguments(SupplierInputSchema)
    @bp.response(201, SupplierSchema)
    def post(self, data):
        """Create a supplier (409 when the code is taken)."""
        supplier = services.save_supplier(None, _supplier_input(data))
        db.session.commit()
        return supplier, 201, {"Location": url_for("purchasing_api.supplier", supplier_id=supplier.id)}


@bp.route("/suppliers/<int:supplier_id>", endpoint="supplier")
class SupplierItem(MethodView):
    @requires("purchasing.view")
    @bp.response(200, SupplierSchema)
    def get(self, supplier_id):
        """One supplier."""
        return db.session.get(Supplier, existing_id(supplier_id)) or abort(404)

    @requires("purchasing.manage")
    @bp.arguments(SupplierInputSchema)
    @bp.response(200, SupplierSchema)
    def put(self, data, supplier_id):
        """Change a supplier (every field)."""
        supplier = db.session.get(Supplier, existing_id(supplier_id)) or abort(404)
        services.save_supplier(supplier, _supplier_input(data))
        db.session.commit()
        return supplier


@bp.route("/purchase-orders", endpoint="purchase_orders")
class PurchaseOrders(MethodView):
    @requires("purchasing.view")
    @bp.arguments(PurchaseOrderListArgs, location="query")
    @bp.response(200, page_schema(PurchaseOrderSchema, "PurchaseOrderPage"))
    def get(self, args):
        """Purchase orders, newest first, filtered by status and supplier."""
        stmt = select(PurchaseOrder).options(selectinload(PurchaseOrder.lines))
        if args.get("status"):
            stmt = stmt.where(PurchaseOrder.status == args["status"])
        if args.get("supplier_id"):
            stmt = stmt.where(PurchaseOrder.supplier_id == args["supplier_id"])
        body, headers = paginate(stmt.order_by(PurchaseOrder.id.desc()), args)
        body["items"] = _po_json(body["items"])
        return body, 200, headers

    @requires("purchasing.manage")
    @idempotent
    @bp.arguments(PurchaseOrderInputSchema)
    @bp.response(201, PurchaseOrderSchema)
    def post(self, data):
        """Create a draft purchase order."""
        try:
            po = services.create_po(services.get_supplier(data["supplier_id"]), data["warehouse_id"], _lines(data),
                                    data.get("note") or "")
        except DomainError as exc:
            raise _api_field(exc) from None
        db.session.commit()
        return _po_json([po])[0], 201, {"Location": url_for("purchasing_api.purchase_order", po_id=po.id)}


@bp.route("/purchase-orders/<int:po_id>", endpoint="purchase_order")
class PurchaseOrderItem(MethodView):
    @requires("purchasing.view")
    @bp.response(200, PurchaseOrderSchema)
    def get(self, po_id):
        """One purchase order with its lines."""
        return _po_json([_po(po_id)])[0]


@bp.route("/purchase-orders/<int:po_id>/send", endpoint="send")
class PurchaseOrderSend(MethodView):
    @requires("purchasing.manage")
    @bp.arguments(PurchaseOrderSendSchema)
    @bp.response(200, PurchaseOrderSchema)
    def post(self, data, po_id):
        """Mark sent and e-mail the order to the supplier (in ``language``)."""
        po = _po(po_id)
        services.send_po(po, data["language"])
        db.session.commit()
        return _po_json([po])[0]


@bp.route("/purchase-orders/<int:po_id>/receipts", endpoint="receipts")
class PurchaseReceipts(MethodView):
    @requires("purchasing.receive")
    @idempotent
    @bp.arguments(PurchaseReceiptSchema)
    @bp.response(201, PurchaseOrderSchema)
    @bp.alt_response(409, response="DEFAULT_ERROR", description=(
        "More than ordered without confirm_over (over_receipt), or the line changed since expected_received"))
    def post(self, data, po_id):
        """Receive goods on some lines: the goods go on hand in the order's warehouse."""
        po = _po(po_id)
        quantities = {line["line_id"]: line["quantity"] for line in data["lines"]}
        seen = {line["line_id"]: line["expected_received"] for line in data["lines"] if "expected_received" in line}
        services.receive(po, quantities, confirm_over=data["confirm_over"], seen=seen)
        db.session.commit()
        return _po_json([po])[0], 201


@bp.route("/purchase-orders/<int:po_id>/<any(close, cancel):action>", endpoint="close")
class PurchaseOrderClose(MethodView):
    @requires("purchasing.manage")
    @bp.arguments(PurchaseOrderReasonSchema)
    @bp.response(200, PurchaseOrderSchema)
    def post(self, data, po_id, action):
        """Close the rest of a partly received order, or cancel one with nothing received."""
        po = _po(po_id)
        (services.close_po if action == "close" else services.cancel_po)(po, data["reason"])
        db.session.commit()
        return _po_json([po])[0]
