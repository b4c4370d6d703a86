"""The API of "close the rest": ``POST /api/v1/orders/<id>/close-rest`` cancels what is left to
ship of a partly shipped order (as the button on the order page does)."""

from __future__ import annotations

from flask.views import MethodView

from erp_core.api.schemas import MAX_ID, ApiSchema, WholeNumber, in_range
from erp_core.security import requires

from ..services import backorders
from . import _commit_with_response, _order, bp
from .schemas import OrderSchema, _text


class CloseRestSchema(ApiSchema):
    reason = _text(backorders.REASON_LIMIT, metadata={"description": "Why the rest is not shipped (required)"})
    version = WholeNumber(validate=in_range(1, MAX_ID),
                          metadata={"description": "Refuse (409 stale) unless the order is at this version"})


@bp.route("/orders/<int:order_id>/close-rest", endpoint="close_rest")
class CloseRest(MethodView):
    @requires("orders.cancel")
    @bp.arguments(CloseRestSchema)
    @bp.response(200, OrderSchema)
    @bp.alt_response(409, response="DEFAULT_ERROR", description=(
        "nothing_shipped (cancel the order instead), nothing_left, transition_refused (not confirmed or "
        "partly shipped), stale (version), transition_vetoed (another module objects to shipped)"))
    def post(self, data, order_id):
        """Close the rest of a partly shipped order: what is neither shipped nor in a shipment is
        cancelled (each line's ``cancelled_quantity``), its stock released, and the order becomes
        shipped. 422 ``reason_required`` without a reason."""
        order = _order(order_id)
        backorders.close_rest(order, data.get("reason"), data.get("version"))
        return _commit_with_response(order)
