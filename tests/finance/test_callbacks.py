"""Gateway callbacks: verified, checked against the payment, and recorded exactly once."""

import json
import threading

import pytest

from erp_core.extensions import db
from erp_core.models import AuditLog
from erp_core.testing import api_token, bearer
from plugins.finance import services, states
from plugins.finance.models import Payment
from tests.finance.conftest import make_order


def _pending(app, amount="100", currency="CNY"):
    with app.test_request_context(method="POST"):
        order = make_order((amount, 1, "0"), currency=currency)
        payment, url = services.start_online_payment(order, "demo_gateway", amount, site_url="http://shop/")
        db.session.commit()
        adapter = services.get_adapter("demo_gateway")
        return payment.id, order.id, adapter, services.callback_request(payment), url


def test_start_gives_a_signed_link_to_the_demo_gateway(fin_app):
    payment_id, _order_id, _adapter, request, url = _pending(fin_app)
    assert url.startswith("http://shop/finance/demo-gateway/pay?") and "sig=" in url
    client = fin_app.test_client()
    page = client.get(url.removeprefix("http://shop"))
    assert page.status_code == 200 and "100.00" in page.get_data(as_text=True)
    tampered = client.get(url.removeprefix("http://shop").replace("amount=10000", "amount=100"))
    assert tampered.status_code == 400 and "not valid" in tampered.get_data(as_text=True)
    with fin_app.app_context():
        assert db.session.get(Payment, payment_id).status == states.PENDING


def test_the_same_callback_twice_records_one_payment(fin_app):
    payment_id, _order_id, adapter, request, _url = _pending(fin_app)
    body, headers = adapter.sign_test_callback(request, "DG-777")
    client = fin_app.test_client()
    first = client.post("/finance/callback/demo_gateway", data=body, headers=headers)
    second = client.post("/finance/callback/demo_gateway", data=body, headers=headers)
    assert first.status_code == 200 and first.json == {"status": "ok", "payment": request.merchant_ref, "recorded": True}
    assert second.status_code == 200 and second.json["recorded"] is False
    with fin_app.app_context():
        payment = db.session.get(Payment, payment_id)
        assert (payment.status, payment.provider_ref) == ("paid", "DG-777")
        assert db.session.query(AuditLog).filter_by(object_type="payment", action="callback").count() == 1


def test_simultaneous_deliveries_record_one_payment(fin_app):
    payment_id, order_id, adapter, request, _url = _pending(fin_app)
    body, headers = adapter.sign_test_callback(request, "DG-888")
    count = 8
    barrier = threading.Barrier(count)
    answers = [None] * count

    def deliver(i):
        client = fin_app.test_client()
        barrier.wait()
        answers[i] = client.post("/finance/callback/demo_gateway", data=body, headers=headers)

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert [a.status_code for a in answers] == [200] * count
    assert sorted(a.json["recorded"] for a in answers) == [False] * (count - 1) + [True]
    with fin_app.app_context():
        assert db.session.query(Payment).filter_by(order_id=order_id, status="paid").count() == 1
        assert db.session.query(AuditLog).filter_by(object_type="payment", action="callback").count() == 1


@pytest.mark.parametrize("change,detail", [
    ({"amount_minor": 1}, "amount or currency"),
    ({"currency": "USD"}, "amount or currency"),
    ({"order": "SO-1999-000001"}, "another order"),
    ({"merchant_ref": "PAY-999999"}, "names no payment"),
    ({"status": "maybe"}, "malformed"),
    ({"amount_minor": "10000"}, "malformed"),
    ({"transaction_id": "  "}, "no transaction"),
])
def test_callbacks_that_do_not_match_are_rejected(fin_app, change, detail):
    payment_id, _order_id, adapter, request, _url = _pending(fin_app)
    body, headers = adapter.sign_test_callback(request, "DG-1", **change)
    answer = fin_app.test_client().post("/finance/callback/demo_gateway", data=body, headers=headers)
    assert answer.status_code == 400 and detail in answer.json["detail"]
    with fin_app.app_context():
        assert db.session.get(Payment, payment_id).status == states.PENDING


def test_a_forged_signature_is_rejected(fin_app):
    payment_id, _order_id, adapter, request, _url = _pending(fin_app)
    body, headers = adapter.sign_test_callback(request, "DG-1")
    client = fin_app.test_client()
    forged = json.loads(body)
    forged["transaction_id"] = "DG-2"
    for data, hdrs in [(json.dumps(forged).encode(), headers), (body, {}),
                       (body, {"X-Demo-Gateway-Signature": "sha256=" + "0" * 64}), (b"", headers)]:
        answer = client.post("/finance/callback/demo_gateway", data=data, headers=hdrs)
        assert answer.status_code == 400 and answer.json["status"] == "rejected"
    assert client.post("/finance/callback/nosuch", data=body, headers=headers).status_code == 400
    with fin_app.app_context():
        assert db.session.get(Payment, payment_id).status == states.PENDING


def test_a_declined_payment_fails_and_a_later_success_is_recorded_for_review(fin_app):
    payment_id, _order_id, adapter, request, _url = _pending(fin_app)
    client = fin_app.test_client()
    body, headers = adapter.sign_test_callback(request, "DG-5", status="failed")
    assert client.post("/finance/callback/demo_gateway", data=body, headers=headers).json["recorded"] is True
    body, headers = adapter.sign_test_callback(request, "DG-6", status="paid")
    answer = client.post("/finance/callback/demo_gateway", data=body, headers=headers)
    assert answer.status_code == 200 and answer.json["recorded"] is True
    with fin_app.app_context():
        payment = db.session.get(Payment, payment_id)
        assert (payment.status, payment.provider_ref, payment.needs_review) == (states.PAID, "DG-6", True)
    body, headers = adapter.sign_test_callback(request, "DG-5", status="failed")  # a late "failed" changes nothing
    assert client.post("/finance/callback/demo_gateway", data=body, headers=headers).status_code == 400
    with fin_app.app_context():
        assert db.session.get(Payment, payment_id).status == states.PAID


def test_money_taken_after_the_order_was_paid_becomes_credit(fin_app):
    payment_id, order_id, adapter, request, _url = _pending(fin_app)
    with fin_app.test_request_context(method="POST"):
        from plugins.orders.models import Order

        services.record_payment(db.session.get(Order, order_id), "cash", "30")
        db.session.commit()
        body, headers = adapter.sign_test_callback(request, "DG-9")
        services.handle_callback("demo_gateway", body, headers)
        db.session.commit()
        payment = db.session.get(Payment, payment_id)
        assert payment.credit_minor == 3000
        assert services.order_summary(db.session.get(Order, order_id)).credit == 3000


def test_paying_on_the_demo_gateway_page_records_the_payment(fin_app):
    payment_id, order_id, _adapter, _request, url = _pending(fin_app)
    client = fin_app.test_client()
    path = url.removeprefix("http://shop")
    answer = client.post(path, data={"action": "pay"})
    assert answer.status_code == 302
    with fin_app.app_context():
        assert db.session.get(Payment, payment_id).status == states.PAID
    # paying again through the same link changes nothing
    client.post(path, data={"action": "pay"})
    with fin_app.app_context():
        assert db.session.query(Payment).filter_by(order_id=order_id, status="paid").count() == 1


def test_a_switched_off_demo_gateway_has_no_page(fin_app):
    _payment_id, _order_id, _adapter, _request, url = _pending(fin_app)
    with fin_app.test_request_context():
        from erp_core import settings

        settings.set_many({"finance.method.demo_gateway": False})
        db.session.commit()
    assert fin_app.test_client().get(url.removeprefix("http://shop")).status_code == 404



# ----------------------------------------------------------------------------- paid after failed, reused transactions


def _client(app, *perms):
    from tests.helpers import login, make_user

    client = app.test_client()
    login(client, app, make_user(app, perms=list(perms)))
    return client


def test_a_paid_callback_after_staff_marked_the_payment_failed_is_recorded_and_flagged(fin_app):
    from plugins.orders.models import Order

    payment_id, order_id, adapter, request, _url = _pending(fin_app)
    with fin_app.test_request_context(method="POST"):
        services.mark_payment_failed(db.session.get(Payment, payment_id), "customer gave up")
        db.session.commit()
    body, headers = adapter.sign_test_callback(request, "DG-LATE")
    answer = fin_app.test_client().post("/finance/callback/demo_gateway", data=body, headers=headers)
    assert answer.status_code == 200 and answer.json["recorded"] is True
    with fin_app.test_request_context():
        payment = db.session.get(Payment, payment_id)
        assert (payment.status, payment.needs_review, payment.provider_ref) == (states.PAID, True, "DG-LATE")
        assert services.order_summary(db.session.get(Order, order_id)).state == states.ORDER_PAID
        entry = db.session.query(AuditLog).filter_by(object_type="payment", action="callback").one()
        assert entry.before == {"status": "failed"} and entry.after["needs_review"] is True

    viewer = _client(fin_app, "finance.view")
    page = viewer.get(f"/finance/payments/{payment_id}").get_data(as_text=True)
    assert 'data-testid="payment-review"' in page and "Mark as reviewed" not in page
    listed = viewer.get("/finance/payments?review=1").get_data(as_text=True)
    assert request.merchant_ref in listed and "payment-needs-review" in listed
    assert viewer.post(f"/finance/payments/{payment_id}/review", data={"review-note": "ok"}).status_code == 403
    headers = bearer(api_token(fin_app, perms=["finance.view"]))
    listed = fin_app.test_client().get("/api/v1/finance/payments?needs_review=true", headers=headers).json
    assert [(p["number"], p["needs_review"]) for p in listed["items"]] == [(request.merchant_ref, True)]

    reviewer = _client(fin_app, "finance.view", "finance.payments.review")
    assert "Mark as reviewed" in reviewer.get(f"/finance/payments/{payment_id}").get_data(as_text=True)
    assert reviewer.post(f"/finance/payments/{payment_id}/review", data={"review-note": " "}).status_code == 422
    done = reviewer.post(f"/finance/payments/{payment_id}/review", data={"review-note": "refunded by phone"})
    assert done.status_code == 302
    with fin_app.app_context():
        assert db.session.get(Payment, payment_id).needs_review is False
        entry = db.session.query(AuditLog).filter_by(object_type="payment", action="review_cleared").one()
        assert entry.note == "refunded by phone"
    assert request.merchant_ref not in viewer.get("/finance/payments?review=1").get_data(as_text=True)
    headers = bearer(api_token(fin_app, perms=["finance.view"]))
    assert fin_app.test_client().get("/api/v1/finance/payments?needs_review=true", headers=headers).json["items"] == []
    again = reviewer.post(f"/finance/payments/{payment_id}/review", data={"review-note": "again"})
    assert again.status_code == 422 and "does not need a review" in again.get_data(as_text=True)


@pytest.mark.parametrize("race", [False, True])
def test_a_callback_reusing_another_payments_transaction_is_a_409(fin_app, monkeypatch, race):
    first_id, _o1, adapter, first, _url = _pending(fin_app)
    second_id, _o2, _adapter, second, _url2 = _pending(fin_app)
    client = fin_app.test_client()
    body, headers = adapter.sign_test_callback(first, "DG-SAME")
    assert client.post("/finance/callback/demo_gateway", data=body, headers=headers).status_code == 200
    if race:  # the other callback committed between the check and the update: the constraint answers
        from plugins.finance import review

        monkeypatch.setattr(review, "check_transaction_free", lambda payment, ref: None)
    body, headers = adapter.sign_test_callback(second, "DG-SAME")
    answer = client.post("/finance/callback/demo_gateway", data=body, headers=headers)
    assert answer.status_code == 409 and answer.mimetype == "application/problem+json"
    assert answer.json["code"] == "transaction_taken" and "another payment" in answer.json["detail"]
    with fin_app.app_context():
        assert db.session.get(Payment, second_id).status == states.PENDING
        assert db.session.get(Payment, first_id).provider_ref == "DG-SAME"
