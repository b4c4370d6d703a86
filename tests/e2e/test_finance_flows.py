"""Finance in the browser: a partial payment, the rest through the demo gateway, a partial refund,
and the takings report (and its Excel file) following each step.

Screenshots land in test-artifacts/finance-*.png at desktop and phone widths.
"""

from __future__ import annotations

import io
import os
import re

import pytest

from erp_core.extensions import db
from tests.e2e.conftest import ADMIN_PASSWORD, LiveServer, sign_in
from tests.finance.conftest import make_order, with_demo_gateway
from tests.helpers import make_user

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the [test] extra installs it
    if os.environ.get("ERP_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)


@pytest.fixture
def finance_server(make_app):
    """Orders and finance, CSRF on, an administrator and a confirmed order of CN¥100.00."""
    app = with_demo_gateway(make_app(plugins=["orders", "finance"], WTF_CSRF_ENABLED=True))
    make_user(app, username="admin", password=ADMIN_PASSWORD, roles=["admin"], display_name="Ada Admin")
    with app.test_request_context(method="POST"):
        order = make_order(("100", 1, "0"))
        app.config["E2E_ORDER"] = (order.id, order.number)
        db.session.remove()
    server = LiveServer(app).start()
    yield server
    server.stop()




def _open(page, toggle: str, form: str):
    """Unfold a collapsed form and wait until Bootstrap's animation has finished."""
    page.get_by_test_id(toggle).click()
    expect(page.get_by_test_id(form)).to_have_class(re.compile(r"(^|\s)show(\s|$)"))
    expect(page.get_by_test_id(form)).not_to_have_class(re.compile("collapsing"))
    return page.get_by_test_id(form)


def _takings_row(page):
    return page.get_by_test_id("report-table").locator("tbody tr").first


def test_pay_in_two_steps_refund_part_and_see_the_report(page, finance_server, shot):
    order_id, number = finance_server.app.config["E2E_ORDER"]
    sign_in(page, finance_server)

    # 1. a partial payment in cash
    page.goto(finance_server.url(f"/finance/orders/{order_id}"))
    expect(page.get_by_test_id("payment-state")).to_have_text("Unpaid")
    form = _open(page, "record-payment-toggle", "record-payment-form")
    form.get_by_label("Method").select_option("cash")
    form.get_by_label("Amount").fill("40")
    form.get_by_label("Reference").fill("Till 2")
    form.get_by_test_id("record-payment-submit").click()
    expect(page.get_by_text(f"Payment of CN¥40.00 recorded on order {number}.")).to_be_visible()
    expect(page.get_by_test_id("payment-state")).to_have_text("Partially paid")
    expect(page.get_by_test_id("finance-due")).to_have_text("CN¥60.00")
    shot(page, "finance-partial-payment")

    # an overpayment is refused beside the field, with the amount still due
    form = _open(page, "record-payment-toggle", "record-payment-form")
    form.get_by_label("Amount").fill("500")
    form.get_by_test_id("record-payment-submit").click()
    expect(page.locator("#pay-amount + .invalid-feedback")).to_contain_text("more than the CN¥60.00 still due")
    page.goto(finance_server.url(f"/finance/orders/{order_id}"))

    # 2. the rest through the demo gateway: its signed callback records the payment
    online = _open(page, "online-payment-toggle", "online-payment-form")
    expect(online.get_by_label("Amount")).to_have_value("60.00")
    online.get_by_test_id("online-payment-submit").click()
    page.wait_for_url(re.compile(r"/finance/demo-gateway/pay\?"))
    expect(page.get_by_test_id("gateway-amount")).to_have_text("CN¥60.00")
    shot(page, "finance-demo-gateway")
    page.get_by_test_id("gateway-pay").click()
    page.wait_for_url(finance_server.url(f"/finance/orders/{order_id}"))
    expect(page.get_by_text(re.compile(r"The demo gateway confirmed payment PAY-\d+\."))).to_be_visible()
    expect(page.get_by_test_id("payment-state")).to_have_text("Paid")
    expect(page.get_by_test_id("finance-balance")).to_have_text("CN¥100.00")

    # 3. refund part of the gateway payment
    page.get_by_test_id("finance-payments").get_by_role("link", name=re.compile("PAY-")).last.click()
    refund = page.get_by_test_id("refund-form")
    refund.get_by_label("Amount to refund").fill("15")
    refund.get_by_label("Reason").fill("Scratched lid")
    refund.get_by_test_id("refund-submit").click()
    expect(page.get_by_text("Refunded CN¥15.00.")).to_be_visible()
    expect(page.get_by_test_id("payment-refundable")).to_have_text("CN¥45.00")
    shot(page, "finance-refund")
    page.goto(finance_server.url(f"/finance/orders/{order_id}"))
    expect(page.get_by_test_id("payment-state")).to_have_text("Partially refunded")
    expect(page.get_by_test_id("finance-balance")).to_have_text("CN¥85.00")

    # 4. the takings report follows, and its Excel file has the same numbers
    page.goto(finance_server.url("/finance/reports/takings"))
    row = _takings_row(page)
    expect(row).to_contain_text("CN¥100.00")
    expect(row).to_contain_text("CN¥15.00")
    expect(row).to_contain_text("CN¥85.00")
    expect(page.get_by_test_id("report-basis")).to_contain_text("Cash view")
    expect(page.locator("#finance-chart")).to_be_visible()
    shot(page, "finance-report")
    with page.expect_download() as download:
        page.get_by_test_id("export-xlsx").click()
    from openpyxl import load_workbook

    data = open(download.value.path(), "rb").read()
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Period", "Currency", "Payments", "Received", "Refunds", "Refunded", "Net takings")
    assert rows[1][1:] == ("CNY", 2, 100, 1, 15, 85)


def test_finance_pages_fit_a_phone(phone_page, finance_server, shot):
    order_id, _number = finance_server.app.config["E2E_ORDER"]
    sign_in(phone_page, finance_server)
    for path, name in ((f"/finance/orders/{order_id}", "finance-order-phone"),
                       ("/finance/reports/receivables", "finance-receivables-phone"),
                       ("/finance/payments", "finance-payments-phone")):
        phone_page.goto(finance_server.url(path))
        width = phone_page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways ({width}px)"
        shot(phone_page, name)
