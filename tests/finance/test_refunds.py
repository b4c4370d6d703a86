"""Refunds: never more than what is left of a payment, even when twenty arrive at once."""

import threading

import pytest

from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.models import AuditLog
from plugins.finance import services, states
from plugins.finance.models import Payment, Refund
from plugins.finance.testing import make_paid_order
from tests.finance import spy_plugin as spy
from tests.finance.conftest import make_order, with_demo_gateway


def test_refund_flow_requested_then_refunded_or_rejected(fin_app):
    with fin_app.test_request_context(method="POST"):
        order, payment = make_paid_order()
        first = services.request_refund(payment, "30", "Scratched box")
        db.session.commit()
        assert first.status == states.REQUESTED and payment.refunded_minor == 3000
        assert services.order_summary(order).refund_requested == 3000
        assert services.approve_refund(first) is True
        db.session.commit()
        assert first.status == states.REFUNDED and first.refunded_at is not None
        second = services.request_refund(payment, "50", "Changed mind")
        db.session.commit()
        services.reject_refund(second, "Outside the return window")
        db.session.commit()
        assert second.status == states.REJECTED
        assert db.session.get(Payment, payment.id).refunded_minor == 3000  # the rejected amount is free again
        summary = services.order_summary(order)
        assert (summary.paid, summary.refunded, summary.balance, summary.state) == (10000, 3000, 7000,
                                                                                     "partially_refunded")
        assert summary.due == 0  # refunds do not reopen what the customer owed
        history = [(e.action, e.after["status"]) for e in db.session.query(AuditLog)
                   .filter_by(object_type="refund").order_by(AuditLog.id)]
        assert history == [("requested", "requested"), ("refunded", "refunded"), ("requested", "requested"),
                           ("rejected", "rejected")]


def test_refunding_everything_makes_the_order_refunded(fin_app):
    with fin_app.test_request_context(method="POST"):
        order, payment = make_paid_order([(1, "12345")], currency="JPY")
        services.approve_refund(services.request_refund(payment, "12345", "Cancelled"))
        db.session.commit()
        summary = services.order_summary(order)
        assert (summary.balance, summary.state) == (0, "refunded")


@pytest.mark.parametrize("amount,reason,text", [
    ("100.01", "too much", "Only"), ("0", "zero", "more than zero"), ("abc", "bad", "not a number"),
    ("10", "   ", "reason"),
])
def test_bad_refunds_are_refused(fin_app, amount, reason, text):
    with fin_app.test_request_context(method="POST"):
        _order, payment = make_paid_order()
        with pytest.raises(DomainError, match=text):
            services.request_refund(payment, amount, reason)
        db.session.rollback()
        assert db.session.query(Refund).count() == 0
        assert db.session.get(Payment, payment.id).refunded_minor == 0


def test_decisions_are_taken_once(fin_app):
    with fin_app.test_request_context(method="POST"):
        _order, payment = make_paid_order()
        refund = services.request_refund(payment, "10", "x")
        services.approve_refund(refund)
        db.session.commit()
        with pytest.raises(DomainError, match="already decided"):
            services.approve_refund(refund)
        db.session.rollback()
        with pytest.raises(DomainError, match="already decided"):
            services.reject_refund(refund, "late")
        db.session.rollback()
        with pytest.raises(DomainError, match="Say why"):
            services.reject_refund(services.request_refund(payment, "5", "y"), "")


def test_only_received_payments_can_be_refunded(fin_app):
    with fin_app.test_request_context(method="POST"):
        order = make_order()
        pending, _url = services.start_online_payment(order, "demo_gateway", "100", site_url="http://x/")
        db.session.commit()
        with pytest.raises(DomainError, match="received payment"):
            services.request_refund(pending, "10", "x")


def _race(app, count, work):
    """Run ``work(i)`` in ``count`` threads released together; returns the outcomes."""
    barrier = threading.Barrier(count)
    outcomes = [None] * count

    def run(i):
        with app.app_context():
            try:
                barrier.wait()
                outcomes[i] = work(i)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
                db.session.rollback()
                outcomes[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return outcomes


def test_twenty_simultaneous_refunds_never_exceed_the_payment(fin_app):
    with fin_app.test_request_context(method="POST"):
        _order, payment = make_paid_order()
        payment_id = payment.id

    def refund(i):
        return services.request_refund(db.session.get(Payment, payment_id), "15", f"request {i}").id

    outcomes = _race(fin_app, 20, refund)
    made = [o for o in outcomes if isinstance(o, int)]
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(made) == 6 and len(refused) == 14, outcomes  # 6 x 15 = 90 <= 100 < 105
    assert all("Only" in str(e) for e in refused)
    with fin_app.app_context():
        assert db.session.get(Payment, payment_id).refunded_minor == 9000
        assert db.session.query(db.func.sum(Refund.amount_minor)).scalar() == 9000


def test_hook_erp_refund_requested(fin_app):
    with fin_app.test_request_context(method="POST"):
        order = make_order(("100", 1, "0"))
        older = services.record_payment(order, "cash", "40")
        newer = services.record_payment(order, "bank_transfer", "60", reference="B-7")
        db.session.commit()
        hook = fin_app.extensions["erp_plugins"].hook
        answers = hook.erp_refund_requested(order=order, amount_minor=7000, currency="CNY",
                                            reason="Return RMA-1 received", source_type="return", source_id=11)
        db.session.commit()
        links = [link for answer in answers for link in answer]
        assert [link["label"] for link in links] == [f"REF-{links[0]['id']:06d}", f"REF-{links[1]['id']:06d}"]
        assert links[0]["url"].endswith(f"/finance/payments/{newer.id}")
        refunds = db.session.query(Refund).order_by(Refund.id).all()
        assert [(r.payment_id, r.amount_minor, r.source_type, r.source_id, r.status) for r in refunds] == [
            (newer.id, 6000, "return", "11", "requested"), (older.id, 1000, "return", "11", "requested")]
        # asking again for the same return gives the same refunds, not new ones
        again = hook.erp_refund_requested(order=order, amount_minor=7000, currency="CNY", reason="again",
                                          source_type="return", source_id=11)
        assert [link["id"] for answer in again for link in answer] == [r.id for r in refunds]
        with pytest.raises(DomainError, match="already exists"):
            hook.erp_refund_requested(order=order, amount_minor=500, currency="CNY", reason="again",
                                      source_type="return", source_id=11)
        db.session.rollback()
        with pytest.raises(DomainError, match="can be refunded"):
            hook.erp_refund_requested(order=order, amount_minor=3001, currency="CNY", reason="exception",
                                      source_type="shipment", source_id=5)
        db.session.rollback()
        with pytest.raises(DomainError, match="is in CNY"):
            hook.erp_refund_requested(order=order, amount_minor=100, currency="USD", reason="x",
                                      source_type="shipment", source_id=5)
        db.session.rollback()
        assert db.session.query(Refund).count() == 2


@pytest.fixture
def spy_app(make_app):
    spy.reset()
    yield with_demo_gateway(make_app(plugins=["orders", "finance", "finspy=tests.finance.spy_plugin"]))
    spy.reset()


def test_hook_erp_refund_recorded(spy_app):
    with spy_app.test_request_context(method="POST"):
        _order, payment = make_paid_order()
        spy.CALLS.clear()
        refund = services.request_refund(payment, "10", "x")
        services.approve_refund(refund)
        other = services.request_refund(payment, "5", "y")
        services.reject_refund(other, "no")
        db.session.commit()
        assert spy.CALLS == [("refund", refund.id, "requested", 1000), ("refund", refund.id, "refunded", 1000),
                             ("refund", other.id, "requested", 500), ("refund", other.id, "rejected", 500)]


def test_hook_erp_refund_failed(spy_app):
    spy.RemotePayAdapter.answers.extend(["error"])
    with spy_app.test_request_context(method="POST"):
        _order, payment = make_paid_order(method="remote_pay")
        refund = services.request_refund(payment, "25", "x")
        services.approve_refund(refund)
        refund_id = refund.id
        db.session.commit()  # the job runs now: the provider refuses
    failed = [c for c in spy.CALLS if c[0] == "refund_failed"]
    assert len(failed) == 1 and failed[0][1:3] == (refund_id, states.REQUESTED) and failed[0][3]
    with spy_app.test_request_context(method="POST"):
        services.finish_remote_refund(refund_id, "refunded", "RP-9")  # paid later: no failure told
        services.finish_remote_refund(refund_id, "failed", None, "too late")  # no longer requested: ignored
        db.session.commit()
    assert len([c for c in spy.CALLS if c[0] == "refund_failed"]) == 1


def test_remote_adapters_refund_from_a_job_after_commit(spy_app):
    with spy_app.test_request_context(method="POST"):
        _order, payment = make_paid_order(method="remote_pay")
        refund = services.request_refund(payment, "25", "x")
        assert services.approve_refund(refund) is False
        assert ("remote_refund", f"REF-{refund.id:06d}", 2500) not in spy.CALLS  # not inside the transaction
        refund_id = refund.id
        db.session.commit()  # the job runs now
    with spy_app.app_context():
        refund = db.session.get(Refund, refund_id)
        assert ("remote_refund", f"REF-{refund_id:06d}", 2500) in spy.CALLS
        assert refund.status == states.REFUNDED and refund.provider_ref == "RP-1"


def test_a_remote_refund_that_fails_goes_back_to_the_queue(spy_app):
    spy.RemotePayAdapter.answers.extend(["error"])
    with spy_app.test_request_context(method="POST"):
        _order, payment = make_paid_order(method="remote_pay")
        refund = services.request_refund(payment, "25", "x")
        services.approve_refund(refund)
        refund_id = refund.id
        db.session.commit()
    with spy_app.test_request_context(method="POST"):
        refund = db.session.get(Refund, refund_id)
        assert refund.status == states.REQUESTED and refund.decided_at is None
        assert db.session.query(AuditLog).filter_by(object_type="refund", action="provider_failed").count() == 1
        services.approve_refund(refund)  # try again: the provider answers this time
        db.session.commit()
    with spy_app.app_context():
        assert db.session.get(Refund, refund_id).status == states.REFUNDED
