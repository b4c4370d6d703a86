"""The payment adapter contract kit: the same tests for every payment adapter.

Use it in your own package's test suite::

    from plugins.finance.testing import PaymentAdapterContract
    from acme_pay import AcmePayAdapter

    class TestAcmePay(PaymentAdapterContract):
        adapter_class = AcmePayAdapter
        settings = {"secret": "test-secret", "merchant_id": "M-1"}

pytest collects the inherited ``test_*`` methods. Manual methods (``online = False``) are
checked for immediate, reference-aware recording; online ones must also implement the test
support methods ``sign_test_callback`` (a callback as the provider sends it) and
``sign_test_callback_body`` (the headers of a correctly signed callback of any body), so the kit
can prove that genuine callbacks verify, tampered ones do not, and signed but unreadable ones
reach the body checks (``CallbackMalformed``). The kit fails, naming the method, when one is
missing or when the adapter rejects the signature of a callback it signed itself. The kit needs
no database and no Flask application: adapters must not either.

Adapters that sign inside the body (``signature_in_body``, e.g. Alipay's ``sign`` field) override
``sign_test_callback_raw`` and ``graft_test_signature`` so the kit can sign, strip and swap their
signatures too. Adapters that call a provider over the network are tested against a local fake
server: override the ``adapter`` fixture to point the adapter's base URL at it. An adapter with
``currencies`` must refuse the others with an ``AdapterError``.
"""

from __future__ import annotations

import re

import pytest

from .adapters import (
    AdapterError,
    CallbackAnswer,
    CallbackData,
    CallbackMalformed,
    CallbackRejected,
    ConfirmResult,
    PaymentAdapter,
    PaymentRequest,
    RefundRequest,
    RefundResult,
    StartResult,
)

REFUND_STATUSES = {"refunded", "pending", "failed"}


class PaymentAdapterContract:
    """Subclass with ``adapter_class`` (and ``settings`` when the adapter needs some)."""

    adapter_class: type[PaymentAdapter] | None = None
    settings: dict = {}

    # ------------------------------------------------------------------ helpers

    @pytest.fixture
    def adapter(self) -> PaymentAdapter:
        assert self.adapter_class is not None, "set adapter_class on your contract test class"
        return self.adapter_class(dict(self.settings))

    @staticmethod
    def payment(**changes) -> PaymentRequest:
        """A payment request of 123.45 CNY for the kit's cases, with ``changes`` applied."""
        values = dict(merchant_ref="PAY-000042", order_number="SO-2026-000007", amount_minor=12345,
                      currency="CNY", description="Order SO-2026-000007", reference="REF-123",
                      return_url="https://shop.example/finance/orders/7",
                      callback_url="https://shop.example/finance/callback/x", site_url="https://shop.example/")
        values.update(changes)
        return PaymentRequest(**values)

    @staticmethod
    def refund_request(**changes) -> RefundRequest:
        """A refund request of 23.45 CNY for the kit's cases, with ``changes`` applied."""
        values = dict(refund_ref="REF-000009", merchant_ref="PAY-000042", provider_ref="TX-1", amount_minor=2345,
                      currency="CNY", reason="Returned goods", reference="BANK-9", payment_amount_minor=12345)
        values.update(changes)
        return RefundRequest(**values)

    def _online_only(self, adapter):
        if not adapter.online:
            pytest.skip("online adapters only")

    def _manual_only(self, adapter):
        if adapter.online:
            pytest.skip("manual adapters only")

    @staticmethod
    def _require(adapter, method: str, signature: str):
        if getattr(type(adapter), method) is getattr(PaymentAdapter, method):
            pytest.fail(f"{type(adapter).__name__} is online but does not implement {method}{signature}: "
                        "the contract kit needs it to sign its callback cases")

    def callback(self, adapter, payment: PaymentRequest, provider_ref: str, **changes) -> tuple[bytes, dict]:
        """The adapter's ``sign_test_callback`` (fails the test, naming it, when it is missing)."""
        self._require(adapter, "sign_test_callback", "(payment, provider_ref, status='paid', **overrides)")
        return adapter.sign_test_callback(payment, provider_ref, **changes)

    def sign(self, adapter, body: bytes) -> tuple[bytes, dict]:
        """A signed callback carrying ``body``: the adapter's ``sign_test_callback_body(body)`` (or its
        ``sign_test_callback_raw`` when it signs inside the body); fails the test, naming the method,
        when missing."""
        if adapter.signature_in_body:
            self._require(adapter, "sign_test_callback_raw", "(self, body: bytes) -> tuple[bytes, dict]")
            return adapter.sign_test_callback_raw(body)
        self._require(adapter, "sign_test_callback_body", "(self, body: bytes) -> dict[str, str]")
        headers = adapter.sign_test_callback_body(body)
        assert isinstance(headers, dict) and headers, "sign_test_callback_body returns the headers as a dict"
        return body, headers

    @staticmethod
    def tamper(body: bytes) -> bytes:
        """``body`` with its amount changed (or, when the amount is not readable in it, one byte)."""
        for old, new in ((b"12345", b"12346"), (b"123.45", b"123.46")):
            if old in body:
                return body.replace(old, new)
        middle = len(body) // 2
        return body[:middle] + (b"B" if body[middle:middle + 1] == b"A" else b"A") + body[middle + 1:]

    def _refuses_as_malformed(self, adapter, body: bytes, headers: dict):
        name = type(adapter).__name__
        try:
            adapter.verify_callback(body, headers)
        except CallbackMalformed:
            return
        except CallbackRejected as exc:
            pytest.fail(f"{name}.verify_callback rejected a callback it signed itself ({exc}), so its body checks "
                        "were never tested: make sign_test_callback_body(body) sign correctly, and raise "
                        "CallbackMalformed (not plain CallbackRejected) for a signed but unreadable body")
        pytest.fail(f"{name}.verify_callback accepted the unreadable callback {body!r}: raise CallbackMalformed")

    # ------------------------------------------------------------------ what it says about itself

    def test_declares_code_label_and_flags(self, adapter):
        assert issubclass(type(adapter), PaymentAdapter)
        assert re.fullmatch(r"[a-z][a-z0-9_]{1,39}", adapter.code), "code: lowercase letters, digits, _"
        assert str(adapter.label).strip()
        for flag in ("online", "remote", "requires_reference", "refundable", "enabled_by_default"):
            assert isinstance(getattr(adapter, flag), bool), flag

    def test_settings_are_namespaced_under_its_code(self, adapter):
        for field in type(adapter).settings_fields():
            assert field.key.startswith(f"finance.{adapter.code}."), field.key

    # ------------------------------------------------------------------ starting and confirming

    def test_start_answers_paid_or_pending(self, adapter):
        result = adapter.start(self.payment())
        assert isinstance(result, StartResult)
        if adapter.online:
            assert result.status == "pending"
            assert re.match(r"https?://", result.redirect_url) or result.qr_text, \
                "an online method sends the customer somewhere or gives a QR code to scan"
        else:
            assert result.status == "paid"

    @pytest.mark.parametrize("amount", [0, -1])
    def test_start_refuses_amounts_that_are_not_positive(self, adapter, amount):
        with pytest.raises(AdapterError):
            adapter.start(self.payment(amount_minor=amount))

    @pytest.mark.parametrize("currency,amount", [("JPY", 12345), ("KWD", 117675), ("CNY", 1)])
    def test_start_handles_any_currency_exponent(self, adapter, currency, amount):
        if adapter.currencies and currency not in adapter.currencies:
            with pytest.raises(AdapterError):
                adapter.start(self.payment(currency=currency, amount_minor=amount))
            return
        result = adapter.start(self.payment(currency=currency, amount_minor=amount))
        assert result.status in ("paid", "pending")

    def test_is_off_until_configured(self, adapter):
        assert adapter.configured(), "the kit's settings configure the adapter"
        if adapter.required_settings:
            assert not type(adapter)({}).configured()
            assert not adapter.enabled_by_default, "a method needing credentials is off until configured"

    def test_callback_answer_is_an_http_answer(self, adapter):
        for outcome in ("ok", "rejected", "conflict"):
            answer = adapter.callback_answer(outcome, "detail", "PAY-000042", True)
            assert isinstance(answer, CallbackAnswer) and 200 <= answer.status < 600
            assert isinstance(answer.body, bytes) and answer.content_type
            assert (answer.status < 300) == (outcome == "ok"), outcome

    def test_manual_recording_honours_the_reference_rule(self, adapter):
        self._manual_only(adapter)
        assert adapter.confirm(self.payment(), {"reference": "REF-1"}).status == "paid"
        if adapter.requires_reference:
            with pytest.raises(AdapterError):
                adapter.start(self.payment(reference=""))
            with pytest.raises(AdapterError):
                adapter.confirm(self.payment(reference=""), {"reference": "  "})
        else:
            assert adapter.start(self.payment(reference="")).status == "paid"

    def test_manual_methods_accept_no_callbacks(self, adapter):
        self._manual_only(adapter)
        with pytest.raises(CallbackRejected):
            adapter.verify_callback(b'{"status": "paid"}', {})

    # ------------------------------------------------------------------ callbacks (online)

    def test_a_genuine_callback_verifies(self, adapter):
        self._online_only(adapter)
        payment = self.payment()
        body, headers = self.callback(adapter, payment, "TX-100")
        data = adapter.verify_callback(body, headers)
        assert isinstance(data, CallbackData)
        assert (data.merchant_ref, data.provider_ref, data.order_number, data.amount_minor, data.currency,
                data.status) == (payment.merchant_ref, "TX-100", payment.order_number, payment.amount_minor,
                                 payment.currency, "paid")
        confirmed = adapter.confirm(payment, data)
        assert isinstance(confirmed, ConfirmResult) and confirmed.status == "paid"

    def test_a_declined_callback_says_failed(self, adapter):
        self._online_only(adapter)
        body, headers = self.callback(adapter, self.payment(), "TX-101", status="failed")
        assert adapter.verify_callback(body, headers).status == "failed"

    def test_headers_are_matched_case_insensitively(self, adapter):
        self._online_only(adapter)
        body, headers = self.callback(adapter, self.payment(), "TX-102")
        assert adapter.verify_callback(body, {k.lower(): v for k, v in headers.items()}).provider_ref == "TX-102"

    def test_a_tampered_body_is_rejected(self, adapter):
        self._online_only(adapter)
        body, headers = self.callback(adapter, self.payment(), "TX-103")
        tampered = self.tamper(body)
        assert tampered != body
        with pytest.raises(CallbackRejected):
            adapter.verify_callback(tampered, headers)

    def test_a_missing_or_wrong_signature_is_rejected(self, adapter):
        self._online_only(adapter)
        body, headers = self.callback(adapter, self.payment(), "TX-104")
        with pytest.raises(CallbackRejected):
            adapter.verify_callback(*adapter.graft_test_signature(body, headers, None))
        if adapter.signature_in_body:
            forged = adapter.graft_test_signature(body, headers, self.callback(adapter, self.payment(), "TX-999"))
            with pytest.raises(CallbackRejected):
                adapter.verify_callback(*forged)
            return
        forged = {k: (v[:-4] + "0000" if v[-4:] != "0000" else v[:-4] + "1111") for k, v in headers.items()}
        with pytest.raises(CallbackRejected):
            adapter.verify_callback(body, forged)

    def test_a_signature_of_another_payment_does_not_fit(self, adapter):
        self._online_only(adapter)
        body_a, headers_a = self.callback(adapter, self.payment(), "TX-105")
        body_b, headers_b = self.callback(adapter, self.payment(amount_minor=99), "TX-105")
        with pytest.raises(CallbackRejected):
            adapter.verify_callback(*adapter.graft_test_signature(body_b, headers_b, (body_a, headers_a)))

    def test_a_malformed_but_signed_callback_is_rejected(self, adapter):
        self._online_only(adapter)
        body, headers = self.callback(adapter, self.payment(), "TX-106", amount_minor="lots")
        resigned = self.sign(adapter, body)
        self._refuses_as_malformed(adapter, body, headers)
        self._refuses_as_malformed(adapter, *resigned)

    @pytest.mark.parametrize("junk", [b"", b"not json", b"[]", b"\xff\xfe", b'{"status": "paid"}'])
    def test_a_signed_but_unreadable_body_is_malformed(self, adapter, junk):
        self._online_only(adapter)
        self._refuses_as_malformed(adapter, *self.sign(adapter, junk))

    def test_sign_test_callback_body_signs_a_callback_the_adapter_accepts(self, adapter):
        self._online_only(adapter)
        body, _headers = self.callback(adapter, self.payment(), "TX-108")
        try:
            data = adapter.verify_callback(*self.sign(adapter, body))
        except CallbackRejected as exc:
            pytest.fail(f"{type(adapter).__name__}.verify_callback rejected a callback signed by its own "
                        f"sign_test_callback_body: {exc}")
        assert data.provider_ref == "TX-108"

    def test_confirm_refuses_a_callback_for_another_amount(self, adapter):
        self._online_only(adapter)
        body, headers = self.callback(adapter, self.payment(), "TX-107")
        data = adapter.verify_callback(body, headers)
        try:
            result = adapter.confirm(self.payment(amount_minor=1), data)
        except AdapterError:
            return
        assert result.status != "paid"

    # ------------------------------------------------------------------ refunds

    def test_refund_answers_a_known_status(self, adapter):
        if not adapter.refundable:
            pytest.skip("not refundable")
        result = adapter.refund(self.refund_request())
        assert isinstance(result, RefundResult)
        assert result.status in REFUND_STATUSES

    def test_refund_refuses_amounts_that_are_not_positive(self, adapter):
        if not adapter.refundable:
            pytest.skip("not refundable")
        with pytest.raises(AdapterError):
            adapter.refund(self.refund_request(amount_minor=0))


# ----------------------------------------------------------------------------- order builders

# Builders of paid and refunded orders for tests of finance and of the plugins that use it. They
# go through the real services (every hook fires), inside an app or request context of an app with
# orders and finance enabled. ``lines`` and the other keywords are those of
# ``plugins.orders.testing.make_order``.


def make_paid_order(lines=((1, "100.00"),), *, method: str = "cash", amount=None, status: str = "confirmed",
                    reference: str = "TEST", commit: bool = True, **order_kw):
    """An order paid by the manual ``method`` -> ``(order, payment)``.

    The order is confirmed, ``amount`` (text as typed or minor units; the order's total by
    default) recorded with ``services.record_payment``, then the order moves on to ``status``
    (``shipped``, ``delivered``, ``completed``) by the ordinary transitions, so "payment before
    shipping" holds. Commits unless ``commit=False``.
    """
    from erp_core.extensions import db
    from plugins.orders.public import states as order_states
    from plugins.orders.testing import advance, make_order

    from . import services

    order = make_order(lines, status=order_states.CONFIRMED, commit=False, **order_kw)
    payment = services.record_payment(order, method, order.total_minor if amount is None else amount,
                                      reference=reference)
    advance(order, status)
    if commit:
        db.session.commit()
    return order, payment


def make_refunded_order(lines=((1, "100.00"),), *, refund=None, reason: str = "Test refund", method: str = "cash",
                        status: str = "confirmed", commit: bool = True, **order_kw):
    """A paid order (see :func:`make_paid_order`) with ``refund`` (text or minor units; the whole
    payment by default) requested and paid out -> ``(order, payment, refund)``; the refund is
    ``refunded`` for local methods (cash, bank transfer)."""
    from erp_core.extensions import db

    from . import services

    order, payment = make_paid_order(lines, method=method, status=status, commit=False, **order_kw)
    made = services.request_refund(payment, payment.amount_minor if refund is None else refund, reason)
    services.approve_refund(made)
    if commit:
        db.session.commit()
    return order, payment, made
