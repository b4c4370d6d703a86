"""Alipay: the contract kit against the local fake gateway, the RSA2 signing rules, and the whole
flow through finance (redirect to the cashier, signed notification answered ``success`` and
recorded once, also eight at once; a lost notification settled by the schedule; refunds with
out_request_no; the connection test). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import update

from erp_core import settings
from erp_core.extensions import db
from erp_core.models import AuditLog
from plugins.finance import jobs, services, states
from plugins.finance.adapters import AdapterError, CallbackMalformed, CallbackRejected
from plugins.finance.models import Payment, Refund
from plugins.finance.providers._http import public_key, rsa_verify
from plugins.finance.providers.alipay import AlipayAdapter, fen, sign_content, yuan
from plugins.finance.testing import PaymentAdapterContract
from tests.finance import alipay_fake
from tests.finance.alipay_fake import FakeAlipay, Trade, adapter_settings, query_of
from tests.finance.conftest import make_order
from tests.helpers import login, make_user


@pytest.fixture
def fake():
    server = FakeAlipay().start()
    yield server
    server.stop()


class TestAlipayContract(PaymentAdapterContract):
    adapter_class = AlipayAdapter

    @pytest.fixture
    def adapter(self, fake):
        fake.trades["PAY-000042"] = Trade("PAY-000042", "123.45", "", "SO-2026-000007", "TRADE_SUCCESS", "TX-1")
        return AlipayAdapter(adapter_settings(fake.url))


@pytest.mark.parametrize("text,minor", [("0.01", 1), ("12.3", 1230), ("123.45", 12345), ("1000", 100000)])
def test_yuan_text_is_read_exactly(text, minor):
    assert fen(text) == minor and fen(yuan(minor)) == minor


@pytest.mark.parametrize("text", ["1.234", "-1.00", "1e3", " 1.00", "01.00", "", "NaN", "1,00"])
def test_other_amount_texts_are_refused(text):
    with pytest.raises(ValueError):
        fen(text)


def test_the_signed_string_follows_the_documented_rule():
    params = {"method": "alipay.trade.query", "app_id": "2014072300007148", "charset": "utf-8", "sign": "x",
              "sign_type": "RSA2", "biz_content": '{"out_trade_no":"1"}', "empty": ""}
    assert sign_content(params) == (b'app_id=2014072300007148&biz_content={"out_trade_no":"1"}&charset=utf-8'
                                    b'&method=alipay.trade.query&sign_type=RSA2')
    assert sign_content(params, notification=True) == (b'app_id=2014072300007148&biz_content={"out_trade_no":"1"}'
                                                       b'&charset=utf-8&empty=&method=alipay.trade.query')


def test_the_redirect_is_a_signed_page_pay_request_and_wap_is_selectable(fake):
    adapter = AlipayAdapter(adapter_settings(fake.url))
    url = adapter.start(TestAlipayContract.payment()).redirect_url
    params = query_of(url)
    assert params["method"] == "alipay.trade.page.pay" and '"total_amount":"123.45"' in params["biz_content"]
    assert rsa_verify(public_key(alipay_fake.app_keys()[1]), sign_content(params), params["sign"])
    assert fake.open_page(url) == 200 and fake.trades["PAY-000042"].total_amount == "123.45"
    wap = AlipayAdapter({**adapter_settings(fake.url), "page": "wap"}).start(TestAlipayContract.payment())
    assert query_of(wap.redirect_url)["method"] == "alipay.trade.wap.pay"
    assert AlipayAdapter({**adapter_settings(), "gateway_url": ""}).gateway.startswith("https://openapi-sandbox.")
    assert AlipayAdapter({**adapter_settings(), "gateway_url": "", "environment": "production"}).gateway == \
        "https://openapi.alipay.com/gateway.do"


def test_a_request_signed_with_another_key_is_refused_and_unsigned_answers_are_not_believed(fake):
    wrong = {**adapter_settings(fake.url), "private_key": alipay_fake.alipay_keys()[0]}
    with pytest.raises(AdapterError, match="isv.invalid-signature"):
        AlipayAdapter(wrong).test_connection()
    forged = {**adapter_settings(fake.url), "alipay_public_key": alipay_fake.app_keys()[1]}
    with pytest.raises(AdapterError, match="not signed by Alipay"):
        AlipayAdapter(forged).test_connection()
    assert "ACQ.TRADE_NOT_EXIST" in AlipayAdapter(adapter_settings(fake.url)).test_connection()


def test_notifications_for_another_app_are_refused():
    adapter = AlipayAdapter(adapter_settings())
    body, headers = adapter.sign_test_callback(TestAlipayContract.payment(), "2026", app_id="2021000000000000")
    with pytest.raises(CallbackMalformed):
        adapter.verify_callback(body, headers)
    body, headers = adapter.sign_test_callback(TestAlipayContract.payment(), "2026")
    with pytest.raises(CallbackRejected):
        adapter.verify_callback(body + b"&trade_status=TRADE_SUCCESS", headers)  # a repeated field


# ----------------------------------------------------------------------------- through finance


@pytest.fixture
def ali_app(fin_app, fake):
    values = {f"finance.alipay.{k}": v for k, v in adapter_settings(fake.url).items()
              if k != "test_alipay_private_key"}
    values["finance.method.alipay"] = True
    with fin_app.app_context():
        settings.set_many(values)
        db.session.commit()
    client = fin_app.test_client()

    def deliver(url, body, headers):
        answer = client.post(url.removeprefix("http://localhost"), data=body, headers=headers)
        fake.answers.append(answer)
        return answer.status_code

    fake.deliver = deliver
    return fin_app


def _start(app, fake, amount="45.60"):
    clerk = app.test_client()
    login(clerk, app, make_user(app, roles=["customer_service"]))
    with app.test_request_context(method="POST"):
        order_id = make_order((amount, 1, "0")).id
        db.session.commit()
    answer = clerk.post(f"/finance/orders/{order_id}/online", data={"online-method": "alipay", "online-amount": amount})
    assert answer.status_code == 302 and answer.headers["Location"].startswith(fake.url + "?")
    assert fake.open_page(answer.headers["Location"]) == 200
    with app.app_context():
        payment = db.session.query(Payment).filter_by(order_id=order_id).one()
        return payment.id, payment.merchant_ref


def test_pay_at_the_cashier_and_the_notification_records_the_payment_once(ali_app, fake):
    payment_id, ref = _start(ali_app, fake)
    assert fake.trades[ref].total_amount == "45.60"
    assert fake.pay(ref) == 200 and fake.answers[-1].get_data() == b"success"
    with ali_app.app_context():
        payment = db.session.get(Payment, payment_id)
        assert (payment.status, payment.provider_ref) == (states.PAID, fake.trades[ref].trade_no)


def test_eight_simultaneous_deliveries_record_one_payment(ali_app, fake):
    payment_id, ref = _start(ali_app, fake)
    captured = []
    fake.deliver = lambda url, body, headers: captured.append((body, headers)) or 0
    fake.pay(ref)
    body, headers = captured[0]
    count = 8
    barrier = threading.Barrier(count)
    answers = [None] * count

    def deliver(i):
        client = ali_app.test_client()
        barrier.wait()
        answers[i] = client.post("/finance/callback/alipay", data=body, headers=headers)

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert [(a.status_code, a.get_data()) for a in answers] == [(200, b"success")] * count
    with ali_app.app_context():
        assert db.session.get(Payment, payment_id).status == states.PAID
        assert db.session.query(AuditLog).filter_by(object_type="payment", object_id=str(payment_id),
                                                    action="callback").count() == 1


def test_a_notification_for_another_amount_or_unsigned_is_answered_fail(ali_app, fake):
    payment_id, ref = _start(ali_app, fake)
    assert fake.pay(ref, amount="45.59") == 400 and fake.answers[-1].get_data() == b"fail"
    unsigned = ali_app.test_client().post("/finance/callback/alipay", data=urlencode(
        {"out_trade_no": ref, "trade_status": "TRADE_SUCCESS", "total_amount": "45.60", "trade_no": "1"}),
        content_type="application/x-www-form-urlencoded")
    assert unsigned.status_code == 400 and unsigned.get_data() == b"fail"
    with ali_app.app_context():
        assert db.session.get(Payment, payment_id).status == states.PENDING


def test_the_schedule_settles_a_lost_notification_and_closes_an_expired_payment(ali_app, fake):
    paid_id, paid_ref = _start(ali_app, fake)
    old_id, old_ref = _start(ali_app, fake)
    fake.pay(paid_ref, notify=False)
    with ali_app.app_context():
        for payment_id, minutes in ((paid_id, 10), (old_id, 600)):
            created = db.session.get(Payment, payment_id).created_at
            db.session.execute(update(Payment).where(Payment.id == payment_id)
                               .values(created_at=created - timedelta(minutes=minutes)))
        db.session.commit()
        assert jobs.settle_pending() == 2
        assert db.session.get(Payment, paid_id).status == states.PAID
        assert db.session.get(Payment, old_id).status == states.FAILED
    assert fake.trades[old_ref].status == "TRADE_CLOSED"


def test_a_refund_goes_through_alipay_with_its_request_number(ali_app, fake):
    payment_id, ref = _start(ali_app, fake)
    fake.pay(ref)
    with ali_app.test_request_context(method="POST"):
        payment = db.session.get(Payment, payment_id)
        refund = services.request_refund(payment, "5.60", "Damaged")
        services.approve_refund(refund)
        db.session.commit()
        refund_id = refund.id
    with ali_app.app_context():
        refund = db.session.get(Refund, refund_id)
        assert refund.status == states.REFUNDED
        assert fake.trades[ref].refunds == {services.refund_ref(refund): "5.60"}
        # The same refund sent again (a retried job) moves no money twice.
        again = services.get_adapter("alipay").refund(services.adapter_refund_request(refund, refund.payment))
        assert again.status == "refunded" and again.message == "N"
