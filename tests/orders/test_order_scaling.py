"""No N+1: entering, editing, confirming and showing an order run the same number of SQL
statements for 5 lines as for 500. And order numbers stay distinct and consecutive when many
orders are created at the same moment."""

import threading

import pytest
from sqlalchemy import select

from erp_core.extensions import db
from plugins.orders import services, states
from plugins.orders.models import Order
from plugins.orders.services import LineInput, OrderInput
from tests.helpers import QueryCounter
from tests.orders.conftest import client_with, order_form


@pytest.fixture
def many_products(orders_app):
    with orders_app.test_request_context():
        customer = services.create_customer("Li Lei", "138 0013 8000")
        ids = [services.create_product(f"P-{n:04d}", f"Product {n}", f"{n}.25", "CNY").id for n in range(1, 501)]
        db.session.commit()
        return customer.id, ids


def _statements(app, client, method, url, data=None):
    with app.app_context():
        engine = db.engine
    with QueryCounter(engine) as counted:
        response = client.open(url, method=method, data=data)
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:2000]
    return counted.count, response


def _lifecycle(app, client, customer_id, product_ids):
    """Statements of: create, show, edit (every quantity, one line out, one in), confirm."""
    lines = [{"product_id": pid, "quantity": 2, "discount": "5"} for pid in product_ids]
    data = order_form(type("C", (), {"customer_id": customer_id})(), *lines)
    counts = {}
    counts["create"], response = _statements(app, client, "POST", "/orders/new", data)
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    counts["show"], _ = _statements(app, client, "GET", f"/orders/{order_id}")
    counts["edit form"], _ = _statements(app, client, "GET", f"/orders/{order_id}/edit")
    with app.app_context():
        order = db.session.get(Order, order_id)
        line_ids = [line.id for line in order.lines]
        version = order.version
    edited = [{"line_id": lid, "product_id": pid, "quantity": 3, "discount": "5"}
              for lid, pid in zip(line_ids[1:], product_ids[1:])] + [{"product_id": product_ids[0], "quantity": 1}]
    data = order_form(type("C", (), {"customer_id": customer_id})(), *edited, version=version,
                      ship_line1="2 Other Road")
    data.pop("entry_key")
    counts["edit"], _ = _statements(app, client, "POST", f"/orders/{order_id}/edit", data)
    with app.app_context():
        version = db.session.get(Order, order_id).version
    counts["confirm"], _ = _statements(app, client, "POST", f"/orders/{order_id}/actions/confirm", {"version": version})
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert order.status == states.CONFIRMED and len(order.lines) == len(product_ids)
        assert order.lines[-1].quantity == 1 and all(line.quantity == 3 for line in order.lines[:-1])
        first, version = order.lines[0], order.version
        kept = [{"line_id": first.id, "product_id": first.product_id, "quantity": 3, "discount": "5"}]
    data = order_form(type("C", (), {"customer_id": customer_id})(), *kept, version=version, ship_line1="2 Other Road")
    data.pop("entry_key")
    counts["trim"], _ = _statements(app, client, "POST", f"/orders/{order_id}/edit", data)  # all lines but one go
    counts["print"], _ = _statements(app, client, "GET", f"/orders/{order_id}/print")
    with app.app_context():
        assert len(db.session.get(Order, order_id).lines) == 1
    return counts


def test_statement_count_does_not_grow_with_the_lines(orders_app, many_products):
    customer_id, product_ids = many_products
    client = client_with(orders_app)
    _lifecycle(orders_app, client, customer_id, product_ids[:1])  # warm up (first order number of the year)
    small = _lifecycle(orders_app, client, customer_id, product_ids[:5])
    large = _lifecycle(orders_app, client, customer_id, product_ids)
    assert large == small
    assert small["create"] <= 25 and small["edit"] <= 30 and small["confirm"] <= 20, small
    print("statements per request:", small)


def _create_in_thread(app, customer_id, product_id, barrier, numbers, errors):
    try:
        with app.app_context():
            barrier.wait(timeout=30)
            order = services.create_order(OrderInput(customer_id=customer_id, ship_line1="x",
                                                     lines=[LineInput(product_id, 1)]))
            db.session.commit()
            numbers.append(order.number)
            db.session.remove()
    except Exception as exc:  # reported by the test below
        errors.append(exc)


def test_twenty_orders_created_at_once_get_twenty_consecutive_numbers(orders_app):
    with orders_app.test_request_context():
        customer = services.create_customer("Rush Hour")
        product = services.create_product("R-1", "R", "1", "CNY")
        # one order first, so the counter row exists; then a second round where it does not yet
        db.session.commit()
        customer_id, product_id = customer.id, product.id
    numbers, errors = [], []
    barrier = threading.Barrier(20)
    threads = [threading.Thread(target=_create_in_thread,
                                args=(orders_app, customer_id, product_id, barrier, numbers, errors))
               for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(numbers) == 20 and len(set(numbers)) == 20
    serials = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert serials == list(range(1, 21))
    assert len({n.rsplit("-", 1)[0] for n in numbers}) == 1
    with orders_app.app_context():
        stored = db.session.scalars(select(Order.number)).all()
        assert sorted(stored) == sorted(numbers)
