"""Invoices per shipment: lines and amounts pro rata (summing exactly to the order), the
whole-or-per-shipment rule, one invoice per shipment under concurrent issue, credit notes over
several invoices, logistics switched off, pages, PDF and API."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pypdf import PdfReader

from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.models import AuditLog
from erp_core.testing import api_token, bearer
from plugins.finance import services
from plugins.finance.models import Invoice
from plugins.finance.services import invoice_shipments as per
from plugins.finance.services import invoices as inv
from plugins.finance.testing import make_paid_order
from plugins.orders.public import Order
from tests.finance.conftest import make_order, with_demo_gateway
from tests.finance.test_invoice_views import _client, _csrf
from tests.finance.test_invoices import with_seller
from tests.finance.test_refunds import _race


@pytest.fixture
def ship_app(make_app):
    return with_seller(with_demo_gateway(make_app(plugins=["orders", "finance", "logistics"])))


def ship(order, *quantities, status="in_transit", kind="order"):
    """A shipment of ``order`` carrying ``quantities[i]`` units of its i-th line (0: none)."""
    from plugins.logistics.models import Shipment, ShipmentLine

    count = db.session.query(Shipment).count() + 1
    shipment = Shipment(number=f"SH-2026-{count:06d}", order_id=order.id, status=status, kind=kind)
    shipment.lines = [ShipmentLine(order_line_id=line.id, product_id=line.product_id or 0, sku=line.sku, name=line.name,
                                   quantity=q) for line, q in zip(order.lines, quantities, strict=False) if q]
    db.session.add(shipment)
    db.session.flush()
    return shipment


def _totals(invoices):
    return tuple(sum(getattr(i, f) for i in invoices) for f in ("net_minor", "tax_minor", "gross_minor"))


def test_the_invoices_of_all_shipments_sum_exactly_to_the_order(ship_app):
    with ship_app.test_request_context(method="POST"):
        order = make_order(("9.99", 3, "0"), ("33.33", 7, "5"))
        first, second, third = ship(order, 1, 2), ship(order, 1, 4), ship(order, 1, 1)
        a = per.issue_shipment_invoice(order, second.id)
        b = per.issue_shipment_invoice(order, first.id)
        c = per.issue_shipment_invoice(order, third.id, "special")
        db.session.commit()
        order = db.session.get(Order, order.id)
        lines = order.lines
        assert _totals([a, b, c]) == (order.total_minor - order.tax_minor, order.tax_minor, order.total_minor)
        assert _totals([a, b, c]) == tuple(sum(getattr(x, f) for x in lines) for f in ("net_minor", "tax_minor",
                                                                                         "gross_minor"))
        assert [(x.sku, x.quantity) for x in a.lines] == [(lines[0].sku, 1), (lines[1].sku, 4)]
        assert a.shipment_id == second.id and a.shipment_number == second.number and c.invoice_type == "special"
        # Not the last one: rounded on the running quantity.
        assert a.lines[0].gross_minor == round(lines[0].gross_minor / 3)
        for invoice in (a, b, c):
            assert invoice.net_minor + invoice.tax_minor == invoice.gross_minor
        entry = db.session.query(AuditLog).filter_by(object_type="invoice", object_id=str(a.id)).one()
        assert entry.after["shipment"] == second.number
        # Every unit is invoiced: neither the whole order nor another shipment can be.
        with pytest.raises(DomainError, match="per shipment"):
            inv.issue_invoice(order)
        extra = ship(order, 1, 1)
        with pytest.raises(DomainError, match="invoiced already"):
            per.issue_shipment_invoice(order, extra.id)


@hsettings(max_examples=60, deadline=None)
@given(quantity=st.integers(1, 12), gross=st.integers(0, 10**7), rate=st.integers(0, 17), data=st.data())
def test_the_pro_rata_rule_always_adds_up(quantity, gross, rate, data):
    tax = gross * rate // (100 + rate)
    line = SimpleNamespace(quantity=quantity, net_minor=gross - tax, tax_minor=tax, gross_minor=gross)
    parts = data.draw(st.lists(st.integers(1, quantity), min_size=1, max_size=quantity))
    before = [0, 0, 0, 0]
    for part in parts:
        part = min(part, quantity - before[0])
        if part <= 0:
            break
        net, tax_part, gross_part = per.share_of_line(line, before, part)
        assert net + tax_part == gross_part and gross_part >= 0 and tax_part >= 0
        before = [before[0] + part, before[1] + net, before[2] + tax_part, before[3] + gross_part]
    rest = quantity - before[0]
    if rest:
        net, tax_part, gross_part = per.share_of_line(line, before, rest)
        before = [quantity, before[1] + net, before[2] + tax_part, before[3] + gross_part]
    assert before == [quantity, line.net_minor, line.tax_minor, line.gross_minor]


@pytest.mark.parametrize("problem", ["whole_first", "twice", "other_order", "pending", "exchange", "draft"])
def test_refused_shipment_invoices_change_nothing(ship_app, problem):
    with ship_app.test_request_context(method="POST"):
        order = make_order(("10", 2, "0"), confirm=problem != "draft")
        shipment = ship(order, 1, status="pending" if problem == "pending" else "in_transit",
                        kind="exchange" if problem == "exchange" else "order")
        if problem == "whole_first":
            inv.issue_invoice(order)
        if problem == "twice":
            per.issue_shipment_invoice(order, shipment.id)
        if problem == "other_order":
            order = make_order(("10", 1, "0"))
        db.session.commit()
        count = db.session.query(Invoice).count()
        with pytest.raises(DomainError) as caught:
            per.issue_shipment_invoice(order, shipment.id)
        db.session.rollback()
        message = str(caught.value)
        expected = {"whole_first": "whole-order invoice", "twice": "invoiced already", "other_order": "No such shipment",
                    "pending": "No such shipment", "exchange": "No such shipment", "draft": "confirmed"}[problem]
        assert expected in message
        assert db.session.query(Invoice).count() == count


def test_with_logistics_off_per_shipment_is_not_offered(ship_app, make_app):
    with ship_app.test_request_context(method="POST"):
        order = make_order(("10", 2, "0"))
        shipment = ship(order, 2)
        db.session.commit()
        order_id, shipment_id = order.id, shipment.id
    from erp_core.plugins import switch_plugin

    with ship_app.test_request_context(method="POST"):
        switch_plugin("logistics", False)
        db.session.commit()
    with ship_app.test_request_context(method="POST"):
        order = db.session.get(Order, order_id)
        assert not per.per_shipment_available() and per.order_shipments(order) == []
        with pytest.raises(DomainError, match="switched off"):
            per.issue_shipment_invoice(order, shipment_id)
    client = _client(ship_app, "finance.view", "finance.invoices.view", "finance.invoices.issue")
    page = client.get(f"/finance/orders/{order_id}").get_data(as_text=True)
    assert 'data-testid="issue-invoice"' in page and "issue-shipment-invoice" not in page
    # Finance alone (logistics never installed) offers the whole invoice only.
    alone = with_seller(make_app(plugins=["orders", "finance"]))
    with alone.test_request_context(method="POST"):
        assert per.order_shipments(make_order(("10", 1, "0"))) == []


def test_one_shipment_issued_at_once_twice_gets_one_invoice(ship_app):
    with ship_app.test_request_context(method="POST"):
        order = make_order(("12.34", 2, "0"))
        order_id, shipment_id = order.id, ship(order, 1).id
        db.session.commit()

    def issue(_i):
        return per.issue_shipment_invoice(db.session.get(Order, order_id), shipment_id).number

    outcomes = _race(ship_app, 4, issue)
    issued = [o for o in outcomes if isinstance(o, str)]
    assert len(issued) == 1, outcomes
    assert all(isinstance(o, DomainError) for o in outcomes if not isinstance(o, str)), outcomes
    with ship_app.app_context():
        assert db.session.query(Invoice).filter_by(shipment_id=shipment_id).count() == 1


def test_a_refund_is_credited_over_the_shipment_invoices_oldest_first(ship_app):
    with ship_app.test_request_context(method="POST"):
        order, payment = make_paid_order(lines=((2, "50.00"),))
        first = per.issue_shipment_invoice(order, ship(order, 1).id)
        second = per.issue_shipment_invoice(order, ship(order, 1).id)
        db.session.commit()
        wanted = first.gross_minor + 100
        refund = services.request_refund(payment, f"{wanted / 100:.2f}", "Broken")
        assert services.approve_refund(refund) is True
        db.session.commit()
        notes = [n for i in inv.order_invoices(order.id) for n in inv.credit_notes_of(i)]
        assert [(n.invoice_id, n.gross_minor) for n in notes] == [(first.id, first.gross_minor), (second.id, 100)]
        assert db.session.get(Invoice, first.id).credited_minor == first.gross_minor
        assert inv.credit_refund(refund) == []


def test_invoice_a_shipment_from_the_order_panel_page_pdf_and_api(ship_app):
    with ship_app.test_request_context(method="POST"):
        order = make_order(("9.99", 3, "0"))
        order_id = order.id
        first, second = ship(order, 1), ship(order, 2)
        first_id, second_id, first_number = first.id, second.id, first.number
        db.session.commit()
    client = _client(ship_app, "finance.view", "finance.invoices.view", "finance.invoices.issue", lang="zh_CN")
    page = client.get(f"/finance/orders/{order_id}").get_data(as_text=True)
    assert page.count('data-testid="issue-shipment-invoice"') == 2 and "按发货单开票" in page
    response = client.post(f"/finance/invoices/orders/{order_id}/shipments/{first_id}",
                           data={"csrf_token": _csrf(page), "invoice-invoice_type": "none"})
    assert response.status_code == 302
    with ship_app.app_context():
        invoice = db.session.query(Invoice).one()
        invoice_id, number = invoice.id, invoice.number
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert first_number in html and 'data-testid="invoice-shipment"' in html and "None" not in html
    pdf = client.get(f"/finance/invoices/{invoice_id}.pdf")
    if pdf.status_code == 200:  # the CJK font is installed
        assert first_number in PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    page = client.get(f"/finance/orders/{order_id}").get_data(as_text=True)
    assert number in page and page.count('data-testid="issue-shipment-invoice"') == 1
    assert 'data-testid="issue-invoice"' not in page  # per shipment now: no whole-order invoice
    whole = client.post(f"/finance/invoices/orders/{order_id}", data={"csrf_token": _csrf(page),
                                                                      "invoice-invoice_type": "none"},
                        follow_redirects=True)
    assert "按发货单" in whole.get_data(as_text=True)  # refused, in Chinese
    english = _client(ship_app, "finance.view", "finance.invoices.view", "finance.invoices.issue", lang="en")
    assert "Invoice this shipment" in english.get(f"/finance/orders/{order_id}").get_data(as_text=True)
    # The API: issue the second shipment; its number is in the answer and in OpenAPI.
    api = ship_app.test_client()
    issuer = bearer(api_token(ship_app, perms=("finance.invoices.view", "finance.invoices.issue")))
    reader = bearer(api_token(ship_app, perms=("finance.invoices.view",)))
    body = {"order_id": order_id, "shipment_id": second_id}
    assert api.post("/api/v1/finance/invoices", json=body, headers=reader).status_code == 403
    made = api.post("/api/v1/finance/invoices", json=body, headers=issuer)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["shipment_id"] == second_id and made.get_json()["lines"][0]["quantity"] == 2
    twice = api.post("/api/v1/finance/invoices", json=body, headers=issuer)
    assert twice.status_code == 422 and twice.get_json()["code"] == "invoice_refused"
    missing = api.post("/api/v1/finance/invoices", json={"order_id": order_id, "shipment_id": 99999}, headers=issuer)
    assert missing.status_code == 404
    with ship_app.app_context():
        assert sum(i.gross_minor for i in inv.order_invoices(order_id)) == db.session.get(Order, order_id).total_minor
    spec = api.get("/api/v1/openapi.json").get_json()
    assert "shipment_id" in str(spec["components"]["schemas"]) and "shipment_number" in str(spec)


def test_invoicing_a_shipment_needs_the_issue_permission(ship_app):
    with ship_app.test_request_context(method="POST"):
        order = make_order(("10", 1, "0"))
        order_id, shipment_id = order.id, ship(order, 1).id
        db.session.commit()
    client = _client(ship_app, "finance.view", "finance.invoices.view")
    client.application.config["WTF_CSRF_ENABLED"] = False
    page = client.get(f"/finance/orders/{order_id}").get_data(as_text=True)
    assert "issue-shipment-invoice" not in page and 'data-testid="shipment-invoice-row"' in page
    response = client.post(f"/finance/invoices/orders/{order_id}/shipments/{shipment_id}",
                           data={"invoice-invoice_type": "none"})
    assert response.status_code == 403
    with ship_app.app_context():
        assert db.session.query(Invoice).count() == 0


def test_hook_erp_shipped_goods(ship_app):
    """Logistics answers what each dispatched shipment of an order carried; nobody answers when it is off."""
    from erp_core.plugins import switch_plugin

    with ship_app.test_request_context(method="POST"):
        order = make_order(("10", 3, "0"), ("5", 2, "0"))
        other = make_order(("10", 1, "0"))
        first, second = ship(order, 1, 2), ship(order, 2)
        ship(order, 0, 1, status="pending")
        ship(order, 1, kind="exchange")
        manager = ship_app.extensions["erp_plugins"]
        everything = manager.collect("erp_shipped_goods", order_id=order.id, shipment_id=None)
        assert [(g.number, [(x.order_line_id, x.quantity) for x in g.lines]) for g in everything] == [
            (first.number, [(order.lines[0].id, 1), (order.lines[1].id, 2)]),
            (second.number, [(order.lines[0].id, 2)])]
        (one,) = manager.collect("erp_shipped_goods", order_id=order.id, shipment_id=second.id)
        assert (one.id, one.order_id, one.status) == (second.id, order.id, "in_transit")
        assert manager.collect("erp_shipped_goods", order_id=other.id, shipment_id=second.id) == []
        switch_plugin("logistics", False)
        db.session.commit()
        assert manager.collect("erp_shipped_goods", order_id=order.id, shipment_id=None) == []


def test_demo_invoices_some_shipped_orders_per_shipment(ship_app):
    import random

    from erp_core.contrib import DemoContext
    from plugins.finance import demo

    with ship_app.test_request_context(method="POST"):
        orders = [make_order((f"{10 + i}", 2, "0")) for i in range(30)]
        for order in orders:
            ship(order, 1)
            ship(order, 1)
        ctx = DemoContext(rng=random.Random(5), data={"orders": orders}, log=lambda _text: None)
        demo.load(ctx)
        db.session.commit()
        invoices = db.session.query(Invoice).filter_by(kind="invoice").all()
        assert len(invoices) == ctx.data["finance_invoices"]
        per_shipment = [i for i in invoices if i.shipment_id]
        assert per_shipment and any(not i.shipment_id for i in invoices)
        for order_id in {i.order_id for i in per_shipment}:
            assert sum(i.gross_minor for i in inv.order_invoices(order_id)) == db.session.get(Order, order_id).total_minor


def test_the_payment_page_names_every_invoice_a_refund_is_credited_against(ship_app):
    with ship_app.test_request_context(method="POST"):
        order, payment = make_paid_order(lines=((2, "50.00"),))
        numbers = [per.issue_shipment_invoice(order, ship(order, 1).id).number for _ in range(2)]
        db.session.commit()
        refund = services.request_refund(payment, "60.00", "Broken")
        services.approve_refund(refund)
        db.session.commit()
        payment_id = payment.id
    client = _client(ship_app, "finance.view", "finance.invoices.view", "finance.invoices.issue")
    html = client.get(f"/finance/payments/{payment_id}").get_data(as_text=True)
    assert ", ".join(numbers) in html and html.count('data-testid="credit-note-link"') == 2
