"""Backorders in the browser: an order shipped in part, then "close the rest" with a reason,
in English and in Chinese. Screenshots land in test-artifacts/ (backorders-*.png)."""

from __future__ import annotations

import os

import pytest

from erp_core.extensions import db
from plugins.orders import states as order_states
from plugins.orders.models import Order
from tests.e2e.conftest import ADMIN_PASSWORD, LiveServer, sign_in
from tests.e2e.test_language_crawl import switch_language
from tests.helpers import make_user
from tests.logistics.conftest import make_carriers, make_order, ship

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the [test] extra installs it
    if os.environ.get("ERP_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)


@pytest.fixture
def shop(make_app):
    """Orders and logistics with CSRF on, an administrator, and an order of tea × 5 and cup × 2
    of which 3 tea shipped."""
    app = make_app(plugins=["orders", "logistics"], WTF_CSRF_ENABLED=True)
    make_user(app, username="admin", password=ADMIN_PASSWORD, roles=["admin"], display_name="Ada Admin")
    with app.test_request_context(method="POST"):
        _demo, manual = make_carriers()
        order = make_order(lines=((5, "TEA"), (2, "CUP")))
        ship(order, manual, {order.lines[0].id: 3})
        order_id = order.id
    server = LiveServer(app).start()
    yield server, order_id
    server.stop()


def test_partly_shipped_then_close_the_rest(page, shop, shot):
    server, order_id = shop
    sign_in(page, server)
    page.goto(server.url(f"/orders/{order_id}"))
    expect(page.get_by_test_id("order-status")).to_contain_text("Partially shipped")
    page.get_by_test_id("action-close-rest").click()
    box = page.get_by_test_id("close-rest-box")
    expect(box).to_be_visible()
    expect(page.get_by_test_id("close-rest-lines")).to_contain_text("2")
    shot(page, "backorders-close-box-en")
    page.get_by_test_id("close-rest-reason").fill("<script>alert(1)</script> discontinued")
    page.get_by_test_id("confirm-close-rest").click()
    expect(page.get_by_test_id("order-status")).to_contain_text("Shipped")
    expect(page.get_by_test_id("line-cancelled").first).to_contain_text("2 cancelled")
    expect(page.locator("body")).to_contain_text("Rest of the order closed")
    expect(page.locator("body")).to_contain_text("<script>alert(1)</script> discontinued")
    expect(page.get_by_test_id("action-close-rest")).to_have_count(0)
    shot(page, "backorders-closed-en")
    with server.app.app_context():
        assert db.session.get(Order, order_id).status == order_states.SHIPPED

    switch_language(page, "zh_CN")
    page.goto(server.url(f"/orders/{order_id}"))
    expect(page.locator("body")).to_contain_text("订单余量已关闭")
    expect(page.get_by_test_id("line-cancelled").first).to_contain_text("已取消 2")
    shot(page, "backorders-closed-zh")
