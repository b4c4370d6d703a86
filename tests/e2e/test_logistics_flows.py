"""Shipping in the browser: ship part of an order with Demo Express, receive the carrier's webhook,
ship the rest, then raise a delivery exception and resolve it with a re-ship.

Screenshots of each step land in test-artifacts/ (logistics-*.png), at desktop and phone widths.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

import pytest

from erp_core.extensions import db
from plugins.logistics import adapters as a
from plugins.logistics import services
from plugins.logistics.models import Shipment
from plugins.orders import states as order_states
from plugins.orders.models import Order
from tests.e2e.conftest import ADMIN_PASSWORD, LiveServer, sign_in
from tests.helpers import make_user
from tests.logistics.conftest import make_carriers, make_order

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the [test] extra installs it
    if os.environ.get("ERP_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)


@pytest.fixture
def shop(make_app):
    """Orders and logistics served with CSRF on, an administrator, Demo Express, a confirmed order."""
    app = make_app(plugins=["orders", "logistics"], WTF_CSRF_ENABLED=True)
    make_user(app, username="admin", password=ADMIN_PASSWORD, roles=["admin"], display_name="Ada Admin")
    with app.test_request_context():
        make_carriers()
        order = make_order(lines=((5, "TEA"), (2, "CUP")))
        order_id, number = order.id, order.number
    server = LiveServer(app).start()
    yield server, order_id, number
    server.stop()




def _order_status(app, order_id):
    with app.app_context():
        return db.session.get(Order, order_id).status


def test_ship_track_ship_the_rest_and_resolve_an_exception(page, shop, shot):
    server, order_id, order_number = shop
    app = server.app
    page.on("dialog", lambda dialog: dialog.accept())  # "Resolve this exception now?"
    sign_in(page, server)

    # 1. ship part of the order with Demo Express
    page.goto(server.url(f"/logistics/orders/{order_id}/ship"))
    expect(page.get_by_role("heading", name=f"Ship order {order_number}")).to_be_visible()
    page.get_by_test_id("carrier-select").select_option(label="Demo Express")
    expect(page.get_by_label("Tracking number")).to_be_hidden()  # Demo Express issues the number itself
    expect(page.get_by_text("This carrier issues the tracking number")).to_be_visible()
    page.get_by_test_id("qty-" + _sku(app, order_id, 1)).fill("0")
    page.get_by_test_id("qty-" + _sku(app, order_id, 0)).fill("3")
    shot(page, "logistics-ship-part-desktop")
    page.get_by_test_id("create-shipment").click()
    expect(page.get_by_text(re.compile(r"Shipment SH-\d{4}-000001 created for order"))).to_be_visible()
    expect(page.get_by_test_id("tracking-number")).to_contain_text("DEX")
    expect(page.get_by_test_id("shipment-details")).to_contain_text("In transit")
    expect(page.get_by_test_id("label")).to_be_visible()
    assert _order_status(app, order_id) == order_states.PARTIALLY_SHIPPED
    shot(page, "logistics-shipment-desktop")

    # 2. the carrier pushes an event to the webhook
    with app.app_context():
        first = db.session.query(Shipment).one()
        first_id = first.id
        headers, body = services.adapter_for(first.carrier).build_test_webhook([a.TrackingEvent(
            tracking_number=first.tracking_number, occurred_at=datetime.now(UTC) - timedelta(minutes=5),
            status=a.OUT_FOR_DELIVERY, description="Out for delivery with courier Li", location="Shanghai depot",
            event_id="e2e-1")])
    response = page.request.post(server.url("/logistics/webhooks/demo-express"), data=body, headers=headers)
    assert response.status == 200 and response.json() == {"new": 1, "duplicate": 0, "unknown": 0}
    forged = page.request.post(server.url("/logistics/webhooks/demo-express"), data=body,
                               headers={**headers, "X-DemoExpress-Signature": "sha256=" + "0" * 64})
    assert forged.status == 401
    page.reload()
    events = page.get_by_test_id("tracking-events")
    expect(events).to_contain_text("Out for delivery with courier Li")
    expect(events).to_contain_text("pushed")
    shot(page, "logistics-webhook-event-desktop")

    # 3. ship the rest (now with the manual carrier, typing its name and number)
    page.get_by_test_id("ship-rest").click()
    page.get_by_test_id("carrier-select").select_option(label="Other carrier")
    expect(page.get_by_label("Tracking number")).to_be_visible()
    page.get_by_label("Carrier's name").fill("SF Express")
    page.get_by_label("Tracking number").fill("bad number!")
    page.get_by_test_id("create-shipment").click()
    expect(page.get_by_test_id("shipment-form").get_by_text("is not a valid Other carrier tracking number")).to_be_visible()
    page.get_by_label("Tracking number").fill("SF1234567890")
    page.get_by_test_id("create-shipment").click()
    expect(page.get_by_text(re.compile(r"Shipment SH-\d{4}-000002 created"))).to_be_visible()
    assert _order_status(app, order_id) == order_states.SHIPPED
    expect(page.get_by_test_id("ship-rest")).to_have_count(0)

    # 4. the parcel is lost: raise an exception and resolve it with a re-ship
    raise_form = page.get_by_test_id("raise-form")
    raise_form.get_by_label("Problem").select_option(label="Lost")
    raise_form.get_by_label("Note").fill("Carrier confirms the parcel is lost.")
    page.get_by_test_id("raise-exception").click()
    expect(page.get_by_text(re.compile(r"Exception raised on shipment SH-"))).to_be_visible()
    resolutions = page.get_by_test_id("resolutions")
    expect(resolutions.get_by_test_id("resolve-cancel_refund")).to_have_count(0)  # finance is not installed here
    shot(page, "logistics-exception-desktop")
    resolutions.get_by_label("Note").fill("Sending the goods again.")
    resolutions.get_by_test_id("resolve-reship").click()
    expect(page.get_by_text("Exception resolved: Re-ship.")).to_be_visible()
    expect(page.get_by_test_id("exception-status")).to_contain_text("Resolved")
    expect(page.get_by_test_id("exception-links")).to_contain_text("000003")
    replacements = page.get_by_test_id("exception-replacements")
    replacements.get_by_role("link", name=re.compile(r"SH-\d{4}-000003")).click()
    expect(page.get_by_test_id("shipment-details")).to_contain_text("Waiting for dispatch")
    page.get_by_test_id("dispatch").click()
    page.get_by_test_id("carrier-select").select_option(label="Demo Express")
    page.get_by_role("button", name="Dispatch").click()
    expect(page.get_by_text(re.compile(r"Shipment SH-\d{4}-000003 dispatched"))).to_be_visible()
    expect(page.get_by_test_id("tracking-number")).to_contain_text("DEX")
    shot(page, "logistics-reshipped-desktop")

    # the first parcel arrives, the queue is empty, the order still waits for the re-ship
    with app.app_context():
        first = db.session.get(Shipment, first_id)
        headers, body = services.adapter_for(first.carrier).build_test_webhook([a.TrackingEvent(
            tracking_number=first.tracking_number, occurred_at=datetime.now(UTC), status=a.DELIVERED,
            event_id="e2e-2")])
    assert page.request.post(server.url("/logistics/webhooks/demo-express"), data=body, headers=headers).ok
    assert _order_status(app, order_id) == order_states.SHIPPED
    page.goto(server.url("/logistics/exceptions/"))
    expect(page.get_by_text("No delivery exceptions match.")).to_be_visible()
    page.goto(server.url("/logistics/"))
    expect(page.get_by_test_id("shipment-list").locator('[data-status="delivered"]')).to_have_count(1)
    shot(page, "logistics-list-desktop")


def test_shipment_pages_fit_a_phone(phone_page, shop, shot):
    server, order_id, _number = shop
    page = phone_page
    sign_in(page, server)
    for path, name in ((f"/logistics/orders/{order_id}/ship", "ship"), ("/logistics/", "list"),
                       ("/logistics/exceptions/", "exceptions"), ("/logistics/carriers/", "carriers")):
        page.goto(server.url(path))
        shot(page, f"logistics-{name}-phone")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways on a phone ({width}px wide)"


def _sku(app, order_id, index):
    with app.app_context():
        return db.session.get(Order, order_id).lines[index].sku
