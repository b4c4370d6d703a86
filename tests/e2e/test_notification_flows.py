"""Customer notifications in the browser, on a site as quickstart makes it (no Redis, no worker):
a customer who reads Chinese is added, an order is entered and confirmed, and a Chinese
confirmation e-mail arrives at a real SMTP server on 127.0.0.1; the order is shipped with a
tracking number and the shipping e-mail with that number arrives. The order's page lists both,
the admin previews the messages, and the dashboard shows what is left to set up.

Screenshots land in test-artifacts/ (notify-*.png).
"""

from __future__ import annotations

import os
import re

import pytest

from erp_core.extensions import db
from erp_core.testing.smtp import parts
from plugins.logistics import services as logistics
from plugins.orders import services
from tests.e2e.conftest import ADMIN_PASSWORD, LiveServer, sign_in
from tests.e2e.test_orders_flows import line, pick
from tests.helpers import make_user

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the [test] extra installs it
    if os.environ.get("ERP_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)


def _until(condition, timeout: float = 20.0):
    """Wait until ``condition()`` is true (the site's background runner sends the mail)."""
    import threading
    import time

    pause, deadline = threading.Event(), time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the background runner"
        pause.wait(0.05)


@pytest.fixture
def mail_shop(make_app, smtp_server):
    """Orders, logistics and support, CSRF on, mail to a local SMTP server, no Redis and no worker:
    the site's own background runner (as `erp run` and `erp quickstart` start it) sends the mail
    and runs the schedules."""
    from erp_core import runner

    smtp = smtp_server
    app = make_app(plugins=["orders", "logistics", "support"], WTF_CSRF_ENABLED=True, REDIS_URL=None,
                   JOB_RUNNER="thread", **smtp.app_config())
    make_user(app, username="admin", password=ADMIN_PASSWORD, roles=["admin"], display_name="Ada Admin")
    with app.test_request_context():
        services.create_product("TEA-1", "龙井茶 250g", "128.00", "CNY")
        logistics.create_carrier("Other carrier", "other", "manual",
                                 {"tracking_url_template": "https://carrier.example/t?n={number}"})
        db.session.commit()
    server = LiveServer(app).start()
    background = runner.Runner(app, poll=0.2, tick=0.5).start()
    yield server, smtp
    background.stop()
    server.stop()


def test_a_chinese_customer_hears_of_confirmation_and_shipping(page, mail_shop, shot):
    server, smtp = mail_shop
    assert not server.app.config.get("REDIS_URL")
    sign_in(page, server)
    expect(page.get_by_test_id("setup-checklist")).to_be_visible()
    shot(page, "notify-setup-checklist")

    # 1. a customer who reads Chinese
    page.goto(server.url("/orders/customers/new"))
    page.locator("#name").fill("王芳")
    page.locator("#email").fill("wang.fang@example.com")
    page.get_by_label("Language of messages to the customer").select_option("zh_CN")
    page.locator("#line1").fill("上海市徐汇区漕溪北路 88 号")
    shot(page, "notify-customer-language")
    page.get_by_test_id("save-customer").click()
    expect(page.get_by_text("Customer 王芳 added.")).to_be_visible()

    # 2. an order for her, confirmed: the confirmation arrives in Chinese
    page.goto(server.url("/orders/new"))
    pick(page, page.get_by_test_id("customer-search"), "王芳", "王芳")
    pick(page, line(page, 0).locator('[data-role="product-search"]'), "TEA", "TEA-1")
    line(page, 0).locator('[data-role="quantity"]').fill("2")
    page.get_by_test_id("save-confirm").click()
    expect(page.get_by_test_id("order-status")).to_have_text("Confirmed")
    number = re.search(r"SO-\d{4}-\d{6}", page.title()).group(0)
    _until(lambda: len(smtp.emails) >= 1)
    assert [str(m["Subject"]) for m in smtp.emails] == [f"您的订单 {number} 已确认"]
    text, html = parts(smtp.emails[0])
    assert "龙井茶 250g" in text and "¥256.00" in text and "合计" in html
    assert smtp.messages[0].rcpt_tos == ["wang.fang@example.com"]
    panel = page.get_by_test_id("notifications-panel")
    expect(panel).to_contain_text("Order confirmed")
    expect(panel).to_contain_text("wang.fang@example.com")
    order_url = page.url

    # 3. shipped with a tracking number: the shipping e-mail carries it
    order_id = int(re.search(r"/orders/(\d+)", order_url).group(1))
    page.goto(server.url(f"/logistics/orders/{order_id}/ship"))
    page.get_by_test_id("carrier-select").select_option(label="Other carrier")
    page.get_by_label("Carrier's name").fill("顺丰速运")
    page.get_by_label("Tracking number").fill("SF1234567890")
    page.get_by_test_id("create-shipment").click()
    expect(page.get_by_text(re.compile(r"Shipment SH-\d{4}-000001 created"))).to_be_visible()
    _until(lambda: len(smtp.emails) >= 2)
    assert [str(m["Subject"]) for m in smtp.emails][1:] == [f"您的订单 {number} 已发货"]
    text, html = parts(smtp.emails[1])
    assert "SF1234567890" in text and "顺丰速运" in text and "SF1234567890" in html and "/help/t/" in text

    page.goto(order_url)
    expect(page.get_by_test_id("notification-entry")).to_have_count(2)
    expect(page.get_by_test_id("notifications-panel")).to_contain_text("Order shipped")
    shot(page, "notify-order-panel")

    # 4. the admin previews the shipping message in Chinese
    page.goto(server.url(f"/support/notifications/preview?kind=shipped&lang=zh_CN&order_id={order_id}"))
    expect(page.get_by_test_id("preview-subject")).to_have_text(f"您的订单 {number} 已发货")
    shot(page, "notify-preview")

    # 5. nobody started a worker, yet the schedules ran: the SLA scan shows a last run
    _until(lambda: _ran(server.app, "support.sla_scan"))
    page.goto(server.url("/admin/jobs/"))
    row = page.get_by_test_id("schedule-support.sla_scan")
    expect(row).not_to_contain_text("Never")
    expect(row).to_contain_text("On time")
    shot(page, "notify-background-work")


def _ran(app, name: str) -> bool:
    from erp_core.models import ScheduleRun

    with app.app_context():
        row = db.session.get(ScheduleRun, name)
        return bool(row and row.runs)
