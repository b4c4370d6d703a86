"""Kuaidi100 in the browser: add the carrier, test its connection, and follow a parcel whose
signed push reaches the site over HTTP from the (fake) aggregator.

Screenshots land in test-artifacts/ (kuaidi100-*.png).
"""

from __future__ import annotations

import os
import urllib.parse
import urllib.request

import pytest

from erp_core import settings
from erp_core.extensions import db
from plugins.logistics import services
from plugins.logistics.kuaidi100 import Kuaidi100Adapter
from plugins.logistics.models import Carrier, Shipment
from tests.e2e.conftest import ADMIN_PASSWORD, LiveServer, sign_in
from tests.helpers import make_user
from tests.logistics.conftest import make_order
from tests.logistics.kuaidi100_fake import FakeKuaidi100, trace

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the [test] extra installs it
    if os.environ.get("ERP_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)

NUMBER = "ZT7512345678901"


@pytest.fixture
def shop(make_app, monkeypatch):
    """Orders and logistics served with CSRF on, an administrator, and the fake Kuaidi100."""
    app = make_app(plugins=["orders", "logistics"], WTF_CSRF_ENABLED=True)
    make_user(app, username="admin", password=ADMIN_PASSWORD, roles=["admin"], display_name="Ada Admin")
    with FakeKuaidi100() as fake:
        monkeypatch.setattr(Kuaidi100Adapter, "base_url", fake.url)
        monkeypatch.setattr(Kuaidi100Adapter, "example_tracking_number", NUMBER)
        fake.add_parcel("zhongtong", NUMBER, "0", trace(("2026-01-15 22:00:00", "0", "快件离开【杭州转运中心】", "杭州市"),
                                                        ("2026-01-15 16:00:00", "1", "快件已揽收", "杭州市")))
        server = LiveServer(app).start()
        with app.app_context():
            settings.set_many({"logistics.public_url": server.url("").rstrip("/")})
            db.session.commit()
        yield server, fake
        server.stop()


def test_add_kuaidi100_test_the_connection_and_receive_a_push(page, shop, shot, monkeypatch):
    server, fake = shop
    app = server.app
    monkeypatch.setattr(services.tracking, "_future_hours", lambda: 24 * 3650)
    sign_in(page, server)

    page.goto(server.url("/logistics/carriers/new"))
    page.get_by_test_id("adapter-kuaidi100").click()
    page.fill("#name", "ZTO via Kuaidi100")
    page.fill("#code", "zto")
    page.fill("#cred_customer", "CUST-1")
    page.fill("#cred_api_key", "test-key")
    page.select_option("#cred_company", "zhongtong")
    shot(page, "kuaidi100-carrier-form")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Carrier ZTO via Kuaidi100 added.")).to_be_visible()

    page.get_by_role("button", name="Test the connection").click()
    expect(page.get_by_text("The connection of ZTO via Kuaidi100 works.")).to_be_visible()
    shot(page, "kuaidi100-connection-tested")

    with app.test_request_context():
        carrier_id = db.session.query(Carrier).filter_by(code="zto").one().id
        order = make_order()
        quantities = {k: v for k, v in services.remaining_by_line(order).items() if v}
        shipment = services.create_shipment(order, services.ShipmentInput(
            carrier_id=carrier_id, quantities=quantities, tracking_number=NUMBER))
        db.session.commit()
        shipment_id = shipment.id
    assert fake.subscriptions[("zhongtong", NUMBER)]["parameters"]["callbackurl"] == server.url("/logistics/webhooks/zto")

    fake.add_parcel("zhongtong", NUMBER, "3", trace(("2026-01-16 17:30:00", "301", "您的快件已签收", "上海市"),
                                                    ("2026-01-15 22:00:00", "0", "快件离开【杭州转运中心】", "杭州市"),
                                                    ("2026-01-15 16:00:00", "1", "快件已揽收", "杭州市")))
    url, body = fake.push_body("zhongtong", NUMBER)
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert response.read().decode() == '{"result": true, "returnCode": "200", "message": "成功"}'

    page.goto(server.url(f"/logistics/shipments/{shipment_id}"))
    expect(page.get_by_text("您的快件已签收 · 上海市")).to_be_visible()
    shot(page, "kuaidi100-shipment-delivered")
    with app.app_context():
        assert db.session.get(Shipment, shipment_id).status == "delivered"
    assert urllib.parse.urlparse(url).path == "/logistics/webhooks/zto"
