"""Recording payments: partial, overpaid, as credit, refused; the order's derived state."""

from datetime import timedelta

import pytest

from erp_core import settings
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.models import AuditLog
from erp_core.timeutil import utcnow
from plugins.finance import services, states
from plugins.finance.models import Payment
from plugins.orders import services as orders
from tests.finance import spy_plugin as spy
from tests.finance.conftest import make_order, with_demo_gateway


def test_partial_payments_then_paid(fin_app):
    with fin_app.test_request_context(method="POST"):
        order = make_order(("348.35", 16, "4"))  # 5350.656 -> 5350.66
        assert order.total_minor == 535066
        assert services.order_summary(order).state == states.UNPAID
        services.record_payment(order, "cash", "2000")
        db.session.commit()
        summary = services.order_summary(order)
        assert (summary.paid, summary.due, summary.balance, summary.state) == (200000, 335066, 200000, "partially_paid")
        services.record_payment(order, "bank_transfer", "3350.66", reference="ICBC-0042")
        db.session.commit()
        summary = services.order_summary(order)
        assert (summary.paid, summary.due, summary.credit, summary.state) == (535066, 0, 0, "paid")
        actions = [e.action for e in db.session.query(AuditLog).filter_by(object_type="payment")]
        assert actions == ["recorded", "recorded"]


def test_overpayment_is_refused_with_the_amount_due_unless_recorded_as_credit(fin_app):
    with fin_app.test_request_context(method="POST"):
        order = make_order(("100", 1, "0"))
        services.record_payment(order, "cash", "60")
        db.session.commit()
        with pytest.raises(DomainError) as refused:
            services.record_payment(order, "cash", "50")
        db.session.rollback()
        assert refused.value.field == "amount"
        assert "40.00" in str(refused.value) and "customer credit" in str(refused.value)
        assert db.session.query(Payment).count() == 1
        payment = services.record_payment(order, "cash", "50", as_credit=True)
        db.session.commit()
        assert payment.credit_minor == 1000
        summary = services.order_summary(order)
        assert (summary.due, summary.credit, summary.balance, summary.state) == (0, 1000, 11000, "paid")
        with pytest.raises(DomainError, match="already paid in full"):
            services.record_payment(order, "cash", "1")


@pytest.mark.parametrize("amount,text", [
    ("", "Type an amount"), ("abc", "not a number"), ("-5", "negative"), ("0", "more than zero"),
    ("1.234", "2 decimals"), ("9999999999999999", "too large"),
])
def test_bad_amounts_are_refused_beside_the_field(fin_app, amount, text):
    with fin_app.test_request_context(method="POST"):
        order = make_order()
        with pytest.raises(DomainError, match=text) as refused:
            services.record_payment(order, "cash", amount)
        assert refused.value.field == "amount"
        db.session.rollback()
        assert db.session.query(Payment).count() == 0


def test_zero_decimal_and_three_decimal_currencies(fin_app):
    with fin_app.test_request_context(method="POST"):
        yen = make_order(("12345", 1, "10"), currency="JPY")
        assert yen.total_minor == 11111  # 11110.5 -> 11111
        with pytest.raises(DomainError, match="0 decimals"):
            services.record_payment(yen, "cash", "11111.5")
        db.session.rollback()
        services.record_payment(yen, "cash", "11111")
        dinar = make_order(("117.675", 1, "0"), currency="KWD")
        services.record_payment(dinar, "cash", "117.675")
        db.session.commit()
        assert services.order_summary(yen).state == "paid" and services.order_summary(dinar).state == "paid"


def test_hundred_percent_discount_leaves_nothing_to_pay(fin_app):
    with fin_app.test_request_context(method="POST"):
        order = make_order(("99.99", 7, "100"))
        summary = services.order_summary(order)
        assert (order.total_minor, summary.due, summary.state) == (0, 0, "paid")
        with pytest.raises(DomainError, match="already paid in full"):
            services.record_payment(order, "cash", "0.01")


def test_refusals_method_reference_time_and_cancelled_orders(fin_app):
    with fin_app.test_request_context(method="POST"):
        order = make_order()
        with pytest.raises(DomainError, match="reference") as refused:
            services.record_payment(order, "bank_transfer", "10")
        assert refused.value.field == "reference"
        db.session.rollback()
        with pytest.raises(DomainError, match="in the future"):
            services.record_payment(order, "cash", "10", paid_at=utcnow() + timedelta(hours=2))
        db.session.rollback()
        with pytest.raises(DomainError, match="confirmed by the provider"):
            services.record_payment(order, "demo_gateway", "10")
        db.session.rollback()
        with pytest.raises(DomainError, match="Unknown payment method"):
            services.record_payment(order, "bitcoin", "10")
        db.session.rollback()
        settings.set_many({"finance.method.cash": False})
        db.session.commit()
        with pytest.raises(DomainError, match="switched off"):
            services.record_payment(order, "cash", "10")
        db.session.rollback()
        orders.transition(order, "cancelled", note="customer left")
        db.session.commit()
        with pytest.raises(DomainError, match="cancelled"):
            services.record_payment(order, "bank_transfer", "10", reference="x")
        db.session.rollback()
        assert db.session.query(Payment).count() == 0


def test_payment_on_a_backdated_time_is_kept(fin_app):
    with fin_app.test_request_context(method="POST"):
        order = make_order()
        when = utcnow() - timedelta(days=3)
        payment = services.record_payment(order, "cash", "100", paid_at=when)
        db.session.commit()
        assert db.session.get(Payment, payment.id).paid_at == when


@pytest.fixture
def spy_app(make_app):
    spy.reset()
    yield with_demo_gateway(make_app(plugins=["orders", "finance", "finspy=tests.finance.spy_plugin"]))
    spy.reset()


def test_hook_erp_payment_recorded(spy_app):
    with spy_app.test_request_context(method="POST"):
        order = make_order(("100", 1, "0"))
        payment = services.record_payment(order, "cash", "30")
        db.session.commit()
        assert spy.CALLS == [("payment", payment.merchant_ref, "paid", 3000)]
        # a listener that raises a DomainError undoes the payment
        spy.BEHAVIOUR["payment"] = lambda p: (_ for _ in ()).throw(DomainError("books are closed"))
        with pytest.raises(DomainError, match="books are closed"):
            services.record_payment(order, "cash", "20")
        db.session.rollback()
        assert db.session.query(Payment).count() == 1
        # a gateway payment fires it when its callback confirms it, not when it starts
        spy.BEHAVIOUR.clear()
        spy.CALLS.clear()
        gateway, _url = services.start_online_payment(order, "demo_gateway", "70", site_url="http://x/")
        db.session.commit()
        assert spy.CALLS == []
        adapter = services.get_adapter("demo_gateway")
        body, headers = adapter.sign_test_callback(services.callback_request(gateway), "DG-1")
        services.handle_callback("demo_gateway", body, headers)
        db.session.commit()
        assert spy.CALLS == [("payment", gateway.merchant_ref, "paid", 7000)]


def test_payment_before_shipping_policy(fin_app):
    with fin_app.test_request_context(method="POST"):
        order = make_order(("100", 1, "0"))
        settings.set_many({"finance.payment_before_shipping": True})
        db.session.commit()
        with pytest.raises(DomainError) as vetoed:
            orders.transition(order, "shipped")
        db.session.rollback()
        assert "cannot ship yet" in str(vetoed.value) and "100.00" in str(vetoed.value)
        services.record_payment(order, "cash", "99.99")
        db.session.commit()
        with pytest.raises(DomainError, match="0.01"):
            orders.transition(order, "partially_shipped")
        db.session.rollback()
        services.record_payment(order, "cash", "0.01")
        db.session.commit()
        orders.transition(order, "shipped")
        db.session.commit()
        assert order.status == "shipped"


def test_without_the_policy_unpaid_orders_ship(fin_app):
    with fin_app.test_request_context(method="POST"):
        order = make_order()
        orders.transition(order, "shipped")
        db.session.commit()
        assert order.status == "shipped"
