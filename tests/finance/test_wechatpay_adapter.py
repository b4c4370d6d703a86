"""WeChat Pay API v3 adapter: the contract kit against the local fake, and the signing rules."""

from __future__ import annotations

import json
import time

import pytest

from plugins.finance.adapters import AdapterError, CallbackMalformed, CallbackRejected, RefundNotice
from plugins.finance.providers._http import public_key, rsa_verify
from plugins.finance.providers.wechatpay import WeChatPayAdapter, encrypt_resource, sign_message
from plugins.finance.testing import PaymentAdapterContract
from tests.finance import wechat_fake
from tests.finance.wechat_fake import FakeWeChatPay, adapter_settings


@pytest.fixture
def fake():
    server = FakeWeChatPay().start()
    yield server
    server.stop()


class TestWeChatPayContract(PaymentAdapterContract):
    adapter_class = WeChatPayAdapter

    @pytest.fixture
    def adapter(self, fake):
        adapter = WeChatPayAdapter(adapter_settings(fake.url, "https://shop.example/finance/callback/wechatpay"))
        # The kit refunds its transaction TX-1: the fake must know it, paid.
        fake.orders["PAY-KIT"] = wechat_fake.FakeOrder("PAY-KIT", 12345, "CNY", "SO-2026-000007",
                                                          "https://shop.example/x", "SUCCESS", "TX-1")
        return adapter


def test_the_authorization_header_is_signed_as_documented():
    adapter = WeChatPayAdapter(adapter_settings())
    header = adapter.authorization("GET", "/v3/certificates", b"", "1554208460", "593BEC0C930BF1AFEB40B4A08C8FB242")
    assert header.startswith('WECHATPAY2-SHA256-RSA2048 mchid="1900009191",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",')
    assert 'timestamp="1554208460",serial_no="5157F09EFDC096DE15EBE81A47057A7232F1B8E1"' in header
    signature = header.split('signature="')[1].split('"')[0]
    # The documentation's signing string for this request (签名生成, step 2).
    message = b"GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n"
    assert rsa_verify(public_key(wechat_fake.merchant_keys()[1]), message, signature)
    assert not rsa_verify(public_key(wechat_fake.merchant_keys()[1]), message.replace(b"GET", b"PUT"), signature)


def test_start_asks_for_a_code_url_with_a_signed_request(fake):
    adapter = WeChatPayAdapter(adapter_settings(fake.url))
    result = adapter.start(TestWeChatPayContract.payment(merchant_ref="PAY-000501"))
    assert result.status == "pending" and result.qr_text.startswith("weixin://wxpay/bizpayurl?pr=")
    order = fake.orders["PAY-000501"]
    assert (order.total, order.currency, order.attach, order.notify_url) == \
        (12345, "CNY", "SO-2026-000007", "https://shop.example/finance/callback/x")


def test_a_request_signed_with_another_key_is_refused_by_the_provider(fake):
    settings = adapter_settings(fake.url)
    settings["private_key"] = wechat_fake.platform_keys()[0]  # not the merchant's key
    with pytest.raises(AdapterError, match="SIGN_ERROR"):
        WeChatPayAdapter(settings).start(TestWeChatPayContract.payment())
    assert "PAY-000042" not in fake.orders


def test_an_answer_not_signed_by_wechat_pay_is_not_believed(fake, monkeypatch):
    settings = adapter_settings(fake.url)
    settings["platform_key"] = wechat_fake.merchant_keys()[1]  # answers verified with the wrong key
    with pytest.raises(AdapterError, match="not signed by WeChat Pay"):
        WeChatPayAdapter(settings).start(TestWeChatPayContract.payment())


def test_query_close_and_connection_test(fake):
    adapter = WeChatPayAdapter(adapter_settings(fake.url))
    payment = TestWeChatPayContract.payment(merchant_ref="PAY-000502")
    assert adapter.query(payment).status == "unknown"
    adapter.start(payment)
    assert adapter.query(payment).status == "pending"
    fake.scan_and_pay("PAY-000502", notify=False)
    paid = adapter.query(payment)
    assert paid.status == "paid" and paid.data.amount_minor == 12345 and paid.data.order_number == "SO-2026-000007"
    with pytest.raises(AdapterError, match="ORDERPAID"):
        adapter.close(payment)
    other = TestWeChatPayContract.payment(merchant_ref="PAY-000503")
    adapter.start(other)
    adapter.close(other)
    assert adapter.query(other).status == "failed"
    assert "ORDER_NOT_EXIST" in adapter.test_connection()
    wrong = adapter_settings(fake.url)
    wrong["serial_no"] = "0000"
    with pytest.raises(AdapterError, match="SIGN_ERROR"):
        WeChatPayAdapter(wrong).test_connection()


def test_off_until_configured_and_cny_only():
    assert not WeChatPayAdapter({}).configured()
    with pytest.raises(AdapterError, match="CNY"):
        WeChatPayAdapter(adapter_settings()).start(TestWeChatPayContract.payment(currency="USD"))


def _notification(plaintext: dict, event_type="TRANSACTION.SUCCESS", key=wechat_fake.APIV3_KEY, age=0):
    resource = encrypt_resource(key, json.dumps(plaintext).encode(), "transaction", "transaction")
    body = json.dumps({"id": "EV-1", "event_type": event_type, "resource_type": "encrypt-resource",
                       "resource": resource}).encode()
    timestamp, nonce = str(int(time.time()) - age), "n0nce"
    return body, {"Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": nonce,
                  "Wechatpay-Serial": wechat_fake.PLATFORM_SERIAL,
                  "Wechatpay-Signature": sign_message(wechat_fake.platform_keys()[0], timestamp, nonce, body)}


def test_notifications_are_checked_for_age_serial_key_and_merchant():
    adapter = WeChatPayAdapter(adapter_settings())
    transaction = adapter.transaction(TestWeChatPayContract.payment(), "4200001")
    assert adapter.verify_callback(*_notification(transaction)).provider_ref == "4200001"
    with pytest.raises(CallbackRejected, match="too old"):
        adapter.verify_callback(*_notification(transaction, age=3600))
    body, headers = _notification(transaction)
    with pytest.raises(CallbackRejected, match="does not know"):
        adapter.verify_callback(body, {**headers, "Wechatpay-Serial": "PUB_KEY_ID_OTHER"})
    with pytest.raises(CallbackMalformed, match="APIv3"):
        adapter.verify_callback(*_notification(transaction, key="0" * 32))
    with pytest.raises(CallbackMalformed):
        adapter.verify_callback(*_notification({**transaction, "mchid": "1111111111"}))


def test_a_refund_notification_is_read_as_a_refund_notice():
    adapter = WeChatPayAdapter(adapter_settings())
    notice = adapter.verify_callback(*_notification(
        {"mchid": wechat_fake.MCHID, "out_trade_no": "PAY-000042", "transaction_id": "42", "out_refund_no": "REF-000009",
         "refund_id": "5000", "refund_status": "SUCCESS", "amount": {"total": 12345, "refund": 2345}},
        event_type="REFUND.SUCCESS"))
    assert isinstance(notice, RefundNotice)
    assert (notice.refund_ref, notice.amount_minor, notice.status) == ("REF-000009", 2345, "refunded")


def test_callback_answers_are_what_wechat_pay_expects():
    adapter = WeChatPayAdapter(adapter_settings())
    assert adapter.callback_answer("ok").status == 204
    failed = adapter.callback_answer("rejected", "bad signature")
    assert failed.status == 400 and json.loads(failed.body) == {"code": "FAIL", "message": "bad signature"}
