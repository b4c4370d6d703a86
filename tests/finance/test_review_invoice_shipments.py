"""Defects found by the security review of invoices per shipment."""

from __future__ import annotations

from erp_core.extensions import db
from plugins.finance.models import Invoice
from tests.finance.conftest import make_order
from tests.finance.test_invoice_shipments import ship, ship_app  # noqa: F401
from tests.finance.test_invoice_views import _client, _csrf

BIG = "9" * 30


def test_a_huge_shipment_id_is_not_found_never_500(ship_app):  # noqa: F811
    with ship_app.test_request_context(method="POST"):
        order = make_order(("10", 1, "0"))
        order_id = order.id
        ship(order, 1)
        db.session.commit()
    client = _client(ship_app, "finance.view", "finance.invoices.view", "finance.invoices.issue")
    page = client.get(f"/finance/orders/{order_id}").get_data(as_text=True)
    response = client.post(f"/finance/invoices/orders/{order_id}/shipments/{BIG}",
                           data={"csrf_token": _csrf(page), "invoice-invoice_type": "none"})
    assert response.status_code in (302, 404)
    with ship_app.app_context():
        assert db.session.query(Invoice).count() == 0
