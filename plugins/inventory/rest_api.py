"""The JSON API of inventory (``/api/v1``): warehouses, stock levels, the stock ledger, and the two
kinds of moves a user posts on the pages: receipts of goods and stocktake adjustments.

Thin, like the pages: the schemas check the arguments, :mod:`plugins.inventory.services` does
the work (so the page's rules hold here too), a DomainError becomes problem+json with its code.
Reservations, releases and shipments are never posted here: they follow the orders.
"""

from __future__ import annotations

import marshmallow as ma
from flask import abort, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import func, select

from erp_core import settings
from erp_core.api.idempotency import idempotent
from erp_core.api.pagination import paginate
from erp_core.api.schemas import (
    NO_NUL,
    NON_BLANK,
    ApiSchema,
    PageQuerySchema,
    WholeNumber,
    clamp_date,
    count,
    existing_id,
    id_field,
    in_range,
    one_of,
    page_schema,
    text_field,
)
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.security import requires
from erp_core.timeutil import local_day_bounds
from plugins.orders import public as order_services
from plugins.orders.public import Product

from . import services
from .models import MOVE_TYPES, Document, Level, Move, StockRule, Warehouse

bp = Blueprint("inventory_api", __name__, url_prefix="/api/v1",
               description="Warehouses, stock levels and the stock ledger (inventory plugin)")


# ----------------------------------------------------------------------------- schemas


class WarehouseSchema(ma.Schema):
    id = WholeNumber(required=True)
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    address = ma.fields.String(required=True)
    active = ma.fields.Boolean(required=True)
    is_default = ma.fields.Boolean(required=True)


class WarehouseListArgs(PageQuerySchema):
    active = ma.fields.Boolean(metadata={"description": "true: active only; false: switched off only"})


class LevelSchema(ma.Schema):
    id = WholeNumber(required=True)
    product_id = WholeNumber(required=True)
    sku = ma.fields.String(required=True)
    product_name = ma.fields.String(required=True)
    warehouse_id = WholeNumber(required=True)
    on_hand = WholeNumber(required=True)
    reserved = WholeNumber(required=True)
    available = WholeNumber(required=True)
    low_threshold = WholeNumber(required=True, metadata={"description": "0: no threshold"})
    low = ma.fields.Boolean(required=True, metadata={"description": "available is below the threshold"})
    updated_at = ma.fields.DateTime(required=True)


class LevelListArgs(PageQuerySchema):
    product_id = id_field()
    warehouse_id = id_field()
    low = ma.fields.Boolean(metadata={"description": "true: only levels below their threshold"})


class MoveSchema(ma.Schema):
    id = WholeNumber(required=True)
    kind = ma.fields.String(required=True, attribute="type", metadata={"enum": list(MOVE_TYPES)})
    product_id = WholeNumber(required=True)
    sku = ma.fields.String(required=True)
    warehouse_id = WholeNumber(required=True)
    quantity = WholeNumber(required=True)
    on_hand_delta = WholeNumber(required=True)
    reserved_delta = WholeNumber(required=True)
    on_hand_after = WholeNumber(required=True)
    reserved_after = WholeNumber(required=True)
    order_id = WholeNumber(required=True, allow_none=True)
    document_id = WholeNumber(required=True, allow_none=True)
    reference = ma.fields.String(required=True)
    note = ma.fields.String(required=True)
    actor_name = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)


class MoveListArgs(PageQuerySchema):
    product_id = id_field()
    warehouse_id = id_field()
    order_id = id_field()
    kind = ma.fields.String(validate=one_of(MOVE_TYPES))
    reference = text_field(64, NO_NUL, metadata={"description": "Document or order number"})
    date_from = ma.fields.Date(data_key="from", metadata={"description": "On or after (company calendar)"})
    date_to = ma.fields.Date(data_key="to", metadata={"description": "On or before (company calendar)"})



class DocumentSchema(ma.Schema):
    id = WholeNumber(required=True)
    number = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    warehouse_id = WholeNumber(required=True)
    supplier = ma.fields.String(required=True)
    note = ma.fields.String(required=True)
    actor_name = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)


class PostedSchema(ma.Schema):
    document = ma.fields.Nested(DocumentSchema, required=True, allow_none=True,
                                metadata={"description": "null when a count matched the books"})
    moves = ma.fields.List(ma.fields.Nested(MoveSchema), required=True)


class ReceiptLineSchema(ApiSchema):
    product_id = id_field(required=True)
    quantity = WholeNumber(required=True, validate=in_range(1, order_services.MAX_QUANTITY))


class ReceiptSchema(ApiSchema):
    warehouse_id = id_field(metadata={"description": "Default: the default warehouse"})
    supplier = text_field(200, NO_NUL, metadata={"description": "Supplier or delivery note"})
    note = text_field(2000, NO_NUL)
    lines = ma.fields.List(ma.fields.Nested(ReceiptLineSchema), required=True, validate=count(1, 200))


class AdjustmentSchema(ApiSchema):
    warehouse_id = id_field(metadata={"description": "Default: the default warehouse"})
    product_id = id_field(required=True)
    counted = WholeNumber(required=True, validate=in_range(0, 10_000_000),
                                metadata={"description": "The quantity counted; replaces on hand"})
    reason = text_field(1000, NON_BLANK, required=True)
    expected_on_hand = WholeNumber(validate=in_range(0, 2**31 - 1), metadata={
        "description": "The on hand the counter saw; refused (409) if stock moved since"})


# ----------------------------------------------------------------------------- helpers


def _level_json(levels: list[Level]) -> list[dict]:
    """Levels with their product's code, name and threshold: one more SELECT for the whole page."""
    ids = sorted({lv.product_id for lv in levels})
    info = {row.id: row for row in db.session.execute(
        select(Product.id, Product.sku, Product.name, func.coalesce(StockRule.low_threshold, 0).label("threshold"))
        .outerjoin(StockRule, StockRule.product_id == Product.id).where(Product.id.in_(ids)))} if ids else {}
    result = []
    for lv in levels:
        row = info[lv.product_id]
        result.append({"id": lv.id, "product_id": lv.product_id, "sku": row.sku, "product_name": row.name,
                       "warehouse_id": lv.warehouse_id, "on_hand": lv.on_hand, "reserved": lv.reserved,
                       "available": lv.available, "low_threshold": row.threshold,
                       "low": lv.available < row.threshold, "updated_at": lv.updated_at})
    return result


def _move_json(moves) -> list[dict]:
    """Moves (objects or dicts) with their product's code: one more SELECT for the whole page."""
    def get(m, name):
        return m[name] if isinstance(m, dict) else getattr(m, name)

    ids = sorted({get(m, "product_id") for m in moves})
    skus = dict(db.session.execute(select(Product.id, Product.sku).where(Product.id.in_(ids))).all()) if ids else {}
    names = ("id", "type", "product_id", "warehouse_id", "quantity", "on_hand_delta", "reserved_delta",
             "on_hand_after", "reserved_after", "order_id", "document_id", "reference", "note", "actor_name",
             "created_at")
    return [{**{n: get(m, n) for n in names}, "sku": skus.get(get(m, "product_id"), "")} for m in moves]


def _warehouse_id(data: dict) -> int:
    if data.get("warehouse_id") is not None:
        return data["warehouse_id"]
    default = services.find_default_warehouse()
    return services.get_warehouse(default.id if default else None).id


def _api_field(exc):
    """Line fields come from the services as ``lines-0-quantity``; the API says ``lines.0.quantity``."""
    if exc.field and exc.field.startswith("lines-"):
        exc.field = exc.field.replace("-", ".")
    return exc


def _posted(doc: Document | None):
    if doc is None:
        return {"document": None, "moves": []}, 200, {}
    moves = db.session.scalars(select(Move).where(Move.document_id == doc.id).order_by(Move.id)).all()
    return ({"document": doc, "moves": _move_json(moves)}, 201,
            {"Location": url_for("inventory_api.moves", reference=doc.number)})


# ----------------------------------------------------------------------------- endpoints


@bp.route("/warehouses", endpoint="warehouses")
class Warehouses(MethodView):
    @requires("inventory.view")
    @bp.arguments(WarehouseListArgs, location="query")
    @bp.response(200, page_schema(WarehouseSchema, "WarehousePage"))
    def get(self, args):
        """Warehouses, the default first."""
        stmt = select(Warehouse).order_by(Warehouse.is_default.desc(), Warehouse.name, Warehouse.id)
        if args.get("active") is not None:
            stmt = stmt.where(Warehouse.active.is_(args["active"]))
        body, headers = paginate(stmt, args)
        return body, 200, headers


@bp.route("/stock-levels", endpoint="levels")
class Levels(MethodView):
    @requires("inventory.view")
    @bp.arguments(LevelListArgs, location="query")
    @bp.response(200, page_schema(LevelSchema, "StockLevelPage"))
    def get(self, args):
        """On hand, reserved and available per product and warehouse (by product code)."""
        stmt = select(Level).join(Product, Product.id == Level.product_id)
        if args.get("product_id"):
            stmt = stmt.where(Level.product_id == args["product_id"])
        if args.get("warehouse_id"):
            stmt = stmt.where(Level.warehouse_id == args["warehouse_id"])
        if args.get("low") is not None:
            threshold = func.coalesce(StockRule.low_threshold, 0)
            stmt = stmt.outerjoin(StockRule, StockRule.product_id == Level.product_id)
            below = (Level.on_hand - Level.reserved) < threshold
            stmt = stmt.where(below if args["low"] else ~below)
        body, headers = paginate(stmt.order_by(Product.sku, Level.warehouse_id, Level.id), args)
        body["items"] = _level_json(body["items"])
        return body, 200, headers


@bp.route("/stock-levels/<int:level_id>", endpoint="level")
class LevelItem(MethodView):
    @requires("inventory.view")
    @bp.response(200, LevelSchema)
    def get(self, level_id):
        """One stock level."""
        level = db.session.get(Level, existing_id(level_id))
        if level is None:
            abort(404)
        return _level_json([level])[0]


@bp.route("/stock-moves", endpoint="moves")
class Moves(MethodView):
    @requires("inventory.view")
    @bp.arguments(MoveListArgs, location="query")
    @bp.response(200, page_schema(MoveSchema, "StockMovePage"))
    def get(self, args):
        """The stock ledger, newest first, filtered by product, warehouse, order, kind, reference and dates."""
        stmt = select(Move).where(services.visible_moves())  # own customers only: no others' reservations
        for name in ("product_id", "warehouse_id", "order_id"):
            if args.get(name):
                stmt = stmt.where(getattr(Move, name) == args[name])
        if args.get("kind"):
            stmt = stmt.where(Move.type == args["kind"])
        if (args.get("reference") or "").strip():
            stmt = stmt.where(Move.reference == args["reference"].strip().upper())
        zone = settings.company_timezone()
        if args.get("date_from"):
            stmt = stmt.where(Move.created_at >= local_day_bounds(clamp_date(args["date_from"]), zone)[0])
        if args.get("date_to"):
            stmt = stmt.where(Move.created_at < local_day_bounds(clamp_date(args["date_to"]), zone)[1])
        body, headers = paginate(stmt.order_by(Move.id.desc()), args)
        body["items"] = _move_json(body["items"])
        return body, 200, headers


@bp.route("/stock-moves/<int:move_id>", endpoint="move")
class MoveItem(MethodView):
    @requires("inventory.view")
    @bp.response(200, MoveSchema)
    def get(self, move_id):
        """One move of the ledger."""
        move = db.session.scalar(select(Move).where(Move.id == existing_id(move_id), services.visible_moves()))
        if move is None:
            abort(404)
        return _move_json([move])[0]


@bp.route("/stock-moves/receipts", endpoint="receipts")
class Receipts(MethodView):
    @requires("inventory.receive")
    @idempotent
    @bp.arguments(ReceiptSchema)
    @bp.response(201, PostedSchema)
    def post(self, data):
        """Goods arrived: a receipt document and a "receipt" move per product (on hand goes up)."""
        try:
            quantities = services.lines_by_product_id((line["product_id"], line["quantity"]) for line in data["lines"])
            doc = services.receive_goods(_warehouse_id(data), quantities, data.get("supplier", ""),
                                         data.get("note", ""))
        except DomainError as exc:
            raise _api_field(exc) from None
        db.session.commit()
        return _posted(doc)


@bp.route("/stock-moves/adjustments", endpoint="adjustments")
class Adjustments(MethodView):
    @requires("inventory.adjust")
    @idempotent
    @bp.arguments(AdjustmentSchema)
    @bp.response(201, PostedSchema)
    @bp.alt_response(200, schema=PostedSchema, description="The count matched the books: nothing to adjust")
    @bp.alt_response(409, response="DEFAULT_ERROR", description=(
        "Stock moved since expected_on_hand, or the count is below what confirmed orders hold"))
    def post(self, data):
        """A stocktake count: the counted quantity replaces on hand through an "adjustment" move."""
        product = order_services.get_product(data["product_id"])
        doc = services.count_stock(_warehouse_id(data), product, str(data["counted"]), data["reason"],
                                   seen=data.get("expected_on_hand"))
        db.session.commit()
        return _posted(doc)
