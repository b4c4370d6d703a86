"""Bulk work in the browser: tick every order of the list's page, confirm them in one go, and read
each order's outcome: two confirmed, one (cancelled before) refused with its reason."""

from __future__ import annotations

import os

import pytest

from erp_core.extensions import db
from plugins.orders import services, states
from plugins.orders.services import LineInput, OrderInput
from tests.e2e.conftest import ADMIN_PASSWORD, LiveServer, sign_in
from tests.helpers import make_user

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the [test] extra installs it
    if os.environ.get("ERP_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)


@pytest.fixture
def bulk_server(make_app):
    """Only orders, CSRF on, an administrator and three drafts of the phone channel, one cancelled."""
    app = make_app(plugins=["orders"], WTF_CSRF_ENABLED=True)
    make_user(app, username="admin", password=ADMIN_PASSWORD, roles=["admin"], display_name="Ada Admin")
    with app.test_request_context(method="POST"):
        customer = services.create_customer("Li Lei", "138 0013 8000")
        product = services.create_product("INK-1", "Ink bottle", "12", "CNY")
        orders = [services.create_order(OrderInput(customer_id=customer.id, ship_line1="88 Century Avenue",
                                                   channel="taobao", external_ref=f"TB-{n}",
                                                   lines=[LineInput(product.id, 1)])) for n in range(3)]
        services.transition(orders[1], states.CANCELLED, note="customer changed mind")
        db.session.commit()
    server = LiveServer(app).start()
    yield server
    server.stop()


def test_bulk_confirm_with_one_refusal(bulk_server, page, shot):
    sign_in(page, bulk_server)
    page.goto(bulk_server.url("/orders/?channel=taobao"))
    expect(page.get_by_test_id("external-ref")).to_have_count(3)
    page.locator("[data-bulk-all]").check()
    expect(page.locator("[data-bulk-one]:checked")).to_have_count(3)
    page.get_by_test_id("bulk-action").select_option("confirm")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("bulk-submit").click()
    result = page.get_by_test_id("bulk-result")
    expect(result).to_be_visible()
    expect(page.locator('[data-testid="bulk-outcome"][data-done="yes"]')).to_have_count(2)
    refused = page.locator('[data-testid="bulk-outcome"][data-done="no"]')
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text("cannot become")
    shot(page, "orders-bulk-confirm")
    page.get_by_test_id("bulk-back").click()
    expect(page.get_by_test_id("order-table")).to_contain_text("Confirmed")
    shot(page, "orders-list-channels")
    page.get_by_role("button", name="简体中文").or_(page.get_by_role("link", name="简体中文")).first.click()
    expect(page.get_by_test_id("bulk-action")).to_contain_text("确认")
    expect(page.get_by_test_id("order-table")).to_contain_text("淘宝")
    shot(page, "orders-list-channels-zh")
    page.goto(bulk_server.url("/orders/reports/channels"))
    expect(page.get_by_test_id("channel-report")).to_contain_text("淘宝")
    shot(page, "orders-channel-report-zh")
