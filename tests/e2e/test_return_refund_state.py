"""A return's refund in a real browser, in English and Chinese: the agent refunds part of a
received return and sees it "requested" (not "refunded"); finance pays it out; the staff page and
the customer's page then say "paid", with the amount and that it was partial.
Screenshots go to test-artifacts/ and, when /work/brief/shots exists, there too."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from erp_core.extensions import db
from tests.e2e.conftest import ADMIN_PASSWORD, LiveServer, sign_in
from tests.helpers import make_user

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the [test] extra installs it
    if os.environ.get("ERP_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)

BRIEF_SHOTS = Path("/work/brief/shots")

WORDS = {
    "en": {"switch": "English", "requested": "Refund requested", "paid": "Refund paid",
           "partial": "Partial refund: the goods are worth CN¥200.00", "amount": "CN¥60.00"},
    "zh_CN": {"switch": "简体中文", "requested": "已申请退款", "paid": "退款已支付",
              "partial": "部分退款：商品价值 ¥200.00", "amount": "¥60.00"},
}


@pytest.fixture
def refund_server(make_app):
    """Orders, finance and support; a paid, delivered order with a return received back."""
    app = make_app(plugins=["orders", "finance", "support"], WTF_CSRF_ENABLED=True)
    make_user(app, username="admin", password=ADMIN_PASSWORD, roles=["admin"], display_name="Ada Admin")
    with app.test_request_context():
        from plugins.finance import services as finance_services
        from plugins.support import public, returns
        from tests.support.helpers import make_order

        order = make_order(lines=((2, "100.00"), (1, "35.50")))
        finance_services.record_payment(order, "cash", order.total_minor, reference="e2e")
        request = returns.create_return(order, "refund", "damaged", "Dented tin", {order.lines[0].id: 2})
        returns.decide(request, True, "Please send it back")
        returns.receive(request, True, "Checked in at the front desk")
        db.session.commit()
        return_id, tracking_path = request.id, urlsplit(public.tracking_url(order)).path
    server = LiveServer(app).start()
    server.return_id, server.tracking_url = return_id, server.url(tracking_path)
    yield server
    server.stop()


def _shot(page, shot, name: str) -> None:
    path = shot(page, name)
    if BRIEF_SHOTS.is_dir():
        shutil.copy(path, BRIEF_SHOTS / f"{name}.png")


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_refund_is_requested_then_paid_on_staff_and_customer_pages(browser, refund_server, shot, lang):
    server, words = refund_server, WORDS[lang]
    staff = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US").new_page()
    staff.set_default_timeout(15_000)
    sign_in(staff, server)
    staff.goto(server.url(f"/support/returns/{server.return_id}"))
    if lang != "en":
        staff.get_by_test_id("language-switch").get_by_role("button", name=words["switch"]).click()
        expect(staff.locator("html")).to_have_attribute("lang", "zh-CN")

    # --- the agent refunds 60 of goods worth 200: requested, not refunded
    actions = staff.get_by_test_id("return-actions")
    actions.locator("input[name='refund-amount']").fill("60")
    actions.get_by_test_id("refund").click()
    expect(staff.get_by_test_id("refund-state")).to_have_text(words["requested"])
    detail = staff.get_by_test_id("refund-detail")
    expect(detail).to_contain_text(words["amount"])
    expect(detail).to_contain_text(words["partial"])
    staff.goto(server.url("/support/returns"))
    expect(staff.get_by_test_id("return-list").get_by_test_id("refund-state")).to_have_text(words["requested"])

    # --- the customer sees it asked for, not paid
    customer = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US").new_page()
    customer.set_default_timeout(15_000)
    customer.goto(server.tracking_url)
    if lang != "en":
        customer.get_by_test_id("language-switch").get_by_role("button", name=words["switch"]).click()
        expect(customer.locator("html")).to_have_attribute("lang", "zh-CN")
    returns_card = customer.get_by_test_id("track-returns")
    expect(returns_card.get_by_test_id("refund-state")).to_have_text(words["requested"])
    expect(returns_card.get_by_test_id("refund-amount")).to_have_text(words["amount"])

    # --- finance pays it out
    staff.goto(server.url("/finance/refunds"))
    staff.get_by_test_id("approve-refund").click()
    expect(staff.get_by_test_id("approve-refund")).to_have_count(0)

    # --- paid, on the staff page and on the customer's page
    staff.goto(server.url(f"/support/returns/{server.return_id}"))
    expect(staff.get_by_test_id("refund-state")).to_have_text(words["paid"])
    expect(staff.get_by_test_id("refund-detail")).to_contain_text(words["partial"])
    _shot(staff, shot, f"refundstate_staff_{lang}")
    customer.reload()
    expect(returns_card.get_by_test_id("refund-state")).to_have_text(words["paid"])
    expect(returns_card).to_contain_text(words["partial"])
    _shot(customer, shot, f"refundstate_public_{lang}")
