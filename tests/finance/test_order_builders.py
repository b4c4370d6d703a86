"""The order builders tests use (``plugins.orders.testing``, ``plugins.finance.testing``): an order in
each state, made through the real services with every rule and hook in force."""

from __future__ import annotations

import pytest

from erp_core import settings
from erp_core.errors import DomainError
from erp_core.extensions import db
from plugins.finance import services, states
from plugins.finance.testing import make_paid_order, make_refunded_order
from plugins.orders import states as order_states
from plugins.orders.testing import advance, make_order


@pytest.mark.parametrize("status", [order_states.CONFIRMED, order_states.SHIPPED, order_states.DELIVERED,
                                    order_states.COMPLETED])
def test_a_paid_order_in_each_status_even_when_payment_comes_before_shipping(fin_app, status):
    with fin_app.test_request_context(method="POST"):
        settings.set_many({"finance.payment_before_shipping": True})
        db.session.commit()
        order, payment = make_paid_order([(2, "50.00"), (1, "35.50")], status=status, method="bank_transfer")
        db.session.expire_all()
        assert order.status == status and order.total_minor == 13550
        assert (payment.method, payment.status, payment.amount_minor) == ("bank_transfer", states.PAID, 13550)
        summary = services.order_summary(order)
        assert (summary.state, summary.balance, summary.due) == (states.ORDER_PAID, 13550, 0)


def test_a_partly_paid_order_and_the_rules_still_hold(fin_app):
    with fin_app.test_request_context(method="POST"):
        order, _payment = make_paid_order(amount="40")
        assert services.order_summary(order).state == states.PARTIALLY_PAID
        settings.set_many({"finance.payment_before_shipping": True})
        db.session.commit()
        with pytest.raises(DomainError, match="paid"):  # the real rule refuses shipping the unpaid part
            make_paid_order(amount="40", status=order_states.SHIPPED)
        db.session.rollback()


def test_refunded_orders_in_full_and_in_part(fin_app):
    with fin_app.test_request_context(method="POST"):
        order, payment, refund = make_refunded_order(status=order_states.DELIVERED)
        db.session.expire_all()
        assert order.status == order_states.DELIVERED and refund.status == states.REFUNDED
        assert refund.amount_minor == payment.amount_minor == 10000
        assert services.order_summary(order).state == states.ORDER_REFUNDED
        order, _payment, refund = make_refunded_order([(1, "80.00")], refund="30")
        assert refund.amount_minor == 3000
        assert services.order_summary(order).state == states.PARTIALLY_REFUNDED


def test_advance_walks_an_order_on_from_where_it_is(fin_app):
    with fin_app.test_request_context(method="POST"):
        order = make_order(status=order_states.CONFIRMED)
        advance(order, order_states.DELIVERED)
        assert order.status == order_states.DELIVERED
        advance(order, order_states.DELIVERED)  # already there: nothing to do
        assert order.status == order_states.DELIVERED
        with pytest.raises(DomainError):  # no way back: the real transitions refuse it
            advance(order, order_states.SHIPPED)
