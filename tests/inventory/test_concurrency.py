"""Many buyers, few units: exactly as many confirmations succeed as there are units, on SQLite
and on PostgreSQL; and a random mixed workload leaves levels that agree with the ledger."""

import random
import threading

import pytest
from click.testing import CliRunner

from erp_core import cli
from erp_core.errors import DomainError
from erp_core.extensions import db
from plugins.inventory import services as inv
from plugins.inventory.models import Level, Move
from plugins.orders import services as orders
from plugins.orders import states
from plugins.orders.models import Order
from tests.inventory.common import PLUGINS, catalogue, edit_lines, make_order, receive

THREADS = 24
UNITS = 7


def _run_check(app, monkeypatch):
    monkeypatch.setattr(cli, "_APP", app)
    return CliRunner().invoke(cli.main, ["inventory", "check"])


def _confirm_in_threads(app, order_ids, confirm):
    """Start every thread at once (a barrier), each confirming one order in its own app context."""
    barrier = threading.Barrier(len(order_ids))
    results: dict[int, object] = {}

    def worker(order_id):
        with app.app_context():
            barrier.wait()
            try:
                results[order_id] = confirm(order_id)
            except Exception as exc:  # noqa: BLE001 - the assertion below names it
                db.session.rollback()
                results[order_id] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(oid,)) for oid in order_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    return results


def _confirm_by_service(app):
    def confirm(order_id):
        order = db.session.get(Order, order_id)
        try:
            orders.transition(order, states.CONFIRMED)
            db.session.commit()
            return "confirmed"
        except DomainError as exc:
            db.session.rollback()
            return str(exc)

    return confirm


@pytest.mark.slow
def test_last_units_go_to_exactly_as_many_buyers_as_there_are_units(make_app, monkeypatch):
    app = make_app(plugins=PLUGINS)
    with app.app_context():
        customer, (pen, ink, _pad) = catalogue()
        wh = inv.default_warehouse()
        receive(wh, {pen: UNITS, ink: 1000})
        # every order wants one pen (the scarce product) and one ink, locking two rows each
        order_ids = [make_order(customer, [(ink, 1), (pen, 1)]).id for _ in range(THREADS)]
        wh_id, pen_id = wh.id, pen.id
    results = _confirm_in_threads(app, order_ids, _confirm_by_service(app))
    outcomes = list(results.values())
    assert not [r for r in outcomes if isinstance(r, Exception)], outcomes
    assert outcomes.count("confirmed") == UNITS
    refused = [r for r in outcomes if r != "confirmed"]
    assert len(refused) == THREADS - UNITS
    assert all("Not enough stock of P-001 Product 1" in r and "1 needed, 0 available" in r for r in refused), refused
    with app.app_context():
        level = db.session.query(Level).filter_by(product_id=pen_id, warehouse_id=wh_id).one()
        assert (level.on_hand, level.reserved) == (UNITS, UNITS)
        confirmed = db.session.query(Order).filter_by(status=states.CONFIRMED).count()
        assert confirmed == UNITS
        assert db.session.query(Move).filter_by(type="reservation", product_id=pen_id).count() == UNITS
    result = _run_check(app, monkeypatch)
    assert result.exit_code == 0, result.output


def _random_workload(app, seed: int, steps: int) -> dict:
    """A seeded random mix of receipts, confirms, edits, cancels, shipments, returns,
    stocktakes and transfers. Every step commits or rolls back as a view would. Returns a
    shadow model of what on hand must be, to compare with the levels."""
    rng = random.Random(seed)
    with app.test_request_context():
        customer, products = catalogue(6)
        main = inv.default_warehouse()
        north = inv.save_warehouse(None, "N", "North")
        db.session.commit()
        whs = [main, north]
        order_ids: list[int] = []
        done = {"ok": 0, "refused": 0}
        for _step in range(steps):
            action = rng.choice(["receive", "receive", "order", "confirm", "confirm", "edit", "cancel", "draft",
                                 "ship", "partial", "return", "count", "transfer", "warehouse"])
            try:
                if action == "receive":
                    inv.receive_goods(rng.choice(whs).id, {p.id: rng.randint(1, 8)
                                                           for p in rng.sample(products, rng.randint(1, 3))})
                elif action == "order":
                    order = make_order(customer, [(p, rng.randint(1, 4)) for p in rng.sample(products, rng.randint(1, 4))],
                                       warehouse_id=rng.choice([None, main.id, north.id]))
                    order_ids.append(order.id)
                elif not order_ids and action not in ("count", "transfer"):
                    continue
                elif action == "count":
                    inv.count_stock(rng.choice(whs).id, rng.choice(products), rng.randint(0, 12), "random count")
                elif action == "transfer":
                    a, b = rng.sample(whs, 2)
                    inv.transfer(a.id, b.id, {rng.choice(products).id: rng.randint(1, 3)})
                else:
                    order = db.session.get(Order, rng.choice(order_ids))
                    if action == "confirm":
                        orders.transition(order, states.CONFIRMED)
                    elif action == "edit":
                        edit_lines(order, [(p, rng.randint(1, 5)) for p in rng.sample(products, rng.randint(1, 4))])
                    elif action == "cancel":
                        orders.transition(order, states.CANCELLED, note="random")
                    elif action == "draft":
                        orders.transition(order, states.DRAFT)
                    elif action == "ship":
                        orders.perform_action(order, "mark_shipped", None, None)
                    elif action == "partial":
                        line = rng.choice(order.lines)
                        if order.status == states.CONFIRMED:
                            orders.transition(order, states.PARTIALLY_SHIPPED)
                        app.extensions["erp_plugins"].hook.erp_order_goods_shipped(
                            order=order, quantities={line.product_id: 1}, reference="SH-R")
                    elif action == "return":
                        line = rng.choice(order.lines)
                        inv.return_goods(order, {line.product_id: 1}, rng.random() < 0.7, "RMA-R")
                    elif action == "warehouse":
                        inv.change_order_warehouse(order, rng.choice(whs).id)
                db.session.commit()
                done["ok"] += 1
            except DomainError:
                db.session.rollback()
                done["refused"] += 1
        assert inv.check_ledger() == []
        for level in db.session.query(Level):
            assert 0 <= level.reserved <= level.on_hand
        return done


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_mixed_workload_keeps_levels_equal_to_the_ledger(make_app, monkeypatch, seed):
    app = make_app(plugins=PLUGINS)
    done = _random_workload(app, seed, 250)
    assert done["ok"] > 100 and done["refused"] > 5, done  # the mix really exercised both paths
    result = _run_check(app, monkeypatch)
    assert result.exit_code == 0, result.output
    assert "agree with their moves" in result.output


def test_check_command_fails_on_a_difference(make_app, monkeypatch):
    app = make_app(plugins=PLUGINS)
    with app.app_context():
        _customer, (pen, _ink, _pad) = catalogue()
        receive(inv.default_warehouse(), {pen: 3})
        db.session.query(Level).update({"reserved": 1})
        db.session.commit()
    result = _run_check(app, monkeypatch)
    assert result.exit_code == 1
    assert "DIFFERENCE P-001 @ MAIN: reserved: level 1, ledger 0" in result.output


@pytest.mark.slow
def test_last_units_through_the_orders_confirm_endpoint(make_app, monkeypatch):
    """The same race through orders' HTTP action (when the orders pages are installed): no 500,
    exactly UNITS confirmations, every other buyer sees the stock message."""
    from tests.helpers import login, make_user

    app = make_app(plugins=PLUGINS)
    user_id = make_user(app, roles=["admin"])
    with app.app_context():
        customer, (pen, ink, _pad) = catalogue()
        receive(inv.default_warehouse(), {pen: UNITS, ink: 100})
        orders_made = [make_order(customer, [(pen, 1), (ink, 2)]) for _ in range(THREADS)]
        versions = {o.id: o.version for o in orders_made}

    def confirm(order_id):
        client = app.test_client()
        login(client, app, user_id)
        response = client.post(f"/orders/{order_id}/actions/confirm", data={"version": versions[order_id]})
        assert response.status_code == 302, response.status_code
        page = client.get(response.headers["Location"])
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        if "Not enough stock of P-001 Product 1" in text and "1 needed, 0 available" in text:
            return "refused"
        return "confirmed" if "Confirmed" in text else text

    results = _confirm_in_threads(app, list(versions), confirm)
    outcomes = list(results.values())
    assert sorted(set(map(str, outcomes))) == ["confirmed", "refused"], outcomes
    assert outcomes.count("confirmed") == UNITS
    with app.app_context():
        assert db.session.query(Order).filter_by(status=states.CONFIRMED).count() == UNITS
    assert _run_check(app, monkeypatch).exit_code == 0
