"""The order-level events for goods and money coming back (erp_order_goods_back,
erp_order_money_returned) and their webhooks: a module that needs only orders hears them with
finance on and with finance off."""

from __future__ import annotations

import json

import pytest

from erp_core import webhooks
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.testing import allow_internal_webhooks
from plugins.orders import services as orders
from plugins.orders import states as order_states
from plugins.orders import testing as order_testing
from tests.core.test_webhooks import Receiver
from tests.orders import returned_listener as listener

LISTENER = "listener=tests.orders.returned_listener"
EVENTS = ["order.goods_back", "order.money_returned"]


@pytest.fixture
def receiver():
    listener.HEARD.clear()
    r = Receiver()
    yield r
    r.close()
    listener.HEARD.clear()


def _subscribe(app, url):
    allow_internal_webhooks(app)
    with app.test_request_context():
        webhooks.create_webhook(url, EVENTS)
        db.session.commit()


def _sent(receiver) -> list[tuple[str, dict]]:
    return [(headers["x-erp-event"], json.loads(body)) for headers, body in receiver.requests]


def _returned(order):
    from plugins.support import returns

    rr = returns.create_return(order, "refund", "damaged", "Dented", {order.lines[0].id: 1})
    returns.decide(rr, True, "")
    return rr


def test_orders_declares_the_webhook_events(make_app):
    app = make_app(plugins=["orders"])
    with app.app_context():
        assert set(EVENTS) <= set(webhooks.known_events())


def test_hook_erp_order_goods_back(make_app, receiver):
    """Finance off: support announces the goods received and the refund made by hand."""
    from plugins.support import returns

    app = make_app(plugins=["orders", "support", LISTENER])
    _subscribe(app, receiver.url)
    with app.test_request_context():
        order = order_testing.make_order(((2, "30.00"),), status=order_states.DELIVERED)
        product_id = order.lines[0].product_id
        rr = _returned(order)
        returns.receive(rr, restock=False, note="Dented beyond sale")
        db.session.commit()
        returns.refund(rr, None, note="Bank transfer 42")
        db.session.commit()
        number, rma = order.number, rr.number
    assert listener.HEARD == [("goods", number, {product_id: 1}, False, rma),
                              ("money", number, 3000, "CNY", rma)]
    sent = _sent(receiver)
    assert [event for event, _payload in sent] == EVENTS
    assert sent[0][1]["data"]["number"] == number and sent[0][1]["quantities"] == {str(product_id): 1}
    assert sent[0][1]["restock"] is False and sent[0][1]["reference"] == rma
    assert sent[1][1]["amount_minor"] == 3000 and sent[1][1]["currency"] == "CNY"


def test_hook_erp_order_money_returned(make_app, receiver):
    """Finance on: the money is announced when the refund is paid out, not when it is asked."""
    from plugins.finance import services as finance
    from plugins.finance.models import Refund
    from plugins.support import returns

    app = make_app(plugins=["orders", "finance", "support", LISTENER])
    _subscribe(app, receiver.url)
    with app.test_request_context():
        order = order_testing.make_order(((1, "80.00"),), status=order_states.CONFIRMED)
        finance.record_payment(order, "cash", "80.00")
        orders.transition(order, order_states.SHIPPED)
        orders.transition(order, order_states.DELIVERED)
        rr = _returned(order)
        returns.receive(rr, restock=True, note="Back on the shelf")
        returns.refund(rr, "50.00")
        db.session.commit()
        assert [h[0] for h in listener.HEARD] == ["goods"]  # asked of finance, not paid yet
        refund = db.session.query(Refund).one()
        assert finance.approve_refund(refund) is True
        db.session.commit()
        number = order.number
        ref = finance.refund_ref(refund)
    assert listener.HEARD[1] == ("money", number, 5000, "CNY", ref)
    assert [event for event, _payload in _sent(receiver)] == EVENTS


def test_a_rejected_refund_returns_no_money(make_app, receiver):
    from plugins.finance import services as finance

    app = make_app(plugins=["orders", "finance", LISTENER])
    with app.test_request_context():
        order = order_testing.make_order(((1, "80.00"),), status=order_states.CONFIRMED)
        payment = finance.record_payment(order, "cash", "80.00")
        refund = finance.request_refund(payment, "10.00", "Goodwill")
        finance.reject_refund(refund, "Not due")
        db.session.commit()
    assert listener.HEARD == []


def test_a_listener_that_refuses_undoes_the_step(make_app, receiver):
    from plugins.support import returns
    from plugins.support import states as support_states

    app = make_app(plugins=["orders", "support", LISTENER])

    with app.test_request_context():
        order = order_testing.make_order(((1, "30.00"),), status=order_states.DELIVERED)
        rr = _returned(order)
        db.session.commit()
        rr_id = rr.id
        listener.REFUSE.add("goods")
        try:
            with pytest.raises(DomainError):
                returns.receive(rr, restock=True, note="x")
        finally:
            listener.REFUSE.clear()
        db.session.rollback()
        assert returns.get_return(rr_id).status == support_states.APPROVED


def test_goods_came_back_refuses_nothing_or_negative(make_app):
    app = make_app(plugins=["orders"])
    with app.test_request_context():
        order = order_testing.make_order()
        with pytest.raises(DomainError):
            orders.goods_came_back(order, {}, True, "X")
        with pytest.raises(DomainError):
            orders.goods_came_back(order, {order.lines[0].product_id: -1}, True, "X")
        with pytest.raises(DomainError):
            orders.money_returned(order, 0, "CNY", "X")


def test_logistics_announces_a_shipment_back_in_the_warehouse_with_inventory_off(make_app, receiver):
    from plugins.logistics import adapters as a
    from plugins.logistics import services as logistics
    from plugins.logistics import states as logistics_states
    from tests.logistics.conftest import make_carriers, make_order, ship
    from tests.logistics.spy_plugin import reset

    reset()
    app = make_app(plugins=["orders", "logistics", "lspy=tests.logistics.spy_plugin", LISTENER])
    with app.test_request_context():
        _demo, manual = make_carriers()
        order = make_order(lines=((5, "PEN"),))
        shipment = ship(order, manual)
        refused = logistics.raise_exception(shipment, a.REFUSED, "customer refused")
        lost = ship(make_order(lines=((1, "INK"),)), manual)
        gone = logistics.raise_exception(lost, a.LOST, "lost in transit")
        db.session.commit()
        logistics.resolve_exception(refused, logistics_states.RETURN_TO_STOCK)
        logistics.resolve_exception(gone, logistics_states.RESHIP)  # lost goods never come back
        db.session.commit()
        assert listener.HEARD == [("goods", order.number, {order.lines[0].product_id: 5}, True, shipment.number)]
    reset()
