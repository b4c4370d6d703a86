"""Money screens in a browser, in English and Chinese: a return's refund named and linked on the
refunds list, and the order's finance summary with one figure and its explanation."""

from __future__ import annotations

from erp_core.extensions import db
from plugins.finance.models import Refund
from tests.e2e.conftest import ADMIN_PASSWORD, LiveServer, sign_in
from tests.finance.test_refund_sources import _refunded_returns
from tests.helpers import make_user


def test_refund_causes_and_the_order_summary(page, make_app, shot):
    app = make_app(plugins=["orders", "finance", "support"], WTF_CSRF_ENABLED=True)
    make_user(app, username="admin", password=ADMIN_PASSWORD, roles=["admin"], display_name="Ada Admin")
    [(return_id, number)] = _refunded_returns(app, 1)
    with app.app_context():
        order_id = db.session.query(Refund).one().order_id
    server = LiveServer(app).start()
    try:
        sign_in(page, server)
        page.goto(server.url("/finance/refunds?status=all"))
        source = page.get_by_test_id("refund-source")
        assert source.inner_text() == f"Return {number}"
        shot(page, "money17-refunds-en")
        page.goto(server.url(f"/finance/orders/{order_id}"))
        assert page.get_by_test_id("finance-due").inner_text() == "CN¥0.00"
        shot(page, "money17-order-finance-en")
        page.get_by_test_id("language-switch").get_by_role("button", name="简体中文").click()
        page.get_by_test_id("finance-explain").first.wait_for()
        assert "尚欠金额" in page.get_by_test_id("finance-summary").first.inner_text()
        shot(page, "money17-order-finance-zh")
        page.goto(server.url("/finance/refunds?status=all"))
        source = page.get_by_test_id("refund-source")
        assert source.inner_text() == f"退货 {number}"
        shot(page, "money17-refunds-zh")
        source.click()
        page.wait_for_url(server.url(f"/support/returns/{return_id}"))
        assert number in page.content()
    finally:
        server.stop()
