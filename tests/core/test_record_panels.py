"""Panels on every main record page (customer, product, order, shipment, ticket, return, payment),
with one failing panel or plugin isolated, permissions respected; and the extra template
variables, scripts and style sheets plugins add to pages."""

from __future__ import annotations

import re

import pytest

from erp_core.extensions import db
from plugins.orders import states as order_states
from plugins.orders import testing as order_testing
from tests.core.fakeplugins import paneller
from tests.helpers import login, make_user

PANELLER = "paneller=tests.core.fakeplugins.paneller"
ALL = ["orders", "logistics", "finance", "support", PANELLER]
PAGE_PERMS = ["orders.view", "orders.customers.view", "orders.products.view", "logistics.view",
              "support.tickets.view", "support.returns.view", "finance.view"]
KINDS = ["customer", "product", "order", "shipment", "ticket", "return", "payment"]


def _records(make_app) -> tuple:
    """The full app and the URL of one record of each kind."""
    from plugins.finance import services as finance
    from plugins.logistics import services as logistics
    from plugins.support import returns
    from plugins.support import services as support

    app = make_app(plugins=ALL)
    # Goods that come back need a delivered order: walked by hand with logistics and finance off.
    by_hand = make_app(plugins=ALL, enabled=["orders", "support", "paneller"])
    with by_hand.test_request_context():
        delivered = order_testing.make_order(((1, "50.00"),), status=order_states.DELIVERED, email="a@example.com")
        ticket = support.open_ticket(support.TicketInput(subject="Where?", body="Late", order_id=delivered.id))
        rr = returns.create_return(delivered, "refund", "damaged", "", {delivered.lines[0].id: 1})
        db.session.commit()
        ticket_id, return_id = ticket.id, rr.id
    with app.test_request_context():
        order = order_testing.make_order(((2, "100.00"),), status=order_states.CONFIRMED)
        payment = finance.record_payment(order, "cash", "200.00")
        carrier = logistics.create_carrier("Other carrier", "other", "manual",
                                           {"tracking_url_template": "https://carrier.example/t?n={number}"})
        shipment = logistics.create_shipment(order, logistics.ShipmentInput(
            carrier_id=carrier.id, quantities={k: v for k, v in logistics.remaining_by_line(order).items() if v},
            carrier_name="SF Express", tracking_number="SF0001"))
        db.session.commit()
        urls = {"customer": f"/orders/customers/{order.customer_id}", "product": f"/orders/products/{order.lines[0].product_id}",
                "order": f"/orders/{order.id}", "shipment": f"/logistics/shipments/{shipment.id}",
                "ticket": f"/support/tickets/{ticket_id}", "return": f"/support/returns/{return_id}",
                "payment": f"/finance/payments/{payment.id}"}
    return app, urls


@pytest.fixture
def pages(make_app):
    paneller.reset()
    yield _records(make_app)
    paneller.reset()


def _client(app, *perms, username="zoe"):
    client = app.test_client()
    login(client, app, make_user(app, perms=perms, username=username))
    return client


def _panel_titles(page: str) -> list[str]:
    return re.findall(r'data-testid="\w+-panel".*?<div class="card-header[^>]*>([^<]*)</div>', page, re.S)


def _shows_the_panel(pages, kind: str) -> None:
    app, urls = pages
    client = _client(app, *PAGE_PERMS)
    response = client.get(urls[kind])
    page = response.get_data(as_text=True)
    assert response.status_code == 200, kind
    assert f'data-testid="{kind}-panel"' in page, kind
    assert f"Paneller {kind}" in _panel_titles(page), kind
    assert re.search(rf"{kind} panel for [^<]+ seen by zoe", page), kind


def test_hook_erp_customer_panels(pages):
    _shows_the_panel(pages, "customer")


def test_hook_erp_product_panels(pages):
    _shows_the_panel(pages, "product")


def test_the_order_page_uses_the_same_panels(pages):
    _shows_the_panel(pages, "order")


def test_hook_erp_shipment_panels(pages):
    _shows_the_panel(pages, "shipment")


def test_hook_erp_ticket_panels(pages):
    _shows_the_panel(pages, "ticket")


def test_hook_erp_return_panels(pages):
    _shows_the_panel(pages, "return")


def test_hook_erp_payment_panels(pages):
    _shows_the_panel(pages, "payment")


def test_panels_whose_permission_the_user_lacks_are_left_out(pages):
    app, urls = pages
    plain = _client(app, *PAGE_PERMS)
    trusted = _client(app, *PAGE_PERMS, "paneller.secret", username="yan")
    for kind in KINDS:
        assert f"Secret {kind}" not in plain.get(urls[kind]).get_data(as_text=True), kind
        assert f"Secret {kind}" in _panel_titles(trusted.get(urls[kind]).get_data(as_text=True)), kind


@pytest.mark.parametrize("failure", ["raise", "context"])
def test_a_failing_panel_does_not_break_the_page(pages, failure, caplog):
    app, urls = pages
    client = _client(app, *PAGE_PERMS)
    for kind in KINDS:
        paneller.BEHAVIOUR[kind] = failure
        response = client.get(urls[kind])
        page = response.get_data(as_text=True)
        assert response.status_code == 200, kind
        assert "This part could not be shown; the error is logged." in page, kind
        assert 'data-failed="1"' in page, kind
        # the failing plugin's note is titled with the plugin (its hook raised) or the panel
        assert ("Paneller" if failure == "raise" else f"Paneller {kind}") in _panel_titles(page), kind
    assert "paneller broke" in caplog.text or "context failed" in caplog.text


def test_a_switched_off_plugin_adds_no_panel(pages, make_app):
    app, urls = pages
    without = make_app(plugins=ALL, enabled=["orders", "logistics", "finance", "support"])
    client = _client(without, *PAGE_PERMS)
    for kind in KINDS:
        page = client.get(urls[kind]).get_data(as_text=True)
        assert "Paneller" not in page, kind


# ----------------------------------------------------------------------- extra variables and assets


def test_hook_erp_extra_template_vars(pages):
    """Added to the context, escaped, never overriding what the view passes."""
    app, _urls = pages
    page = _client(app, "orders.view").get("/paneller/").get_data(as_text=True)
    assert "&lt;b&gt;hi zoe&lt;/b&gt;" in page and "<b>hi zoe" not in page
    assert 'data-testid="company">overridden?' not in page


def test_hook_erp_extra_js_urls(pages):
    """Same-origin scripts only, with the request's nonce, asked once per page."""
    app, _urls = pages
    response = _client(app, "orders.view").get("/paneller/")
    page = response.get_data(as_text=True)
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    assert f'<script src="/paneller/static/paneller.js" nonce="{nonce}"></script>' in page
    assert f'<script src="/paneller/static/mod.js" nonce="{nonce}" type="module"></script>' in page
    assert "cdn.example.com" not in page and "javascript:alert" not in page and "a\\b.js" not in page
    # asked once per page, with the page's template (not the panels' or the macros')
    assert paneller.SEEN.count(("js", "paneller/page.html")) == 1
    assert [t for hook, t in paneller.SEEN if hook == "js"] == ["paneller/page.html"]


def test_hook_erp_extra_css_urls(pages):
    app, _urls = pages
    page = _client(app, "orders.view").get("/paneller/").get_data(as_text=True)
    head = page.split("</head>")[0]
    assert '<link rel="stylesheet" href="/paneller/static/paneller.css">' in head
    assert "cdn.example.com/x.css" not in page
    assert [t for hook, t in paneller.SEEN if hook == "css"] == ["paneller/page.html"]


def test_extras_are_asked_on_every_page_and_for_anonymous_visitors(pages):
    app, urls = pages
    app.test_client().get("/")
    assert ("js", "web/home.html") in paneller.SEEN and ("vars", "web/home.html") in paneller.SEEN
    _client(app, *PAGE_PERMS).get(urls["customer"])
    assert ("css", "orders/customer.html") in paneller.SEEN
    assert ("vars", "paneller/_panel.html") in paneller.SEEN  # panels get the variables too


def test_a_failing_extra_vars_hook_is_logged_and_the_page_drawn(pages, caplog):
    app, _urls = pages
    paneller.BEHAVIOUR["vars"] = "raise"
    response = _client(app, "orders.view").get("/paneller/")
    assert response.status_code == 200
    assert "extra vars failed" in caplog.text
