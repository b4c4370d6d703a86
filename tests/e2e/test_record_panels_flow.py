"""Record panels and the extra scripts in a real browser: a plugin's panel shows on the customer
page as a card, and the script it adds through erp_extra_js_urls runs under the CSP (same-origin,
with the nonce) without one violation."""

from __future__ import annotations

import os

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

WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def test_a_plugin_panel_and_script_on_the_customer_page(make_app, page, shot):
    from plugins.orders import public as orders
    from tests.core.fakeplugins import paneller

    paneller.reset()
    app = make_app(plugins=["orders", "paneller=tests.core.fakeplugins.paneller"], WTF_CSRF_ENABLED=True)
    make_user(app, username="admin", password=ADMIN_PASSWORD, roles=["admin"], display_name="Ada Admin")
    with app.app_context():
        customer_id = orders.create_customer("韩梅梅", "139 0000 0000", "mei@example.com").id
        db.session.commit()
    server = LiveServer(app).start()
    try:
        page.add_init_script(WATCH)
        sign_in(page, server)
        page.goto(server.url(f"/orders/customers/{customer_id}"))
        panel = page.get_by_test_id("customer-panel").filter(has_text="Paneller customer")
        expect(panel).to_contain_text("customer panel for 韩梅梅 seen by admin")
        expect(page.locator("html")).to_have_attribute("data-paneller", "loaded")  # the plugin's script ran
        assert page.evaluate("window.__csp") == []
        shot(page, "record-panels-customer")
        paneller.BEHAVIOUR["customer"] = "raise"
        page.reload()
        expect(page.locator('[data-failed="1"]')).to_contain_text("This part could not be shown")
        expect(page.get_by_role("heading", name="韩梅梅")).to_be_visible()
        shot(page, "record-panels-customer-failed")
    finally:
        server.stop()
        paneller.reset()
