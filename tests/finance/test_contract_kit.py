"""The payment contract kit cannot pass without testing: it signs callbacks with the adapter's own
``sign_test_callback_body``, whatever the signature scheme, and fails loudly when it cannot."""

import hashlib
import hmac
import json

import pytest

from plugins.finance.adapters import (
    AdapterError,
    CallbackData,
    CallbackMalformed,
    CallbackRejected,
    ConfirmResult,
    PaymentAdapter,
    RefundResult,
    StartResult,
)
from plugins.finance.testing import PaymentAdapterContract


class StripeStylePay(PaymentAdapter):
    """Signs like Stripe (``X-Sig: t=<time>,v1=<hex of "t.body">``), not ``sha256=<hex>``."""

    code = "stripe_style"
    label = "Stripe-style pay"
    online = True

    def _mac(self, stamp: str, body: bytes) -> str:
        return hmac.new(self.settings["secret"].encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()

    def start(self, payment):
        if payment.amount_minor <= 0:
            raise AdapterError("The amount must be more than zero.")
        return StartResult(status="pending", redirect_url="https://pay.example/" + payment.merchant_ref)

    def confirm(self, payment, evidence):
        if not isinstance(evidence, CallbackData) or evidence.amount_minor != payment.amount_minor:
            return ConfirmResult(status="pending")
        return ConfirmResult(status=evidence.status, provider_ref=evidence.provider_ref)

    def refund(self, refund):
        if refund.amount_minor <= 0:
            raise AdapterError("The amount must be more than zero.")
        return RefundResult(status="refunded")

    def _check_signature(self, body, headers):
        value = next((str(v) for k, v in headers.items() if k.lower() == "x-sig"), "")
        parts = dict(p.split("=", 1) for p in value.split(",") if "=" in p)
        if not hmac.compare_digest(self._mac(parts.get("t", ""), body), parts.get("v1", "")):
            raise CallbackRejected("bad X-Sig")

    def _read(self, body):
        data = json.loads(body.decode())
        if not isinstance(data["amount_minor"], int) or data["status"] not in ("paid", "failed"):
            raise ValueError("amount or status")
        return CallbackData(str(data["merchant_ref"]), str(data["transaction_id"]), str(data["order"]),
                            data["amount_minor"], str(data["currency"]), data["status"])

    def verify_callback(self, body, headers):
        self._check_signature(body, headers)
        try:
            return self._read(body)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise CallbackMalformed("The callback is malformed.") from None

    def sign_test_callback_body(self, body):
        return {"X-Sig": f"t=1767225600,v1={self._mac('1767225600', body)}"}

    def sign_test_callback(self, payment, provider_ref, status="paid", **overrides):
        payload = {"merchant_ref": payment.merchant_ref, "transaction_id": provider_ref, "order": payment.order_number,
                   "amount_minor": payment.amount_minor, "currency": payment.currency, "status": status, **overrides}
        body = json.dumps(payload, sort_keys=True).encode()
        return body, self.sign_test_callback_body(body)


class BrokenParsing(StripeStylePay):
    """Reads what it can of a signed body and makes up the rest instead of refusing it."""

    def verify_callback(self, body, headers):
        self._check_signature(body, headers)
        try:
            return self._read(body)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return CallbackData("?", "?", "?", 1, "CNY", "paid")


class WithoutBodySigning(BrokenParsing):
    sign_test_callback_body = PaymentAdapter.sign_test_callback_body

    def sign_test_callback(self, payment, provider_ref, status="paid", **overrides):
        payload = {"merchant_ref": payment.merchant_ref, "transaction_id": provider_ref, "order": payment.order_number,
                   "amount_minor": payment.amount_minor, "currency": payment.currency, "status": status, **overrides}
        body = json.dumps(payload, sort_keys=True).encode()
        return body, {"X-Sig": f"t=1,v1={self._mac('1', body)}"}


class PlainRejection(StripeStylePay):
    """Refuses an unreadable body, but as if its signature were wrong: the kit cannot tell."""

    def verify_callback(self, body, headers):
        try:
            return super().verify_callback(body, headers)
        except CallbackMalformed:
            raise CallbackRejected("The callback is malformed.") from None


class WrongBodySigning(StripeStylePay):
    def sign_test_callback_body(self, body):
        return {"X-Sig": "sha256=" + hmac.new(b"secret", body, hashlib.sha256).hexdigest()}


SETTINGS = {"secret": "kit-secret"}


class TestStripeStylePay(PaymentAdapterContract):
    """A correct adapter with another signature scheme passes the whole kit."""

    adapter_class = StripeStylePay
    settings = SETTINGS


@pytest.mark.parametrize("junk", [b"", b"not json", b"[]", b'{"status": "paid"}'])
def test_broken_body_parsing_fails_the_kit_whatever_the_signature_scheme(junk):
    kit = PaymentAdapterContract()
    with pytest.raises(pytest.fail.Exception, match="accepted the unreadable callback"):
        kit.test_a_signed_but_unreadable_body_is_malformed(BrokenParsing(SETTINGS), junk)
    kit.test_a_signed_but_unreadable_body_is_malformed(StripeStylePay(SETTINGS), junk)  # the sound one passes


def test_broken_parsing_of_a_signed_callback_with_a_bad_field_fails_the_kit():
    with pytest.raises(pytest.fail.Exception, match="accepted the unreadable callback"):
        PaymentAdapterContract().test_a_malformed_but_signed_callback_is_rejected(BrokenParsing(SETTINGS))


@pytest.mark.parametrize("case", ["test_a_signed_but_unreadable_body_is_malformed",
                                  "test_sign_test_callback_body_signs_a_callback_the_adapter_accepts",
                                  "test_a_malformed_but_signed_callback_is_rejected"])
def test_an_online_adapter_without_body_signing_fails_naming_the_method(case):
    arguments = (b"not json",) if case.endswith("is_malformed") else ()
    with pytest.raises(pytest.fail.Exception, match=r"does not implement sign_test_callback_body\(self, body"):
        getattr(PaymentAdapterContract(), case)(WithoutBodySigning(SETTINGS), *arguments)


def test_an_online_adapter_without_test_callbacks_fails_naming_the_method():
    class NoTestSupport(StripeStylePay):
        sign_test_callback = PaymentAdapter.sign_test_callback

    with pytest.raises(pytest.fail.Exception, match=r"does not implement sign_test_callback\(payment"):
        PaymentAdapterContract().test_a_genuine_callback_verifies(NoTestSupport(SETTINGS))


def test_a_rejection_the_kit_cannot_tell_from_a_bad_signature_fails_it():
    with pytest.raises(pytest.fail.Exception, match="raise CallbackMalformed"):
        PaymentAdapterContract().test_a_signed_but_unreadable_body_is_malformed(PlainRejection(SETTINGS), b"not json")


def test_body_signing_that_its_own_verification_rejects_fails_the_kit():
    kit = PaymentAdapterContract()
    with pytest.raises(pytest.fail.Exception, match="rejected a callback it signed itself"):
        kit.test_a_signed_but_unreadable_body_is_malformed(WrongBodySigning(SETTINGS), b"not json")
    with pytest.raises(pytest.fail.Exception, match="rejected a callback signed by its own sign_test_callback_body"):
        kit.test_sign_test_callback_body_signs_a_callback_the_adapter_accepts(WrongBodySigning(SETTINGS))


def test_malformed_is_still_a_rejection_for_finance():
    assert issubclass(CallbackMalformed, CallbackRejected)
