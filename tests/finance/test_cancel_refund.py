"""Cancelling a paid order asks for the refund of what was paid; with finance off cancel still works."""

from sqlalchemy import select

from erp_core.extensions import db
from plugins.finance import services, states
from plugins.finance.models import Refund
from plugins.finance.testing import make_paid_order
from plugins.orders import services as orders
from plugins.orders import states as order_states
from plugins.orders import testing as order_testing
from tests.helpers import login, make_user


def test_cancelling_a_paid_order_requests_its_refund(fin_app):
    with fin_app.test_request_context(method="POST"):
        order, payment = make_paid_order([(1, "100.00")])
        services.approve_refund(services.request_refund(payment, "30", "Scratched box"))
        db.session.commit()
        orders.transition(order, order_states.CANCELLED, note="customer changed their mind")
        db.session.commit()
        refund = db.session.scalars(select(Refund).where(Refund.source_type == states.ORDER_CANCELLED)).one()
        assert (refund.status, refund.amount_minor, refund.reason) == (states.REQUESTED, 7000,
                                                                       "customer changed their mind")
        assert services.order_summary(order).refund_requested == 7000
        order_id = order.id
    staff = fin_app.test_client()
    login(staff, fin_app, make_user(fin_app, perms=["orders.view", "finance.view"]))
    page = staff.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "Order cancelled" in page and "Requested" in page


def test_cancelling_an_unpaid_order_asks_for_no_refund(fin_app):
    with fin_app.test_request_context(method="POST"):
        order = order_testing.make_order([(1, "50")], status=order_states.CONFIRMED)
        orders.transition(order, order_states.CANCELLED, note="no payment came")
        db.session.commit()
        assert db.session.scalars(select(Refund)).all() == []


def test_cancel_works_with_finance_off(make_app):
    app = make_app(plugins=["orders"])
    with app.test_request_context(method="POST"):
        order = order_testing.make_order([(1, "50")], status=order_states.CONFIRMED)
        orders.transition(order, order_states.CANCELLED, note="gone")
        db.session.commit()
        assert order.status == order_states.CANCELLED


def test_closing_the_rest_of_a_paid_order_requests_the_refund_of_the_difference(make_app):
    from plugins.orders.public import close_rest
    from tests.logistics.conftest import make_carriers, ship

    app = make_app(plugins=["orders", "logistics", "finance"])
    with app.test_request_context(method="POST"):
        _demo, manual = make_carriers()
        order, payment = make_paid_order([(4, "25.00"), (1, "50.00")])  # 150.00 paid
        ship(order, manual, {order.lines[0].id: 2})  # 2 x 25.00 shipped
        close_rest(order, "out of stock for good")
        db.session.commit()
        refund = db.session.scalars(select(Refund).where(Refund.source_type == states.REST_CLOSED)).one()
        assert order.total_minor == 5000
        assert (refund.status, refund.amount_minor, refund.reason, refund.payment_id) == (
            states.REQUESTED, 10000, "out of stock for good", payment.id)
        assert services.order_summary(order).refund_requested == 10000
        order_id = order.id
    staff = app.test_client()
    login(staff, app, make_user(app, perms=["orders.view", "finance.view"]))
    page = staff.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "Rest of the order closed" in page and "Requested" in page


def test_closing_the_rest_of_an_unpaid_order_requests_nothing(make_app):
    from plugins.orders.public import close_rest
    from tests.logistics.conftest import make_carriers, ship

    app = make_app(plugins=["orders", "logistics", "finance"])
    with app.test_request_context(method="POST"):
        _demo, manual = make_carriers()
        order, _payment = make_paid_order([(4, "25.00")], amount="50.00")  # half paid
        ship(order, manual, {order.lines[0].id: 2})
        close_rest(order, "the rest is discontinued")
        db.session.commit()
        assert db.session.scalars(select(Refund)).all() == []
