"""The API of re-ordering (``POST /api/v1/orders/<id>/duplicate``) and the 409 answer of an
order whose channel already has its external reference."""

from __future__ import annotations

import json

from flask import url_for
from flask.views import MethodView

from erp_core.api.schemas import existing_id
from erp_core.security import requires
from erp_core.web.errors import render_error

from .. import services
from . import _commit_with_response, _rename_line_errors, bp
from .schemas import OrderSchema


def duplicate_answer(exc: services.DuplicateExternalRef):
    """409 problem+json naming the order entered before: ``existing_order_id`` and ``existing_order_number``."""
    response = render_error(409, str(exc), code=exc.code, errors={"external_ref": [str(exc)]})
    body = json.loads(response.get_data())
    body.update(existing_order_id=exc.order_id, existing_order_number=exc.order_number,
                channel=exc.channel, external_ref=exc.external_ref)
    response.set_data(json.dumps(body))
    return response


@bp.route("/orders/<int:order_id>/duplicate", endpoint="order_duplicate")
class OrderDuplicate(MethodView):
    @requires("orders.create")
    @bp.response(201, OrderSchema)
    def post(self, order_id):
        """Re-order: a new draft with the customer, address and products of the order, at today's prices."""
        order = services.get_order(existing_id(order_id))
        try:
            new = services.duplicate_order(order)
        except services.OrderInvalid as exc:
            raise _rename_line_errors(exc) from None
        return _commit_with_response(new, 201, {"Location": url_for("orders_api.order", order_id=new.id)})
