"""Browser: staff make a quotation and send it (e-mailed through the outbox), the customer opens
the link, accepts, and the order exists with the quoted prices; the A4 print speaks both languages.

Uses the shared e2e fixtures (tests/e2e/conftest.py: ``browser``, ``LiveServer``, ``sign_in``)
and a local SMTP server (``smtp_server``).
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from erp_core.extensions import db
from plugins.orders import services as orders
from plugins.orders.public import Order
from plugins.quotations.models import Quotation
from tests.e2e.conftest import ADMIN_PASSWORD, LiveServer, sign_in
from tests.helpers import make_user

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the [test] extra installs it
    pytest.skip("the playwright package is not installed", allow_module_level=True)


@pytest.fixture
def shop(make_app, smtp_server):
    app = make_app(plugins=["orders", "quotations"], WTF_CSRF_ENABLED=True, **smtp_server.app_config())
    make_user(app, username="admin", password=ADMIN_PASSWORD, roles=["admin"], display_name="Ada Admin")
    with app.test_request_context(method="POST"):
        orders.create_product("TEA-1", "Green tea", "20", "CNY")
        customer = orders.create_customer("王小明", "138 0013 8000", "wang@example.com")
        db.session.commit()
        customer_id = customer.id
    server = LiveServer(app).start()
    yield server, smtp_server, customer_id
    server.stop()


def test_a_quotation_is_sent_accepted_by_the_customer_and_becomes_the_order(browser, page, shop, shot):
    server, smtp, customer_id = shop
    sign_in(page, server)
    page.goto(server.url("/quotations/"))
    page.get_by_test_id("new-quotation").click()
    page.get_by_test_id("customer-search").fill("0013 8000")  # the customer search, by phone
    page.get_by_test_id("customer-result").filter(has_text="王小明").click()
    expect(page.get_by_test_id("customer-search")).to_have_value("王小明")
    assert page.locator("input[name=customer_id]").input_value() == str(customer_id)
    expect(page.get_by_label("Contact e-mail")).to_have_value("wang@example.com")
    page.get_by_label("Street and number").fill("1 Nanjing Road")
    page.get_by_label("Product code").first.fill("TEA-1")
    page.get_by_label("Quantity").first.fill("5")
    page.get_by_label("Unit price").first.fill("18.00")
    page.get_by_label("Discount (%)").first.fill("10")
    page.get_by_test_id("save-quotation").click()
    expect(page.get_by_text(re.compile(r"Quotation QUO-\d{4}-000001 saved as a draft"))).to_be_visible()
    expect(page.get_by_test_id("quotation-total")).to_contain_text("81.00")
    page.get_by_test_id("quotation-send").click()
    expect(page.get_by_text(re.compile(r"was e-mailed to the customer"))).to_be_visible()
    expect(page.get_by_test_id("quotation-status")).to_contain_text("Sent")
    assert len(smtp.messages) == 1 and "QUO-" in smtp.messages[0]["Subject"]
    link = urlparse(page.get_by_test_id("customer-link").input_value()).path
    shot(page, "quotation-detail-en")

    detail = page.url
    page.goto(server.url(page.get_by_test_id("quotation-print").get_attribute("href") + "?lang=zh_CN"))
    expect(page.get_by_role("heading", name="报价单")).to_be_visible()
    shot(page, "quotation-print-zh")
    page.goto(detail)

    customer = browser.new_context(locale="en-US").new_page()
    customer.goto(server.url(link))
    expect(customer.get_by_test_id("quotation-lines")).to_contain_text("18.00")
    shot(customer, "quotation-customer-en")
    customer.get_by_test_id("quotation-accept").click()
    expect(customer.get_by_test_id("quotation-accepted")).to_contain_text("SO-")
    customer.context.close()

    with server.app.app_context():
        quotation = db.session.query(Quotation).one()
        order = db.session.get(Order, quotation.order_id)
        assert quotation.status == "accepted"
        assert [(line.sku, line.quantity, line.unit_price_minor, line.gross_minor) for line in order.lines] == \
            [("TEA-1", 5, 1800, 8100)]
    page.reload()
    expect(page.get_by_test_id("quotation-order")).to_contain_text(order.number)
