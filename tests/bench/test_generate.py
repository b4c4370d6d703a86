"""The bench data generator: a small site, made through the migrations, keeps every invariant of
the application (numbers, totals, stock ledger, reservations), also after an appended run, and
the pages open on it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, text

from bench.common import build_app
from bench.generate import BENCH_USER, generate
from bench.invariants import problems
from erp_core.extensions import db
from erp_core.testing import login


@pytest.fixture
def site(empty_database_url, tmp_path):
    app = build_app(empty_database_url, tmp_path / "instance")
    counts = generate(app, orders=400, products=120, customers=60, days=120, progress=False)
    yield app, counts
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _count(app, table: str) -> int:
    with app.app_context():
        return db.session.scalar(text(f"SELECT COUNT(*) FROM {table}"))


def test_generated_site_keeps_every_invariant(site):
    app, counts = site
    assert problems(app) == []
    assert counts.rows["orders_order"] == 400
    lines = counts.rows["orders_order_line"]
    assert 4.5 <= lines / 400 <= 5.5  # five lines on average
    for table in ("logistics_shipment", "logistics_shipment_line", "logistics_tracking_event", "finance_payment",
                  "support_ticket", "support_order_access", "core_audit_log", "inventory_move", "inventory_level"):
        assert counts.rows.get(table, 0) > 0, table
    assert counts.rows["inventory_move"] > 5 * 400  # receipts, reservations, shipments, releases
    with app.app_context():
        statuses = dict(db.session.execute(text("SELECT status, COUNT(*) FROM orders_order GROUP BY status")).all())
        assert {"completed", "cancelled"} <= set(statuses)
        # the ids go on from where the generator stopped (PostgreSQL sequences included)
        from plugins.orders import services
        customer = services.create_customer("After Bench", "139 0000 0000")
        db.session.flush()
        assert customer.id == 61
        db.session.rollback()


def test_an_appended_run_keeps_the_invariants_and_continues_numbers(site):
    app, _counts = site
    with app.app_context():
        highest = db.session.scalar(text("SELECT MAX(value) FROM core_counter WHERE key LIKE 'orders.number.%'"))
    generate(app, orders=150, products=120, days=120, progress=False, append=True)
    assert _count(app, "orders_order") == 550
    assert _count(app, "orders_product") == 120
    assert problems(app) == []
    with app.app_context():
        assert db.session.scalar(text("SELECT MAX(value) FROM core_counter WHERE key LIKE 'orders.number.%'")) >= highest


def test_a_fresh_generation_refuses_a_filled_site(site):
    app, _counts = site
    with pytest.raises(SystemExit):
        generate(app, orders=10, progress=False)


def test_invariant_check_sees_a_broken_total_and_a_broken_level(site):
    app, _counts = site
    with app.app_context():
        db.session.execute(text("UPDATE orders_order SET total_minor = total_minor + 1 WHERE id = 7"))
        db.session.execute(text("UPDATE inventory_level SET on_hand = on_hand + 1 WHERE id = 3"))
        db.session.commit()
    found = problems(app)
    assert any(p.startswith("order 7 totals") for p in found)
    assert any("on_hand level" in p for p in found)


def test_pages_open_on_the_generated_site(site):
    app, _counts = site
    from erp_core.auth.models import User

    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == BENCH_USER))
        ids = {status: db.session.scalar(select(func.min(text("id"))).select_from(text("orders_order"))
                                         .where(text("status = :s")).params(s=status))
               for status in ("completed", "cancelled", "confirmed", "draft", "shipped", "delivered")}
        one = {table: db.session.scalar(text(f"SELECT MIN(id) FROM {table}"))
               for table in ("logistics_shipment", "support_ticket", "finance_payment", "orders_product",
                             "orders_customer", "inventory_document")}
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False
    login(client, app, user_id)
    urls = ["/dashboard", "/orders/?status=completed&sort=-total&page=3", "/orders/?q=BK-000001",
            "/orders/customers/", "/orders/products/", "/inventory/", "/logistics/", "/finance/", "/support/",
            f"/orders/customers/{one['orders_customer']}", f"/inventory/products/{one['orders_product']}",
            f"/inventory/documents/{one['inventory_document']}", f"/logistics/shipments/{one['logistics_shipment']}",
            f"/support/tickets/{one['support_ticket']}", f"/finance/payments/{one['finance_payment']}",
            "/finance/reports/sales"]
    urls += [f"/orders/{order_id}" for order_id in ids.values() if order_id]
    for url in urls:
        response = client.get(url, follow_redirects=True)
        assert response.status_code == 200, (url, response.status_code)
    page = client.get(f"/orders/{ids['completed']}").get_data(as_text=True)
    assert re.search(r"SO-\d{4}-\d{6}", page)
