"""Invoices in the browser: issue the invoice of a paid order, download its PDF (Chinese text read
back), refund part of the payment and see the credit note; the pages again in Chinese.

Screenshots land in test-artifacts/invoices-*.png (and in SHOTS_DIR when that folder exists).
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

from erp_core import settings
from erp_core.extensions import db
from plugins.finance.testing import make_paid_order
from tests.e2e.conftest import ADMIN_PASSWORD, LiveServer, sign_in
from tests.finance.conftest import with_demo_gateway
from tests.finance.test_invoices import SELLER
from tests.helpers import make_user

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the [test] extra installs it
    if os.environ.get("ERP_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)

SHOTS_DIR = Path(os.environ.get("ERP_SHOTS_DIR", "/work/brief/shots"))


@pytest.fixture
def invoice_server(make_app):
    """Orders and finance, CSRF on, the company's invoicing details, an administrator and an
    order of CN¥100.00 paid in cash."""
    app = with_demo_gateway(make_app(plugins=["orders", "finance"], WTF_CSRF_ENABLED=True))
    make_user(app, username="admin", password=ADMIN_PASSWORD, roles=["admin"], display_name="Ada Admin")
    with app.test_request_context(method="POST"):
        settings.set_many(SELLER)
        order, payment = make_paid_order(((2, "25.00"), (1, "50.00")))
        app.config["E2E_ORDER"] = (order.id, order.number, payment.id)
        db.session.remove()
    server = LiveServer(app).start()
    yield server
    server.stop()


def _shoot(page, shot, name: str) -> None:
    shot(page, f"invoices-{name}")
    if SHOTS_DIR.is_dir():
        page.screenshot(path=str(SHOTS_DIR / f"invoices_{name.replace('-', '_')}.png"), full_page=True)


def test_issue_download_refund_and_see_the_credit_note(page, invoice_server, shot):
    from pypdf import PdfReader

    order_id, number, payment_id = invoice_server.app.config["E2E_ORDER"]
    sign_in(page, invoice_server)

    # 1. issue the invoice from the order's finance panel, asking for an ordinary fapiao
    page.goto(invoice_server.url(f"/finance/orders/{order_id}"))
    issue = page.get_by_test_id("issue-invoice-form")
    issue.get_by_label("Fapiao requested").select_option("ordinary")
    issue.get_by_test_id("issue-invoice").click()
    expect(page.get_by_text(re.compile(r"Invoice INV-\d{4}-000001 issued\."))).to_be_visible()
    invoice_number = page.get_by_test_id("invoice-number").inner_text().strip()
    expect(page.get_by_test_id("seller-name")).to_have_text(SELLER["company.legal_name"])
    expect(page.get_by_test_id("invoice-total")).to_have_text("CN¥100.00")
    expect(page.get_by_test_id("fapiao-form")).to_be_visible()
    invoice_url = page.url
    _shoot(page, shot, "invoice-en")

    # 2. its PDF carries the Chinese company name and the number as text
    with page.expect_download() as download:
        page.get_by_test_id("invoice-pdf").click()
    assert download.value.suggested_filename == f"{invoice_number}.pdf"
    pdf = PdfReader(io.BytesIO(open(download.value.path(), "rb").read()))
    text = pdf.pages[0].extract_text()
    assert SELLER["company.legal_name"] in text and invoice_number in text and number in text

    # 3. refund part of the payment: the credit note follows, referencing the invoice
    page.goto(invoice_server.url(f"/finance/payments/{payment_id}"))
    refund = page.get_by_test_id("refund-form")
    refund.get_by_label("Amount to refund").fill("30")
    refund.get_by_label("Reason").fill("One cup broken")
    refund.get_by_test_id("refund-submit").click()
    expect(page.get_by_text("Refunded CN¥30.00.")).to_be_visible()
    credit_link = page.get_by_test_id("refund-credit-notes").get_by_test_id("credit-note-link")
    expect(credit_link).to_have_text(re.compile(r"CN-\d{4}-000001"))
    _shoot(page, shot, "refund-credit-note-en")
    credit_link.click()
    expect(page.get_by_test_id("corrected-invoice")).to_have_text(invoice_number)
    expect(page.get_by_test_id("invoice-total")).to_have_text("CN¥30.00")
    _shoot(page, shot, "credit-note-en")

    # the invoice shows it is partly credited and lists its credit note
    page.goto(invoice_url)
    expect(page.get_by_test_id("invoice-status")).to_have_text("Partly credited")
    expect(page.get_by_test_id("credit-notes")).to_contain_text("CN-")

    # 4. the same pages in Chinese
    page.get_by_test_id("language-switch").get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_test_id("invoice-status")).to_have_text("部分冲销")
    expect(page.get_by_role("heading", name=f"销售发票 {invoice_number}")).to_be_visible()
    _shoot(page, shot, "invoice-zh")
    page.goto(invoice_server.url("/finance/invoices"))
    expect(page.get_by_test_id("invoices-table")).to_contain_text(invoice_number)
    expect(page.get_by_test_id("invoices-table")).to_contain_text("贷项通知单")
    _shoot(page, shot, "list-zh")
    page.goto(invoice_server.url("/finance/invoices/fapiao"))
    expect(page.get_by_test_id("invoices-table")).to_contain_text(invoice_number)
    _shoot(page, shot, "fapiao-queue-zh")
    page.get_by_test_id("language-switch").get_by_role("button", name="English").click()
    page.goto(invoice_server.url("/finance/invoices"))
    expect(page.get_by_test_id("invoices-table")).to_contain_text("Credit note")
    _shoot(page, shot, "list-en")
