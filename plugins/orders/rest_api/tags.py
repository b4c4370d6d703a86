"""The API of order tags: ``POST /api/v1/orders/<id>/tags`` puts a tag on an order,
``DELETE /api/v1/orders/<id>/tags/<tag>`` takes it off. Both need ``orders.edit`` (as the tag
form of the order page) and answer the order with its ``tags``; the list filter is ``?tag=``."""

from __future__ import annotations

from flask.views import MethodView

from erp_core.security import requires

from .. import services
from . import _commit_with_response, _order, bp
from .schemas import OrderSchema, OrderTagSchema


@bp.route("/orders/<int:order_id>/tags", endpoint="order_tags")
class OrderTags(MethodView):
    @requires("orders.edit")
    @bp.arguments(OrderTagSchema)
    @bp.response(200, OrderSchema)
    def post(self, data, order_id):
        """Put a tag on the order (nothing changes when it already has it)."""
        order = _order(order_id)
        services.add_tag(order, data["tag"])
        return _commit_with_response(order)


@bp.route("/orders/<int:order_id>/tags/<path:tag>", endpoint="order_tag")
class OrderTag(MethodView):
    @requires("orders.edit")
    @bp.response(200, OrderSchema)
    def delete(self, order_id, tag):
        """Take a tag off the order (nothing changes when it does not have it)."""
        order = _order(order_id)
        services.remove_tag(order, tag)
        return _commit_with_response(order)
