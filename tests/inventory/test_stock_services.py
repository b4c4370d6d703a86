"""The ledger, reservations for orders, receipts, stocktakes, transfers, returns and the check."""

import pytest

from erp_core.errors import Conflict, DomainError, ValidationProblems
from erp_core.extensions import db
from plugins.inventory import services as inv
from plugins.inventory.models import Level, Move
from plugins.orders import services as orders
from plugins.orders import states
from plugins.orders.models import Order
from tests.helpers import QueryCounter
from tests.inventory.common import PLUGINS, catalogue, edit_lines, level, make_order, receive


@pytest.fixture
def inv_app(make_app):
    return make_app(plugins=PLUGINS)


def _moves(order=None):
    stmt = db.session.query(Move).order_by(Move.id)
    if order is not None:
        stmt = stmt.filter_by(order_id=order.id)
    return [(m.type, m.quantity, m.on_hand_delta, m.reserved_delta) for m in stmt]


def test_a_site_starts_with_one_default_warehouse(inv_app):
    with inv_app.test_request_context():
        wh = inv.default_warehouse()
        db.session.commit()
        assert wh.is_default and wh.code == "MAIN"
        assert inv.default_warehouse().id == wh.id
        other = inv.save_warehouse(None, "north", "North")
        assert other.code == "NORTH" and not other.is_default
        inv.set_default_warehouse(other)
        db.session.commit()
        assert inv.default_warehouse().id == other.id
        with pytest.raises(Conflict, match="already used"):
            inv.save_warehouse(None, "NORTH", "Again")


def test_receipt_confirm_edit_ship_return_cycle(inv_app):
    with inv_app.test_request_context():
        customer, (pen, ink, pad) = catalogue()
        wh = inv.default_warehouse()
        receive(wh, {pen: 10, ink: 5})
        order = make_order(customer, [(pen, 4), (ink, 5)])
        orders.transition(order, states.CONFIRMED)
        db.session.commit()
        assert order.warehouse_id == wh.id
        assert level(pen, wh) == (10, 4) and level(ink, wh) == (5, 5)
        # edit: more pens, fewer ink, a new product that is not in stock -> refused as a whole
        with pytest.raises(inv.InsufficientStock, match="P-003 Product 3 in Main warehouse: 1 needed, 0 available"):
            edit_lines(order, [(pen, 6), (ink, 2), (pad, 1)])
        db.session.rollback()
        assert level(pen, wh) == (10, 4) and level(ink, wh) == (5, 5)
        edit_lines(order, [(pen, 6), (ink, 2)])
        db.session.commit()
        assert level(pen, wh) == (10, 6) and level(ink, wh) == (5, 2)
        # ship part (as logistics does, shipment by shipment), then the rest
        hook = inv_app.extensions["erp_plugins"].hook
        hook.erp_order_goods_shipped(order=order, quantities={pen.id: 2}, reference="SH-1")
        db.session.commit()
        assert level(pen, wh) == (8, 4)
        orders.transition(order, states.PARTIALLY_SHIPPED)
        hook.erp_order_goods_shipped(order=order, quantities={pen.id: 4, ink.id: 2}, reference="SH-2")
        orders.transition(order, states.SHIPPED)
        db.session.commit()
        assert level(pen, wh) == (4, 0) and level(ink, wh) == (3, 0)
        # returns: restocked goods come back on hand, written-off ones only leave a record
        links = [l for group in hook.erp_order_goods_returned(order=order, quantities={pen.id: 2}, restock=True,
                                                              reference="RMA-1") for l in group]
        assert len(links) == 1 and "/inventory/products/%d" % pen.id in links[0]["url"]
        inv.return_goods(order, {pen.id: 1}, False, "RMA-2")
        db.session.commit()
        assert level(pen, wh) == (6, 0)
        with pytest.raises(DomainError, match="only 3 were shipped and not yet returned"):
            inv.return_goods(order, {pen.id: 4}, True, "RMA-3")
        db.session.rollback()
        assert [m for m in _moves(order) if m[1]] == [
            ("reservation", 4, 0, 4), ("reservation", 5, 0, 5),
            ("reservation", 2, 0, 2), ("release", 3, 0, -3),
            ("shipment", 2, -2, -2),
            ("shipment", 4, -4, -4), ("shipment", 2, -2, -2),
            ("return", 2, 2, 0), ("write_off", 1, 0, 0)]
        assert inv.check_ledger() == []


def test_cancel_and_back_to_draft_release_everything(inv_app):
    with inv_app.test_request_context():
        customer, (pen, ink, _pad) = catalogue()
        wh = inv.default_warehouse()
        receive(wh, {pen: 3, ink: 3})
        order = make_order(customer, [(pen, 3), (ink, 1)])
        orders.transition(order, states.CONFIRMED)
        db.session.commit()
        orders.transition(order, states.DRAFT)
        db.session.commit()
        assert level(pen, wh) == (3, 0)
        orders.transition(order, states.CONFIRMED)
        orders.transition(order, states.CANCELLED, note="changed mind")
        db.session.commit()
        assert level(pen, wh) == (3, 0) and level(ink, wh) == (3, 0)
        assert inv.check_ledger() == []


def test_confirming_beyond_stock_is_refused_before_trying_and_names_each_product(inv_app):
    with inv_app.test_request_context():
        customer, (pen, ink, pad) = catalogue()
        wh = inv.default_warehouse()
        receive(wh, {pen: 2, ink: 9})
        order = make_order(customer, [(pen, 5), (ink, 1), (pad, 2)])
        with pytest.raises(ValidationProblems) as refused:
            orders.transition(order, states.CONFIRMED)
        db.session.rollback()
        assert refused.value.problems == [
            "Not enough stock of P-001 Product 1 in Main warehouse: 5 needed, 2 available.",
            "Not enough stock of P-003 Product 3 in Main warehouse: 2 needed, 0 available."]
        assert db.session.get(Order, order.id).status == states.DRAFT
        assert level(pen, wh) == (2, 0) and level(ink, wh) == (9, 0)


def test_the_conditional_update_is_the_only_stock_check_on_confirm(inv_app):
    """No level is read before the reservation: the UPDATE ... WHERE on_hand - reserved >= qty
    decides, and its refusal is the confirmation's refusal."""
    from sqlalchemy import event

    with inv_app.test_request_context():
        customer, (pen, _ink, _pad) = catalogue()
        wh = inv.default_warehouse()
        receive(wh, {pen: 2})
        db.session.commit()
        seen = []

        def note(conn, cursor, statement, parameters, context, executemany):
            seen.append(" ".join(statement.split()))

        event.listen(db.engine, "before_cursor_execute", note)
        try:
            order = make_order(customer, [(pen, 3)])
            with pytest.raises(inv.InsufficientStock, match="3 needed, 2 available"):
                orders.transition(order, states.CONFIRMED)
            db.session.rollback()
            assert level(pen, wh) == (2, 0) and db.session.get(Order, order.id).status == states.DRAFT
            seen.clear()
            order = make_order(customer, [(pen, 2)])
            orders.transition(order, states.CONFIRMED)
            db.session.commit()
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
        assert level(pen, wh) == (2, 2)
        level_reads = [s for s in seen if s.startswith("SELECT") and "inventory_level.on_hand" in s]
        assert level_reads == []


def test_stocktake_adjusts_to_the_count_but_never_below_reserved(inv_app):
    with inv_app.test_request_context():
        customer, (pen, _ink, _pad) = catalogue()
        wh = inv.default_warehouse()
        receive(wh, {pen: 10})
        orders.transition(make_order(customer, [(pen, 4)]), states.CONFIRMED)
        db.session.commit()
        doc = inv.count_stock(wh.id, pen, "7", "annual count", seen="10")
        db.session.commit()
        assert doc.number.startswith("ST-") and level(pen, wh) == (7, 4)
        assert inv.count_stock(wh.id, pen, "7", "again") is None  # nothing to adjust
        with pytest.raises(inv.InsufficientStock, match="cannot be counted at 3: 4 are reserved"):
            inv.count_stock(wh.id, pen, "3", "broken")
        db.session.rollback()
        with pytest.raises(Conflict, match="moved while you counted"):
            inv.count_stock(wh.id, pen, "5", "count", seen="10")
        db.session.rollback()
        for bad, field in (("-1", "counted"), ("1.5", "counted"), ("x", "counted")):
            with pytest.raises(DomainError) as refused:
                inv.count_stock(wh.id, pen, bad, "r")
            assert refused.value.field == field
        with pytest.raises(DomainError, match="reason"):
            inv.count_stock(wh.id, pen, "5", " ")
        db.session.rollback()
        assert level(pen, wh) == (7, 4)
        assert inv.check_ledger() == []


def test_transfer_moves_only_available_stock(inv_app):
    with inv_app.test_request_context():
        customer, (pen, ink, _pad) = catalogue()
        main = inv.default_warehouse()
        north = inv.save_warehouse(None, "N", "North")
        receive(main, {pen: 10, ink: 1})
        orders.transition(make_order(customer, [(pen, 6)]), states.CONFIRMED)
        db.session.commit()
        with pytest.raises(inv.InsufficientStock, match="P-001 Product 1 in Main warehouse: 5 needed, 4 available"):
            inv.transfer(main.id, north.id, {pen.id: 5, ink.id: 1})
        db.session.rollback()
        doc = inv.transfer(main.id, north.id, {pen.id: 4, ink.id: 1}, note="rebalance")
        db.session.commit()
        assert doc.number.startswith("TR-")
        assert level(pen, main) == (6, 6) and level(pen, north) == (4, 0) and level(ink, north) == (1, 0)
        with pytest.raises(DomainError, match="two different"):
            inv.transfer(main.id, main.id, {pen.id: 1})
        assert inv.check_ledger() == []


def test_changing_the_warehouse_moves_the_reservation(inv_app):
    with inv_app.test_request_context():
        customer, (pen, ink, _pad) = catalogue()
        main = inv.default_warehouse()
        north = inv.save_warehouse(None, "N", "North")
        receive(main, {pen: 5, ink: 5})
        receive(north, {pen: 5})
        order = make_order(customer, [(pen, 2), (ink, 1)])
        orders.transition(order, states.CONFIRMED)
        db.session.commit()
        with pytest.raises(inv.InsufficientStock, match="P-002 Product 2 in North: 1 needed, 0 available"):
            inv.change_order_warehouse(order, north.id)
        db.session.rollback()
        assert level(pen, main) == (5, 2) and level(pen, north) == (5, 0)
        receive(north, {ink: 1})
        version = order.version
        assert inv.change_order_warehouse(order, north.id) is True
        db.session.commit()
        assert db.session.get(Order, order.id).warehouse_id == north.id
        # the order's version moved: a form drawn before the change is refused
        assert db.session.get(Order, order.id).version == version + 1
        with pytest.raises(Conflict, match="changed by someone else"):
            orders.transition(order, states.CANCELLED, note="late", expected_version=version)
        db.session.rollback()
        assert level(pen, main) == (5, 0) and level(ink, main) == (5, 0)
        assert level(pen, north) == (5, 2) and level(ink, north) == (1, 1)
        orders.perform_action(order, "mark_shipped", None, None)
        db.session.commit()
        with pytest.raises(Conflict, match="can no longer change"):
            inv.change_order_warehouse(order, main.id)
        assert inv.check_ledger() == []


def test_ledger_is_append_only(inv_app):
    with inv_app.test_request_context():
        _customer, (pen, _ink, _pad) = catalogue()
        receive(inv.default_warehouse(), {pen: 1})
        move = db.session.query(Move).one()
        move.quantity = 5
        with pytest.raises(RuntimeError, match="append-only"):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(RuntimeError, match="append-only"):
            db.session.delete(db.session.query(Move).one())
            db.session.flush()


def test_check_finds_a_level_that_disagrees_with_its_moves(inv_app):
    with inv_app.test_request_context():
        _customer, (pen, _ink, _pad) = catalogue()
        wh = inv.default_warehouse()
        receive(wh, {pen: 4})
        assert inv.check_ledger() == []
        db.session.query(Level).update({"on_hand": 5})
        db.session.commit()
        problems = inv.check_ledger()
        assert [(p.what, p.level, p.ledger) for p in problems] == [("on_hand", 5, 4)]


def test_orders_keep_working_with_inventory_switched_off(make_app):
    app = make_app(plugins=PLUGINS, enabled=["orders"])
    with app.test_request_context():
        customer, (pen, _ink, _pad) = catalogue()
        order = make_order(customer, [(pen, 100)])
        orders.transition(order, states.CONFIRMED)
        orders.perform_action(order, "mark_shipped", None, None)
        db.session.commit()
        assert order.status == states.SHIPPED and db.session.query(Move).count() == 0


@pytest.mark.parametrize("action", ["confirm", "cancel", "ship", "edit"])
def test_statements_per_action_do_not_grow_with_the_number_of_lines(inv_app, action, monkeypatch):
    """A 5-line and a 500-line order cost the same number of SQL statements.

    For an edit only inventory's share is counted: orders itself writes each changed line.
    """
    counts = {}
    if action == "edit":
        inner = inv.on_order_changed

        def counted(order, changes):
            with QueryCounter(db.engine) as hook_counter:
                inner(order, changes)
            counts.setdefault("hook", []).append(hook_counter.count)

        monkeypatch.setattr(inv, "on_order_changed", counted)
    with inv_app.test_request_context():
        customer, products = catalogue(500)
        wh = inv.default_warehouse()
        inv.receive_goods(wh.id, {p.id: 10 for p in products})
        db.session.commit()
        for n in (5, 500):
            order = make_order(customer, [(p, 2) for p in products[:n]])
            if action != "confirm":
                orders.transition(order, states.CONFIRMED)
                db.session.commit()
            order = db.session.get(Order, order.id)
            db.session.expire_all()
            with QueryCounter(db.engine) as counter:
                order = db.session.get(Order, order.id)
                if action == "confirm":
                    orders.transition(order, states.CONFIRMED)
                elif action == "cancel":
                    orders.transition(order, states.CANCELLED, note="no")
                elif action == "ship":
                    orders.perform_action(order, "mark_shipped", None, None)
                else:
                    edit_lines(order, [(p, 3) for p in products[:n]])
                db.session.commit()
            counts[n] = counter.count
        assert inv.check_ledger() == []
    if action == "edit":
        counts = dict(zip((5, 500), counts["hook"]))
    assert counts[5] == counts[500], counts
    assert counts[5] <= 25, counts
