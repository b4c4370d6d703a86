"""WeChat Pay Native in the browser: the clerk starts a WeChat payment, the payment's page shows
the QR code, the (faked) customer scans and pays, WeChat Pay's signed and encrypted notification
reaches the site over HTTP, and the page, polling by itself, shows the order paid.

Screenshots: test-artifacts/wechatpay-qr.png, wechatpay-paid.png, wechatpay-methods.png.
"""

from __future__ import annotations

import os
import re

import pytest

from erp_core import settings
from erp_core.extensions import db
from tests.e2e.conftest import ADMIN_PASSWORD, LiveServer, sign_in
from tests.finance.conftest import make_order
from tests.finance.wechat_fake import FakeWeChatPay, adapter_settings
from tests.helpers import make_user

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the [test] extra installs it
    if os.environ.get("ERP_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)


@pytest.fixture
def wechat_server(make_app):
    """Orders and finance with WeChat Pay configured against a local fake, CSRF on, an
    administrator and a confirmed order of CN¥66.60."""
    fake = FakeWeChatPay().start()
    app = make_app(plugins=["orders", "finance"], WTF_CSRF_ENABLED=True)
    make_user(app, username="admin", password=ADMIN_PASSWORD, roles=["admin"], display_name="Ada Admin")
    server = LiveServer(app)
    values = {f"finance.wechatpay.{k}": v for k, v in adapter_settings(fake.url).items()
              if k != "test_platform_private_key"}
    values.update({"finance.wechatpay.notify_url": server.url("/finance/callback/wechatpay"),
                   "finance.method.wechatpay": True, "finance.method.demo_gateway": False})
    with app.test_request_context(method="POST"):
        settings.set_many(values)
        order = make_order(("66.60", 1, "0"))
        app.config["E2E_ORDER"] = (order.id, order.number)
        db.session.commit()
        db.session.remove()
    server.start()
    server.fake = fake
    yield server
    server.stop()
    fake.stop()


def test_pay_an_order_by_scanning_the_wechat_pay_qr_code(page, wechat_server, shot):
    order_id, _number = wechat_server.app.config["E2E_ORDER"]
    sign_in(page, wechat_server)
    page.goto(wechat_server.url(f"/finance/orders/{order_id}"))
    expect(page.get_by_test_id("payment-state")).to_have_text("Unpaid")
    page.get_by_test_id("online-payment-toggle").click()
    online = page.get_by_test_id("online-payment-form")
    expect(online).to_have_class(re.compile(r"(^|\s)show(\s|$)"))
    online.get_by_label("Provider").select_option("wechatpay")
    expect(online.get_by_label("Amount")).to_have_value("66.60")
    online.get_by_test_id("online-payment-submit").click()

    page.wait_for_url(re.compile(r"/finance/payments/\d+$"))
    qr = page.get_by_test_id("payment-qr")
    expect(qr).to_be_visible()
    expect(qr).to_contain_text("Scan with WeChat Pay to pay CN¥66.60.")
    image = page.get_by_test_id("payment-qr-image")
    assert image.get_attribute("src").startswith("data:image/svg+xml")
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    expect(page.get_by_test_id("payment-status")).to_have_text("Pending")
    shot(page, "wechatpay-qr")

    ref = re.search(r"PAY-\d+", page.title()).group(0)
    assert wechat_server.fake.orders[ref].total == 6660
    assert wechat_server.fake.scan_and_pay(ref) == 204  # the notification, over HTTP, signed and encrypted

    # The page asks by itself and reloads once the payment is no longer pending.
    expect(page.get_by_test_id("payment-status")).to_have_text("Paid", timeout=20_000)
    expect(page.get_by_test_id("payment-qr")).to_have_count(0)
    shot(page, "wechatpay-paid")
    page.goto(wechat_server.url(f"/finance/orders/{order_id}"))
    expect(page.get_by_test_id("payment-state")).to_have_text("Paid")

    # The payment-method page tests the connection and shows WeChat Pay's answer.
    page.goto(wechat_server.url("/finance/methods"))
    page.get_by_test_id("test-wechatpay").click()
    expect(page.get_by_text(re.compile(r"WeChat Pay answered: HTTP 404 ORDER_NOT_EXIST"))).to_be_visible()
    shot(page, "wechatpay-methods")
