"""The JSON API of quotations (``/api/v1/quotations``): list, get, create, send, accept, decline.

Thin, like the pages: the schemas (built on :mod:`erp_core.api.schemas`) check the arguments,
:mod:`plugins.quotations.services` does the work, a DomainError becomes problem+json with its code.
"""

from __future__ import annotations

import marshmallow as ma
from flask import abort, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.orm import selectinload

from erp_core.api.idempotency import idempotent
from erp_core.api.pagination import paginate
from erp_core.api.schemas import (
    DECIMAL,
    NO_NUL,
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
from erp_core.security import has_permission, requires
from plugins.orders.public import MAX_QUANTITY, percent_text

from . import services, states
from .models import Quotation

bp = Blueprint("quotations_api", __name__, url_prefix="/api/v1",
               description="Quotations to customers, sent, accepted into orders or declined (quotations plugin)")


class QuotationLineSchema(ma.Schema):
    id = WholeNumber(required=True)
    product_id = WholeNumber(required=True)
    sku = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    quantity = WholeNumber(required=True)
    unit_price = ma.fields.String(required=True, metadata={"description": "Major units, as the site prices"})
    discount = ma.fields.String(required=True, metadata={"description": "Percent off, e.g. \"10\""})
    tax_rate = ma.fields.String(required=True, metadata={"description": "A percent (\"13\") or \"exempt\""})
    net_minor = WholeNumber(required=True)
    tax_minor = WholeNumber(required=True)
    gross_minor = WholeNumber(required=True, metadata={"description": "What the customer pays for the line"})


class QuotationSchema(ma.Schema):
    id = WholeNumber(required=True)
    number = ma.fields.String(required=True)
    customer_id = WholeNumber(required=True)
    status = ma.fields.String(required=True, metadata={"enum": list(states.STATUSES)})
    currency = ma.fields.String(required=True)
    valid_until = ma.fields.Date(required=True)
    total = ma.fields.String(required=True, metadata={"description": "Major units, what the customer pays"})
    total_minor = WholeNumber(required=True)
    tax_minor = WholeNumber(required=True)
    contact_name = ma.fields.String(required=True)
    contact_phone = ma.fields.String(required=True)
    contact_email = ma.fields.String(required=True)
    ship_recipient = ma.fields.String(required=True)
    ship_line1 = ma.fields.String(required=True)
    ship_line2 = ma.fields.String(required=True)
    ship_city = ma.fields.String(required=True)
    ship_region = ma.fields.String(required=True)
    ship_postcode = ma.fields.String(required=True)
    ship_country = ma.fields.String(required=True)
    notes = ma.fields.String(required=True)
    decline_reason = ma.fields.String(required=True)
    order_id = WholeNumber(required=True, allow_none=True, metadata={"description": "The order it became"})
    customer_link = ma.fields.String(required=True, allow_none=True, metadata={
        "description": "The customer's link to view, accept or decline (once sent; null without "
                       "quotations.manage)"})
    created_at = ma.fields.DateTime(required=True)
    sent_at = ma.fields.DateTime(required=True, allow_none=True)
    lines = ma.fields.List(ma.fields.Nested(QuotationLineSchema), required=True)


class QuotationListArgs(PageQuerySchema):
    status = choice_field(states.STATUSES)
    customer_id = id_field()
    q = text_field(100, NO_NUL, metadata={"description": "Number, customer or contact contains"})


class QuotationLineInputSchema(ApiSchema):
    product_id = id_field(required=True)
    quantity = WholeNumber(required=True, validate=in_range(1, MAX_QUANTITY))
    unit_price = text_field(20, DECIMAL, metadata={"description": "Major units; the catalogue price when absent"})
    discount = text_field(8, DECIMAL, metadata={"description": "Percent off (0-100)"})


class QuotationInputSchema(ApiSchema):
    customer_id = id_field(required=True)
    currency = text_field(3, NO_NUL, metadata={"description": "ISO 4217; the company currency when empty"})
    valid_until = ma.fields.Date(allow_none=True, metadata={"description": "Default: today + the validity setting"})
    contact_name = text_field(200, NO_NUL)
    contact_phone = text_field(40, NO_NUL)
    contact_email = text_field(200, NO_NUL)
    ship_recipient = text_field(200, NO_NUL)
    ship_line1 = text_field(300, NO_NUL, required=True)
    ship_line2 = text_field(300, NO_NUL)
    ship_city = text_field(120, NO_NUL)
    ship_region = text_field(120, NO_NUL)
    ship_postcode = text_field(20, NO_NUL)
    ship_country = text_field(2, NO_NUL)
    notes = text_field(5000, NO_NUL)
    lines = ma.fields.List(ma.fields.Nested(QuotationLineInputSchema), required=True, validate=count(1, 200))


class QuotationSendSchema(ApiSchema):
    mail = ma.fields.Boolean(load_default=True, metadata={"description": "E-mail the link to the customer"})


class QuotationReasonSchema(ApiSchema):
    reason = text_field(1000, NO_NUL)


def _json(items: list[Quotation]) -> list[dict]:
    # The link lets its holder accept (make an order) or decline: only for who may do that.
    may_decide = has_permission("quotations.manage")

    def line(q, item):
        return {"id": item.id, "product_id": item.product_id, "sku": item.sku, "name": item.name,
                "quantity": item.quantity, "unit_price": format_plain(item.unit_price_minor, q.currency),
                "discount": percent_text(item.discount_percent),
                "tax_rate": "exempt" if item.tax_exempt else percent_text(item.tax_rate_percent),
                "net_minor": item.net_minor, "tax_minor": item.tax_minor, "gross_minor": item.gross_minor}

    return [{**{name: getattr(q, name) for name in (
        "id", "number", "customer_id", "status", "currency", "valid_until", "total_minor", "tax_minor",
        "notes", "decline_reason", "order_id", "created_at", "sent_at", *services.HEADER)},
        "total": format_plain(q.total_minor, q.currency), "customer_link": services.link_of(q) if may_decide else None,
        "lines": [line(q, item) for item in q.lines]} for q in items]


def _get(quotation_id: int) -> Quotation:
    quotation = services.visible(db.session.get(Quotation, existing_id(quotation_id)))
    if quotation is None:  # or of a customer the user may not see
        abort(404)
    return quotation


def _api_field(exc: DomainError) -> DomainError:
    if exc.field and exc.field.startswith("lines-"):
        exc.field = exc.field.replace("-", ".")
    return exc


@bp.route("/quotations", endpoint="quotations")
class Quotations(MethodView):
    @requires("quotations.view")
    @bp.arguments(QuotationListArgs, location="query")
    @bp.response(200, page_schema(QuotationSchema, "QuotationPage"))
    def get(self, args):
        """Quotations, newest first, filtered by status, customer and text."""
        stmt = services.list_query(args.get("status") or "", args.get("customer_id"), args.get("q") or "")
        body, headers = paginate(stmt.options(selectinload(Quotation.lines)), args)
        body["items"] = _json(body["items"])
        return body, 200, headers

    @requires("quotations.manage")
    @idempotent
    @bp.arguments(QuotationInputSchema)
    @bp.response(201, QuotationSchema)
    def post(self, data):
        """Create a draft quotation."""
        lines = [services.LineInput(line["product_id"], line["quantity"], line.get("unit_price") or "",
                                    line.get("discount") or "") for line in data.pop("lines")]
        try:
            quotation = services.create_quotation(services.QuoteInput(**data, lines=lines))
        except DomainError as exc:
            raise _api_field(exc) from None
        db.session.commit()
        return _json([quotation])[0], 201, {"Location": url_for("quotations_api.quotation",
                                                                quotation_id=quotation.id)}


@bp.route("/quotations/<int:quotation_id>", endpoint="quotation")
class QuotationItem(MethodView):
    @requires("quotations.view")
    @bp.response(200, QuotationSchema)
    def get(self, quotation_id):
        """One quotation with its lines."""
        return _json([_get(quotation_id)])[0]


@bp.route("/quotations/<int:quotation_id>/send", endpoint="send")
class QuotationSend(MethodView):
    @requires("quotations.manage")
    @bp.arguments(QuotationSendSchema)
    @bp.response(200, QuotationSchema)
    def post(self, data, quotation_id):
        """Send the quotation (a draft, or an expired one anew) and e-mail its link unless ``mail`` is false."""
        quotation = _get(quotation_id)
        services.send_quotation(quotation, mail=data["mail"])
        db.session.commit()
        return _json([quotation])[0]


@bp.route("/quotations/<int:quotation_id>/<any(accept, decline):action>", endpoint="decide")
class QuotationDecide(MethodView):
    @requires("quotations.manage")
    @bp.arguments(QuotationReasonSchema)
    @bp.response(200, QuotationSchema)
    @bp.alt_response(409, response="DEFAULT_ERROR", description="Decided meanwhile, or expired")
    def post(self, data, quotation_id, action):
        """Accept (the quotation becomes an order; ``order_id`` names it) or decline, on the customer's word."""
        quotation = _get(quotation_id)
        if action == "accept":
            services.accept(quotation, note=data.get("reason") or "")
        else:
            services.decline(quotation, data.get("reason") or "")
        db.session.commit()
        return _json([quotation])[0]
