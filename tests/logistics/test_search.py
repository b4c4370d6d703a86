"""The header search's answer of logistics: shipments by number and tracking number."""

from __future__ import annotations

from erp_core.extensions import db
from tests.helpers import login, make_user
from tests.logistics.conftest import make_carriers, make_order, ship


def _page(app, perms, query):
    client = app.test_client()
    login(client, app, make_user(app, perms=perms))
    return client.get("/search", query_string={"q": query}).get_data(as_text=True)


def test_shipments_are_found_by_number_and_tracking_number(app):
    with app.test_request_context():
        _demo, manual = make_carriers()
        shipment = ship(make_order(), manual, tracking_number="SF7701")
        number, shipment_id = shipment.number, shipment.id
        db.session.commit()
    page = _page(app, ["logistics.view"], number[:6])
    assert f'/logistics/shipments/{shipment_id}"' in page and 'data-testid="search-group-shipment"' in page
    page = _page(app, ["logistics.view"], "sf77")
    assert number in page and "SF7701" in page
    page = _page(app, ["orders.view"], number)
    assert 'data-testid="search-group-shipment"' not in page
