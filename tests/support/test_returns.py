"""Returns and exchanges: returnable quantities, the state machine, the steps through inventory,
finance and logistics (or by hand when they are off), and one timeline linking it all."""

import threading

import pytest

from erp_core.errors import Conflict, DomainError
from erp_core.extensions import db
from erp_core.i18n import render_system_text
from erp_core.models import AuditLog
from plugins.support import returns, states
from plugins.support.models import ReturnLink, ReturnRequest
from tests.support.fakes import finance, inventory, logistics, spy
from tests.support.helpers import make_order


def _lines(order):
    return {line.id: line for line in order.lines}


def _request(order, quantities=None, kind="refund", reason_code="damaged", reason="Dented tin"):
    quantities = quantities if quantities is not None else {order.lines[0].id: 1}
    return returns.create_return(order, kind, reason_code, reason, quantities)


def test_only_delivered_quantities_not_yet_returned_can_come_back(support_app):
    with support_app.test_request_context():
        order = make_order(lines=((3, "10.00"), (1, "99.99")))
        first, second = order.lines
        rr = _request(order, {first.id: "2"})
        db.session.commit()
        assert rr.number.startswith("RMA-") and rr.status == states.REQUESTED
        assert [(r.line.id, r.available) for r in returns.returnable_lines(order)] == [(first.id, 1), (second.id, 1)]
        with pytest.raises(DomainError, match="at most 1 can be returned"):
            _request(order, {first.id: "2"})
        db.session.rollback()
        returns.decide(rr, False, "Outside the return period")
        db.session.commit()
        assert returns.returnable_lines(order)[0].available == 3  # a rejected request gives its quantity back


@pytest.mark.parametrize("quantities,message", [
    ({}, "at least one item"), ("zero", "at least one item"), ("abc", "whole number"), ("-1", "whole number"),
    ("1.5", "whole number"), ("4", "at most 3"),
])
def test_bad_quantities_are_refused_and_nothing_is_written(support_app, quantities, message):
    with support_app.test_request_context():
        order = make_order(lines=((3, "10.00"),))
        if quantities == "zero":
            quantities = {order.lines[0].id: "0"}
        elif isinstance(quantities, str):
            quantities = {str(order.lines[0].id): quantities}
        with pytest.raises(DomainError, match=message):
            returns.create_return(order, "refund", "damaged", "", quantities)
        db.session.rollback()
        assert db.session.query(ReturnRequest).count() == 0


@pytest.mark.parametrize("status", ["draft", "confirmed", "shipped", "cancelled"])
def test_orders_not_delivered_cannot_be_returned(support_app, status):
    with support_app.test_request_context():
        order = make_order(status=status)
        assert not returns.can_request(order)
        with pytest.raises(Conflict, match="not delivered"):
            _request(order)


def test_completed_orders_can_be_returned(support_app):
    with support_app.test_request_context():
        order = make_order(status="completed")
        assert returns.can_request(order)
        assert _request(order).status == states.REQUESTED


@pytest.mark.parametrize("kind,reason_code,reason,field", [
    ("gift", "damaged", "", "kind"), ("refund", "bored", "", "reason_code"), ("refund", "other", " ", "reason"),
])
def test_kind_and_reason_are_checked(support_app, kind, reason_code, reason, field):
    with support_app.test_request_context():
        order = make_order()
        with pytest.raises(DomainError) as caught:
            _request(order, kind=kind, reason_code=reason_code, reason=reason)
        assert caught.value.field == field


def test_amounts_follow_the_prices_paid_half_up(support_app):
    with support_app.test_request_context():
        order = make_order(lines=((3, "10.01"),))  # 30.03 for 3
        rr = _request(order, {order.lines[0].id: 2})
        assert rr.amount_minor == 2002  # 30.03 x 2/3 = 20.02


def test_the_whole_way_with_inventory_finance_and_logistics(full_app):
    with full_app.test_request_context():
        order = make_order(lines=((2, "50.00"), (1, "20.00")))
        rr = _request(order, {order.lines[0].id: 2, order.lines[1].id: 1})
        returns.decide(rr, True, "Please send it back")
        links = returns.receive(rr, restock=True)
        assert inventory.CALLS == [(order.number, {order.lines[0].product_id: 2, order.lines[1].product_id: 1},
                                    True, rr.number)]
        assert [(l.kind, l.label, l.url, l.manual) for l in links] == [
            ("stock", f"Stock move for {rr.number}", "/fake/stock/1", False)]
        returns.refund(rr, "100")
        assert [(c[0], c[1], c[2], render_system_text(c[3]), *c[4:]) for c in finance.CALLS] == [
            (order.number, 10000, "CNY", f"Return {rr.number}", "support_return", rr.id)]
        returns.close(rr)
        db.session.commit()
        assert rr.status == states.RETURN_CLOSED and rr.refund_amount_minor == 10000
        assert [(l.kind, l.external_id) for l in rr.links] == [("stock", ""), ("refund", "77")]
        assert [c[1:] for c in spy.CALLS if c[0] == "return"] == [
            (rr.number, None, "requested"), (rr.number, "requested", "approved"), (rr.number, "approved", "received"),
            (rr.number, "received", "refunded"), (rr.number, "refunded", "closed")]
        timeline = [e.action for e in db.session.query(AuditLog).filter_by(object_type="return").order_by(AuditLog.id)]
        assert timeline == ["created", "status_changed", "status_changed", "stock_linked", "status_changed",
                            "refund_linked", "status_changed"]


def test_an_exchange_asks_logistics_for_a_replacement(full_app):
    with full_app.test_request_context():
        order = make_order()
        rr = _request(order, kind="exchange")
        returns.decide(rr, True, "")
        returns.receive(rr, restock=False)
        assert inventory.CALLS[0][2] is False  # written off
        links = returns.exchange(rr, "")
        assert [(c[0], c[1], render_system_text(c[2]), *c[3:]) for c in logistics.CALLS] == [(order.number, {order.lines[0].product_id: 1}, f"Exchange {rr.number}",
                                    "support_return", rr.id)]
        assert [(l.kind, l.label, l.url) for l in links] == [("shipment", "SH-2026-000005", "/fake/shipment/5")]
        assert rr.status == states.EXCHANGED


def test_with_the_other_plugins_off_each_step_is_recorded_by_hand(support_app):
    with support_app.test_request_context():
        order = make_order()
        rr = _request(order)
        returns.decide(rr, True, "")
        db.session.commit()
        assert not returns.automatic("stock") and not returns.automatic("refund") and not returns.automatic("shipment")
        with pytest.raises(DomainError, match="Inventory is switched off") as caught:
            returns.receive(rr, restock=True)
        assert caught.value.field == "note"
        db.session.rollback()
        returns.receive(rr, restock=True, note="Put on shelf B3")
        db.session.commit()
        with pytest.raises(DomainError, match="Finance is switched off"):
            returns.refund(rr, "")
        db.session.rollback()
        returns.refund(rr, "", note="Bank transfer 2026-0042")
        db.session.commit()
        assert [(l.kind, l.manual, l.note) for l in rr.links] == [
            ("stock", True, "Put on shelf B3"), ("refund", True, "Bank transfer 2026-0042")]
        assert rr.refund_amount_minor == rr.amount_minor == 10000


def test_plugins_present_but_switched_off_count_as_off(make_app):
    from tests.support.conftest import FAKES

    app = make_app(plugins=["orders", *FAKES, "support"], enabled=["orders", "support"])
    with app.test_request_context():
        order = make_order()
        rr = _request(order)
        returns.decide(rr, True, "")
        returns.receive(rr, restock=True, note="by hand")
        assert inventory.CALLS == [] and rr.links[0].manual


def test_a_refusal_from_finance_undoes_the_step(full_app):
    with full_app.test_request_context():
        order = make_order()
        rr = _request(order)
        returns.decide(rr, True, "")
        returns.receive(rr, restock=True)
        db.session.commit()
        finance.BEHAVIOUR["fail"] = "Nothing was paid on this order."
        with pytest.raises(DomainError, match="Nothing was paid"):
            returns.refund(rr, "")
        db.session.rollback()
        rr = db.session.get(ReturnRequest, rr.id)
        assert rr.status == states.RECEIVED and rr.refund_amount_minor is None
        assert db.session.query(ReturnLink).filter_by(kind="refund").count() == 0


@pytest.mark.parametrize("amount,message", [("abc", "as a number"), ("0", "more than zero"), ("100.01", "At most"),
                                            ("1.234", "as a number")])
def test_refund_amounts_are_checked(full_app, amount, message):
    with full_app.test_request_context():
        order = make_order()
        rr = _request(order)
        returns.decide(rr, True, "")
        returns.receive(rr, restock=True)
        with pytest.raises(DomainError, match=message):
            returns.refund(rr, amount)


def test_rejecting_needs_a_message_and_steps_follow_the_table(support_app):
    with support_app.test_request_context():
        order = make_order()
        rr = _request(order)
        db.session.commit()
        with pytest.raises(DomainError, match="why"):
            returns.decide(rr, False, "  ")
        db.session.rollback()
        with pytest.raises(Conflict, match="cannot become"):
            returns.receive(rr, restock=True, note="x")
        db.session.rollback()
        returns.decide(rr, True, "ok")
        with pytest.raises(Conflict, match="cannot become"):
            returns.decide(rr, True, "again")  # a double post of "approve"


def test_a_stale_form_is_refused(support_app):
    with support_app.test_request_context():
        order = make_order()
        rr = _request(order)
        db.session.commit()
        drawn = rr.version
        returns.decide(rr, True, "", expected_version=drawn)
        db.session.commit()
        with pytest.raises(Conflict, match="changed by someone else"):
            returns.receive(rr, True, "x", expected_version=drawn)


def test_customer_is_told_of_the_decision_by_mail(mail_app, outbox):
    with mail_app.test_request_context():
        order = make_order(email="buyer@example.com")
        rr = _request(order)
        outbox.clear()  # the order's own notifications (confirmed, delivered)
        returns.decide(rr, False, "The tin was opened.")
        db.session.commit()
        assert len(outbox) == 1 and outbox[0]["to"] == "buyer@example.com"
        assert rr.number in outbox[0]["subject"] and "The tin was opened." in outbox[0]["body"]
        assert "/help/t/" in outbox[0]["body"]  # the customer's tracking link


def test_hook_erp_return_status_changed(full_app):
    with full_app.test_request_context():
        order = make_order()
        rr = _request(order)
        returns.decide(rr, True, "")
        assert [c for c in spy.CALLS if c[0] == "return"] == [
            ("return", rr.number, None, "requested"), ("return", rr.number, "requested", "approved")]
        db.session.commit()

        def refuse(request, old, new):
            if new == "received":
                raise DomainError("The warehouse is closed today.")

        spy.BEHAVIOUR["return"] = refuse
        with pytest.raises(DomainError, match="warehouse is closed"):
            returns.receive(rr, restock=True)
        db.session.rollback()
        assert db.session.get(ReturnRequest, rr.id).status == states.APPROVED
        assert inventory.CALLS == []  # the step stopped before inventory was asked


def test_two_customers_cannot_return_the_same_last_unit(full_app, backend):
    """Two requests at once for the last unit: the per-order lock lets exactly one through."""
    with full_app.test_request_context():
        order = make_order(lines=((1, "10.00"),))
        order_id, line_id = order.id, order.lines[0].id
    barrier = threading.Barrier(2)
    results = []

    def worker():
        with full_app.test_request_context(method="POST"):
            from plugins.orders.models import Order

            barrier.wait(30)
            try:
                target = db.session.get(Order, order_id)
                returns.create_return(target, "refund", "damaged", "", {line_id: 1})
                db.session.commit()
                results.append("ok")
            except DomainError as exc:
                db.session.rollback()
                results.append(str(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 2 and results.count("ok") == 1, results
    assert "nothing is left to return" in [r for r in results if r != "ok"][0]
    with full_app.app_context():
        assert db.session.query(ReturnRequest).count() == 1
