"""The API of an order's invoicing details: ``/api/v1/orders/<id>/invoicing`` (read, and replace
while the order is not invoiced). Customers carry theirs in their own ``invoicing`` object."""

from __future__ import annotations

from flask.views import MethodView

from erp_core.api.schemas import existing_id
from erp_core.extensions import db
from erp_core.security import requires

from .. import services
from ..invoicing_details import order_invoicing_details
from . import bp
from .invoicing_schemas import OrderInvoicingPutSchema, OrderInvoicingSchema


def _answer(order) -> dict:
    return {"order_id": order.id, "version": order.version, **order_invoicing_details(order).as_dict()}


@bp.route("/orders/<int:order_id>/invoicing", endpoint="order_invoicing")
class OrderInvoicingItem(MethodView):
    @requires("orders.view")
    @bp.response(200, OrderInvoicingSchema)
    def get(self, order_id):
        """The buyer's invoicing details of the order: its own copy, taken from the customer at entry."""
        return _answer(services.get_order(existing_id(order_id)))

    @requires("orders.edit")
    @bp.arguments(OrderInvoicingPutSchema)
    @bp.response(200, OrderInvoicingSchema)
    @bp.alt_response(409, response="DEFAULT_ERROR",
                     description="invoicing_locked: the order was invoiced or cancelled; stale: `version` is old")
    def put(self, data, order_id):
        """Replace the order's invoicing details (fields left out are emptied; the customer's stay as they are)."""
        order = services.get_order(existing_id(order_id))
        version = data.pop("version", None)
        services.set_order_invoicing(order, data, version)
        db.session.flush()
        body = _answer(order)
        db.session.commit()
        return body
