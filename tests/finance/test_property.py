"""Property: whatever payments and refunds happen, paid - refunded is the balance shown."""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.money import format_money, line_total
from erp_core.timeutil import utcnow
from erp_core.web.templating import render_contributions
from plugins.finance import reports, services, states
from tests.finance.conftest import make_order

CURRENCIES = {"CNY": 2, "JPY": 0, "KWD": 3}

lines = st.lists(st.tuples(st.integers(0, 200_000), st.integers(1, 40),
                           st.sampled_from(["0", "4", "10", "12.5", "33.33", "100"])), min_size=1, max_size=3)
steps = st.lists(st.one_of(
    st.tuples(st.just("pay"), st.sampled_from(["cash", "bank_transfer", "demo_gateway"]), st.integers(1, 100),
              st.booleans()),
    st.tuples(st.just("refund"), st.integers(0, 5), st.integers(1, 120), st.sampled_from(["approve", "reject", "leave"])),
), max_size=8)


def _text(minor, currency):
    return str(Decimal(minor).scaleb(-CURRENCIES[currency]))


@pytest.fixture
def running_totals():
    """Net takings per currency of every example so far (examples share one database)."""
    return defaultdict(int)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(currency=st.sampled_from(sorted(CURRENCIES)), order_lines=lines, ops=steps)
def test_paid_minus_refunded_is_the_balance_shown(fin_app, running_totals, currency, order_lines, ops):
    with fin_app.test_request_context("/orders/x", method="POST"):
        spec = [(_text(price, currency), qty, discount) for price, qty, discount in order_lines]
        order = make_order(*spec, currency=currency)
        assert order.total_minor == sum(line_total(p, q, Decimal(d)) for p, q, d in order_lines)
        paid = refunded = 0
        received = []
        gateway = services.get_adapter("demo_gateway")
        for op in ops:
            try:
                if op[0] == "pay":
                    _kind, method, percent, as_credit = op
                    amount = max(order.total_minor * percent // 100, 1)
                    if method == "demo_gateway":
                        payment, _url = services.start_online_payment(order, method, amount, site_url="http://x/",
                                                                      as_credit=as_credit)
                        body, headers = gateway.sign_test_callback(services.callback_request(payment),
                                                                   f"DG-{payment.id}")
                        services.handle_callback(method, body, headers)
                    else:
                        payment = services.record_payment(order, method, amount, reference="R",
                                                          as_credit=as_credit)
                    db.session.commit()
                    paid += amount
                    received.append(payment)
                else:
                    _kind, index, percent, decision = op
                    if not received:
                        continue
                    payment = received[index % len(received)]
                    amount = max(payment.amount_minor * percent // 100, 1)
                    refund = services.request_refund(payment, amount, "property")
                    if decision == "approve":
                        services.approve_refund(refund)
                        refunded += amount
                    elif decision == "reject":
                        services.reject_refund(refund, "no")
                    db.session.commit()
            except DomainError:
                db.session.rollback()
        summary = services.order_summary(order)
        assert (summary.paid, summary.refunded) == (paid, refunded)
        assert summary.balance == paid - refunded
        assert summary.due == max(order.total_minor - paid, 0)
        assert summary.state == states.order_state(order.total_minor, paid, refunded)
        for payment in received:
            db.session.refresh(payment)
            assert 0 <= payment.refunded_minor <= payment.amount_minor
        panel = services_panel(fin_app, order)
        assert f'data-testid="finance-balance">{format_money(paid - refunded, currency)}<' in panel
        running_totals[currency] += paid - refunded
        today = utcnow().date()
        f = reports.Filters(start=today - timedelta(days=1), end=today + timedelta(days=1), tz="UTC",
                            currency=currency)
        nets = [t["net"] for t in reports.run_takings(f).totals]
        assert nets == ([running_totals[currency]] if running_totals[currency] or nets else [])



def services_panel(app, order) -> str:
    manager = app.extensions["erp_plugins"]
    panels = [p for group in manager.hook.erp_order_panels(order=order, user=None) for p in group]
    return str(render_contributions(panels)[0].html)
