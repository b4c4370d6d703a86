"""Changing the lines of a partly shipped order: never below what shipped, the reservation
follows, and two edits taking the last units at once: one is refused (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

import pytest

from erp_core.errors import DomainError
from erp_core.extensions import db
from plugins.inventory import services as inv
from plugins.orders import services as orders
from plugins.orders import states
from plugins.orders.models import Order
from tests.helpers import login, make_user
from tests.inventory.common import catalogue, edit_lines, level, make_order, receive
from tests.logistics.conftest import make_carriers, ship

PLUGINS = ["orders", "inventory", "logistics"]


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS)


def _shipped_three(customer, tea, cup=None, manual=None):
    """A confirmed order of tea × 5 (and cup × 2) with 3 tea shipped."""
    order = make_order(customer, [(tea, 5)] + ([(cup, 2)] if cup else []))
    orders.transition(order, states.CONFIRMED)
    db.session.commit()
    ship(order, manual, {order.lines[0].id: 3})
    return db.session.get(Order, order.id)


def test_edit_the_rest_of_a_partly_shipped_order(app):
    with app.test_request_context():
        _demo, manual = make_carriers()
        customer, (tea, cup, pot) = catalogue()
        wh = inv.default_warehouse()
        receive(wh, {tea: 10, cup: 10, pot: 10})
        order = _shipped_three(customer, tea, cup, manual)
        assert order.status == states.PARTIALLY_SHIPPED
        assert (level(tea, wh), level(cup, wh)) == ((7, 2), (10, 2))

        with pytest.raises(orders.OrderInvalid) as exc:
            edit_lines(order, [(tea, 2), (cup, 2)])
        assert "cannot go below 3" in str(exc.value.errors["lines-0-quantity"])
        db.session.rollback()
        with pytest.raises(orders.OrderInvalid) as exc:
            edit_lines(db.session.get(Order, order.id), [(cup, 2)])
        assert "cannot be removed" in str(exc.value.errors["lines"])
        db.session.rollback()

        order = db.session.get(Order, order.id)
        edit_lines(order, [(tea, 4), (pot, 3)])  # one less tea, cup removed, pot added
        db.session.commit()
        order = db.session.get(Order, order.id)
        assert [(line.sku, line.quantity) for line in order.lines] == [("P-001", 4), ("P-003", 3)]
        assert (level(tea, wh), level(cup, wh), level(pot, wh)) == ((7, 1), (10, 0), (10, 3))
        assert order.status == states.PARTIALLY_SHIPPED
        assert inv.check_ledger() == []


def test_edit_page_of_a_partly_shipped_order_needs_orders_edit(app):
    with app.test_request_context():
        _demo, manual = make_carriers()
        customer, (tea, *_rest) = catalogue()
        receive(inv.default_warehouse(), {tea: 10})
        order_id = _shipped_three(customer, tea, manual=manual).id
    editor, viewer = app.test_client(), app.test_client()
    login(editor, app, make_user(app, perms=["orders.view", "orders.edit"]))
    login(viewer, app, make_user(app, perms=["orders.view"]))
    assert editor.get(f"/orders/{order_id}/edit").status_code == 200
    assert 'data-testid="edit-order"' in editor.get(f"/orders/{order_id}").get_data(as_text=True)
    assert viewer.get(f"/orders/{order_id}/edit").status_code == 403
    assert viewer.post(f"/orders/{order_id}/edit", data={}).status_code == 403


def test_two_edits_taking_the_last_unit_at_once_one_is_refused(make_app):
    app = make_app(plugins=PLUGINS)
    with app.test_request_context():
        _demo, manual = make_carriers()
        customer, (tea, *_rest) = catalogue()
        wh = inv.default_warehouse()
        receive(wh, {tea: 10})
        ids = [_shipped_three(customer, tea, manual=manual).id for _ in range(2)]
        receive(wh, {tea: 1})  # one unit free: both want it
        assert level(tea, wh) == (5, 4)
        tea_id = tea.id
    barrier = threading.Barrier(2)
    results = {}

    def worker(order_id):
        with app.test_request_context(method="POST"):  # a write request: BEGIN IMMEDIATE on SQLite
            barrier.wait()
            try:
                order = db.session.get(Order, order_id)
                edit_lines(order, [(_product(tea_id), 6)])
                db.session.commit()
                results[order_id] = "saved"
            except DomainError as exc:
                db.session.rollback()
                results[order_id] = str(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(oid,)) for oid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    outcomes = sorted(results.values())
    assert len(outcomes) == 2 and outcomes.count("saved") == 1, outcomes
    assert "Not enough stock" in [o for o in outcomes if o != "saved"][0]
    with app.test_request_context():
        assert level(_product(tea_id), inv.default_warehouse()) == (5, 5)
        assert sorted(db.session.get(Order, i).lines[0].quantity for i in ids) == [5, 6]
        assert inv.check_ledger() == []


def _product(product_id):
    from plugins.orders.models import Product

    return db.session.get(Product, product_id)
