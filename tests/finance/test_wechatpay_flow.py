"""WeChat Pay through finance, against the local fake: a QR payment started on the order page,
paid by "scanning", the notification recorded once (also when delivered eight times at once), a
lost notification settled by the schedule, an expired payment closed, a refund confirmed by its
notification, and the payment-method page's connection test. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from erp_core import settings
from erp_core.extensions import db
from erp_core.models import AuditLog
from plugins.finance import jobs, services, states
from plugins.finance.models import Payment, Refund
from tests.finance.conftest import make_order
from tests.finance.wechat_fake import FakeWeChatPay, adapter_settings
from tests.helpers import login, make_user


def configure_wechatpay(app, fake: FakeWeChatPay) -> None:
    """Switch WeChat Pay on with the fake's credentials (secrets go through the settings, sealed)."""
    values = {f"finance.wechatpay.{k}": v for k, v in adapter_settings(fake.url).items()
              if k != "test_platform_private_key"}
    values["finance.wechatpay.notify_url"] = "http://localhost/finance/callback/wechatpay"
    values["finance.method.wechatpay"] = True
    with app.app_context():
        settings.set_many(values)
        db.session.commit()


@pytest.fixture
def fake():
    server = FakeWeChatPay().start()
    yield server
    server.stop()


@pytest.fixture
def wx_app(fin_app, fake):
    configure_wechatpay(fin_app, fake)
    client = fin_app.test_client()

    def deliver(url, body, headers):  # the fake's notifications reach the app through its test client
        answer = client.post(url.removeprefix("http://localhost"), data=body, headers=headers)
        fake.answers.append(answer)
        return answer.status_code

    fake.deliver = deliver
    return fin_app


def _clerk(app, *roles):
    client = app.test_client()
    login(client, app, make_user(app, roles=list(roles or ["customer_service"])))
    return client


def _start(app, client, amount="88.80"):
    with app.test_request_context(method="POST"):
        order = make_order((amount, 1, "0"))
        order_id = order.id
        db.session.commit()
    answer = client.post(f"/finance/orders/{order_id}/online",
                         data={"online-method": "wechatpay", "online-amount": amount})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:400]
    with app.app_context():
        payment = db.session.query(Payment).filter_by(order_id=order_id).one()
        return order_id, payment.id, payment.merchant_ref, answer.headers["Location"]


def test_not_offered_until_configured(fin_app):
    with fin_app.app_context():
        settings.set_many({"finance.method.wechatpay": True})
        db.session.commit()
        assert "wechatpay" not in [cls.code for cls in services.enabled_methods(online=True)]


def test_scan_pay_and_see_the_order_paid(wx_app, fake):
    clerk = _clerk(wx_app)
    order_id, payment_id, ref, location = _start(wx_app, clerk)
    assert location.endswith(f"/finance/payments/{payment_id}")
    page = clerk.get(location).get_data(as_text=True)
    assert 'data-testid="payment-qr"' in page and "data:image/svg+xml" in page
    assert fake.orders[ref].total == 8880 and fake.orders[ref].attach.startswith("SO-")
    # The customer's order page shows the same code to scan.
    with wx_app.test_request_context():
        from flask import render_template

        from plugins.finance.views import public_context
        from plugins.orders.public import get_order

        public = render_template("finance/_public_panel.html", **public_context(get_order(order_id)))
        assert "data:image/svg+xml" in public and "payment-status" in public

    assert fake.scan_and_pay(ref) == 204
    assert fake.answers[-1].get_data() == b""
    with wx_app.app_context():
        payment = db.session.get(Payment, payment_id)
        assert (payment.status, payment.qr_text) == (states.PAID, None)
        assert payment.provider_ref == fake.orders[ref].transaction_id
        assert services.order_summary(payment.order).due == 0
    assert 'data-testid="payment-qr"' not in clerk.get(location).get_data(as_text=True)


def test_status_poll_needs_the_signed_token(wx_app, fake):
    clerk = _clerk(wx_app)
    _order_id, payment_id, ref, location = _start(wx_app, clerk)
    page = clerk.get(location).get_data(as_text=True)
    poll = page.split('data-payment-status-url="')[1].split('"')[0]
    anonymous = wx_app.test_client()
    assert anonymous.get(poll).json == {"status": "pending"}
    assert anonymous.get(poll[:-3] + "abc").status_code == 404
    assert anonymous.get(f"/finance/payment-status/{payment_id}").status_code == 404
    fake.scan_and_pay(ref)
    assert anonymous.get(poll).json == {"status": "paid"}


def test_a_notification_delivered_again_or_eight_times_at_once_is_recorded_once(wx_app, fake):
    _order_id, payment_id, ref, _location = _start(wx_app, _clerk(wx_app))
    captured = []
    fake.deliver = lambda url, body, headers: captured.append((url, body, headers)) or 0
    fake.scan_and_pay(ref)
    url, body, headers = captured[0]
    count = 8
    barrier = threading.Barrier(count)
    answers = [None] * count

    def deliver(i):
        client = wx_app.test_client()
        barrier.wait()
        answers[i] = client.post("/finance/callback/wechatpay", data=body, headers=headers)

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert [a.status_code for a in answers] == [204] * count
    again = wx_app.test_client().post("/finance/callback/wechatpay", data=body, headers=headers)
    assert again.status_code == 204
    with wx_app.app_context():
        assert db.session.get(Payment, payment_id).status == states.PAID
        assert db.session.query(AuditLog).filter_by(object_type="payment", object_id=str(payment_id),
                                                    action="callback").count() == 1


def test_a_notification_for_another_amount_or_a_forged_one_changes_nothing(wx_app, fake):
    _order_id, payment_id, ref, _location = _start(wx_app, _clerk(wx_app))
    fake.orders[ref].total = 1  # WeChat Pay reports 0.01 for this trade
    assert fake.scan_and_pay(ref) == 400
    assert json.loads(fake.answers[-1].get_data())["code"] == "FAIL"
    forged = wx_app.test_client().post("/finance/callback/wechatpay", data=b'{"resource": {}}',
                                       headers={"Wechatpay-Signature": "AAAA", "Wechatpay-Timestamp": "1",
                                                "Wechatpay-Nonce": "x", "Wechatpay-Serial": "x"})
    assert forged.status_code == 400 and forged.json["code"] == "FAIL"
    with wx_app.app_context():
        assert db.session.get(Payment, payment_id).status == states.PENDING


def _backdate(app, payment_id, minutes):
    with app.app_context():
        created = db.session.get(Payment, payment_id).created_at
        db.session.execute(update(Payment).where(Payment.id == payment_id)
                           .values(created_at=created - timedelta(minutes=minutes)))
        db.session.commit()


def test_the_schedule_settles_a_payment_whose_notification_was_lost_and_closes_expired_ones(wx_app, fake):
    clerk = _clerk(wx_app)
    _o1, paid_id, paid_ref, _l1 = _start(wx_app, clerk)
    _o2, old_id, old_ref, _l2 = _start(wx_app, clerk)
    _o3, fresh_id, fresh_ref, _l3 = _start(wx_app, clerk)
    fake.scan_and_pay(paid_ref, notify=False)  # paid, but the notification never came
    _backdate(wx_app, paid_id, 10)
    _backdate(wx_app, old_id, 180)  # older than the 120 minutes allowed
    with wx_app.app_context():
        assert jobs.settle_pending() == 2
        assert db.session.get(Payment, paid_id).status == states.PAID
        assert db.session.get(Payment, old_id).status == states.FAILED
        assert db.session.get(Payment, fresh_id).status == states.PENDING  # too recent to ask
        assert db.session.query(AuditLog).filter_by(object_type="payment", object_id=str(paid_id),
                                                    action="query").count() == 1
        assert jobs.settle_pending() == 0  # nothing twice
    assert fake.orders[old_ref].state == "CLOSED" and fake.orders[fresh_ref].state == "NOTPAY"
    assert ("GET", f"/v3/pay/transactions/out-trade-no/{paid_ref}?mchid=1900009191") in fake.requests


def test_a_refund_is_sent_by_a_job_and_confirmed_by_its_notification(wx_app, fake):
    _order_id, payment_id, ref, _location = _start(wx_app, _clerk(wx_app))
    fake.scan_and_pay(ref)
    finance = _clerk(wx_app, "finance")
    answer = finance.post(f"/finance/payments/{payment_id}/refunds",
                          data={"refund-amount": "8.80", "refund-reason": "Damaged", "refund-pay_now": "y"})
    assert answer.status_code == 302
    with wx_app.app_context():
        refund = db.session.query(Refund).one()
        assert (refund.status, refund.decided_at is not None) == (states.REQUESTED, True)
        out_refund_no = services.refund_ref(refund)
    sent = fake.refunds[out_refund_no]
    assert sent["amount"] == {"refund": 880, "total": 8880, "currency": "CNY"}
    assert fake.finish_refund(out_refund_no) == 204
    assert fake.finish_refund(out_refund_no) == 204  # delivered again: recorded once
    with wx_app.app_context():
        refund = db.session.query(Refund).one()
        assert (refund.status, refund.provider_ref) == (states.REFUNDED, sent["refund_id"])
        assert db.session.query(AuditLog).filter_by(object_type="refund", action="refunded").count() == 1


def test_the_connection_test_needs_the_settings_permission_and_shows_the_answer(wx_app, fake):
    clerk = _clerk(wx_app, "finance")
    assert clerk.get("/finance/methods").status_code == 403
    assert clerk.post("/finance/methods/wechatpay/test").status_code == 403
    admin = _clerk(wx_app, "admin")
    page = admin.get("/finance/methods").get_data(as_text=True)
    assert 'data-testid="test-wechatpay"' in page and 'data-testid="test-cash"' not in page
    answer = admin.post("/finance/methods/wechatpay/test", follow_redirects=True).get_data(as_text=True)
    assert "ORDER_NOT_EXIST" in answer
    assert admin.post("/finance/methods/cash/test").status_code == 404
    with wx_app.app_context():
        settings.set_many({"finance.wechatpay.serial_no": "0000"})
        db.session.commit()
    refused = admin.post("/finance/methods/wechatpay/test", follow_redirects=True).get_data(as_text=True)
    assert "SIGN_ERROR" in refused


def test_the_customers_tracking_page_shows_the_code_until_it_is_paid(make_app, fake):
    from plugins.orders.models import Order
    from plugins.support import public

    app = make_app(plugins=["orders", "finance", "support"])
    configure_wechatpay(app, fake)
    fake.deliver = lambda url, body, headers: app.test_client().post(
        url.removeprefix("http://localhost"), data=body, headers=headers).status_code
    _order_id, _payment_id, ref, _location = _start(app, _clerk(app))
    with app.test_request_context():
        order = db.session.query(Order).one()
        access = public.ensure_access(order)
        db.session.commit()
        url = f"/help/t/{order.id}/{public.tracking_token(order.id, access.nonce)}"
    customer = app.test_client()
    page = customer.get(url).get_data(as_text=True)
    assert 'data-testid="payment-qr"' in page and "data:image/svg+xml" in page and "finance/pay.js" in page
    poll = page.split('data-payment-status-url="')[1].split('"')[0]
    assert customer.get(poll).json == {"status": "pending"}
    assert fake.scan_and_pay(ref) == 204
    assert customer.get(poll).json == {"status": "paid"}
    assert 'data-testid="payment-qr"' not in customer.get(url).get_data(as_text=True)
