"""Payment adapters: one small class per payment method, behind one interface.

Finance lists the adapters every enabled plugin returns from ``erp_payment_adapters`` (its own
three built-ins included); the site switches each method on or off in the settings. An adapter
is a plain class with no database access and no Flask dependency, built with its settings, so
the contract kit (:mod:`plugins.finance.testing`) can run the same tests against every one.

The life of a payment, as finance drives it:

* ``start(payment)``: begin collecting. A *manual* method (cash, bank transfer) answers
  ``StartResult(status="paid")``: the money is in hand, the clerk is recording it. An *online*
  method answers ``StartResult(status="pending", redirect_url=...)``: the customer pays on the
  provider's page and the payment waits for the provider's callback.
* ``verify_callback(body, headers)``: check a provider's notification (signature in constant
  time, well-formed fields) and return what it says as :class:`CallbackData`; raise
  :class:`CallbackRejected` for a missing or wrong signature and :class:`CallbackMalformed` for a
  correctly signed but unreadable body. Finance then checks amount, currency and order against the
  pending payment and records it once, however often the callback arrives.
* ``confirm(payment, evidence)``: decide whether a payment is paid, given the clerk's entry for
  manual methods (``{"reference": ...}``) or the verified callback data for online ones.
* ``refund(refund)``: give money back. Answers ``RefundResult(status="refunded" | "pending" |
  "failed")``. Adapters with ``remote = True`` talk to a provider over the network: finance then
  calls ``refund`` from a background job after the transaction commits, never inside it.

What an online adapter may add (flags say which, so pages show only the actions it supports):

* ``StartResult.qr_text``: instead of (or beside) a ``redirect_url``, the text of a QR code the
  customer scans with the provider's app (WeChat Pay Native's ``code_url``). Finance keeps it on the
  payment and draws it on the order's payment page and the customer's order page.
* ``callback_answer(outcome, detail)``: the HTTP answer the provider expects to a notification
  (Alipay wants the plain text ``success``; WeChat Pay wants 204, or a JSON ``{"code": "FAIL"}``
  with a 4xx/5xx). The default keeps finance's JSON answer.
* ``supports_query``: ``query(payment)`` asks the provider about a pending payment whose
  notification never came, and ``close(payment)`` withdraws it there. The scheduled job
  ``finance.settle_pending`` calls them outside any transaction, and records a "paid" answer on the
  same path as a callback (amount checked, recorded once).
* ``supports_test_connection``: ``test_connection()`` makes one harmless signed request and returns
  the provider's answer, for the "test the connection" button of the payment-method page.
* ``currencies``: the ISO codes the provider takes (empty: any); ``required_settings``: the
  settings without which the method stays off however it is switched ("off until configured").

Amounts are integer minor units with an ISO 4217 currency, as everywhere in the ERP.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _pl

from erp_core.contrib import SettingField

__all__ = [
    "AdapterError", "CallbackData", "CallbackMalformed", "CallbackRejected", "ConfirmResult", "PaymentAdapter",
    "PaymentRequest", "RefundRequest", "RefundResult", "StartResult",
]


class AdapterError(Exception):
    """The adapter refuses an operation; ``str()`` is a message for the user."""


class CallbackRejected(AdapterError):
    """A provider callback is not authentic or not well-formed; nothing is recorded."""


class CallbackMalformed(CallbackRejected):
    """A correctly signed callback whose body cannot be read (a :class:`CallbackRejected`, so
    finance answers it the same way; the contract kit tells it from a bad signature)."""


@dataclass(frozen=True)
class PaymentRequest:
    """What finance tells an adapter about a payment."""

    merchant_ref: str  # this site's reference of the payment, e.g. "PAY-000123"
    order_number: str
    amount_minor: int
    currency: str
    description: str = ""
    reference: str = ""  # what the clerk typed (bank transfer reference, receipt number)
    return_url: str = ""  # where the provider sends the customer back
    callback_url: str = ""  # where the provider posts its notification
    site_url: str = ""  # the site's root URL, e.g. "https://erp.example.com/"


@dataclass(frozen=True)
class StartResult:
    """The answer to :meth:`PaymentAdapter.start`."""

    status: str  # "paid" (manual methods) or "pending" (online: wait for the callback)
    redirect_url: str = ""  # online methods: the provider's page to send the customer to
    provider_ref: str | None = None  # the provider's id of the transaction, when known already
    message: str = ""  # shown to the clerk
    qr_text: str = ""  # text of a QR code the customer scans to pay (e.g. WeChat Pay's code_url)


@dataclass(frozen=True)
class ConfirmResult:
    """The answer to :meth:`PaymentAdapter.confirm`."""

    status: str  # "paid", "pending" or "failed"
    provider_ref: str | None = None  # the provider's id of the transaction
    message: str = ""  # why, when failed


@dataclass(frozen=True)
class CallbackData:
    """A verified provider notification."""

    merchant_ref: str  # PaymentRequest.merchant_ref of the payment it is about
    provider_ref: str  # the provider's id of the transaction
    order_number: str
    amount_minor: int  # what the provider collected, in minor units
    currency: str  # ISO 4217
    status: str  # "paid" or "failed"
    raw: Mapping[str, Any] = field(default_factory=dict)  # the parsed payload, kept for the audit


@dataclass(frozen=True)
class QueryResult:
    """What the provider says of a pending payment (``PaymentAdapter.query``)."""

    status: str  # "paid" (then ``data`` says what was paid), "pending", "failed" (closed, expired) or "unknown"
    data: CallbackData | None = None
    message: str = ""


@dataclass(frozen=True)
class CallbackAnswer:
    """The HTTP answer to a provider's notification."""

    status: int
    body: bytes
    content_type: str


@dataclass(frozen=True)
class RefundRequest:
    """What finance tells an adapter about a refund to pay out (see :meth:`PaymentAdapter.refund`)."""

    refund_ref: str  # this site's reference of the refund, e.g. "REF-000045"
    merchant_ref: str  # the payment being refunded
    provider_ref: str | None  # the provider's transaction of that payment
    amount_minor: int
    currency: str
    reason: str
    reference: str = ""  # what the clerk typed (e.g. the bank transfer of the refund)
    payment_amount_minor: int = 0  # the whole payment's amount (WeChat Pay asks for it)


@dataclass(frozen=True)
class RefundNotice:
    """A verified provider notification about a refund (``verify_callback`` may return one
    instead of :class:`CallbackData`); finance checks it against the refund sent and records it once."""

    refund_ref: str  # this site's reference of the refund, e.g. "REF-000045"
    merchant_ref: str  # the payment refunded
    provider_ref: str  # the provider's id of the refund
    amount_minor: int
    status: str  # "refunded" or "failed"
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundResult:
    """The answer to :meth:`PaymentAdapter.refund`.

    The refund's own statuses (``plugins.finance.states``): ``requested`` (created, waiting for
    approval or for the provider), ``refunded`` (paid out: ``erp_refund_recorded`` and orders'
    ``erp_order_money_returned`` fire) and ``rejected`` (its amount becomes refundable again).
    An adapter answering ``pending`` leaves the refund ``requested`` until the provider confirms;
    ``failed`` refuses the approval with ``message``.
    """

    status: str  # "refunded", "pending" (the provider confirms later) or "failed"
    provider_ref: str | None = None  # the provider's id of the refund
    message: str = ""  # why, when failed or pending


class PaymentAdapter:
    """Base class of payment methods. Subclass it and return the class from
    ``erp_payment_adapters``; run :class:`plugins.finance.testing.PaymentAdapterContract`
    against it in your own test suite."""

    code: str = ""  # unique, lowercase, e.g. "acme_pay"; stored on every payment
    label: Any = ""  # shown to users (may be a lazy translation)
    online: bool = False  # the customer pays on the provider's page; a callback confirms it
    remote: bool = False  # talks to a provider over the network (refunds then run as jobs)
    requires_reference: bool = False  # the clerk must type a reference when recording
    refundable: bool = True
    enabled_by_default: bool = False
    currencies: tuple[str, ...] = ()  # ISO codes the provider takes; empty: any
    required_settings: tuple[str, ...] = ()  # settings (names after "finance.<code>.") it cannot work without
    supports_query: bool = False  # query() and close() ask the provider about a pending payment
    supports_test_connection: bool = False  # test_connection() reports the provider's answer
    signature_in_body: bool = False  # the provider signs fields of the body (Alipay), not in a header

    def __init__(self, settings: Mapping[str, Any] | None = None):
        """Built per use with ``settings``: the values of the fields :meth:`settings_fields`
        declares, keyed by the part of the key after ``finance.<code>.`` (``{"secret": ...}``)."""
        self.settings = dict(settings or {})

    @classmethod
    def settings_fields(cls) -> list[SettingField]:
        """Extra site settings this method needs, keyed ``finance.<code>.<name>``."""
        return []

    def start(self, payment: PaymentRequest) -> StartResult:
        """Begin collecting ``payment``: ``paid`` at once (manual methods), or ``pending`` with the
        provider's ``redirect_url`` (online). Raise :class:`AdapterError` to refuse (e.g. an
        amount that is not positive)."""
        raise NotImplementedError

    def confirm(self, payment: PaymentRequest, evidence: Mapping[str, Any]) -> ConfirmResult:
        """Decide whether ``payment`` is paid from ``evidence``: the clerk's entry
        (``{"reference": ...}``) for manual methods, the verified :class:`CallbackData` for online
        ones. Raise :class:`AdapterError` to refuse (a missing reference, a callback that does not
        match the payment)."""
        raise NotImplementedError

    def refund(self, refund: RefundRequest) -> RefundResult:
        """Pay ``refund`` back: ``refunded``, ``pending`` (the provider confirms later) or
        ``failed``. Called inside the approving transaction for local methods, from a job after
        commit when ``remote`` is true. Raise :class:`AdapterError` to refuse."""
        raise NotImplementedError

    def verify_callback(self, body: bytes, headers: Mapping[str, str]) -> CallbackData:
        """Online methods: check a provider notification posted to ``/finance/callback/<code>``
        (``body`` the raw bytes as received; match header names case-insensitively) and return
        what it says. Raise :class:`CallbackRejected` for a missing or wrong signature (compare
        in constant time) and :class:`CallbackMalformed` for a correctly signed but unreadable
        body. The default refuses every callback (manual methods)."""
        raise CallbackRejected(_l("This payment method does not accept callbacks."))

    def configured(self) -> bool:
        """True when every one of ``required_settings`` has a value."""
        return all(str(self.settings.get(name) or "").strip() for name in self.required_settings)

    def check_currency(self, currency: str) -> None:
        """Raise :class:`AdapterError` when the provider does not take ``currency``."""
        if self.currencies and currency not in self.currencies:
            raise AdapterError(_l("%(method)s takes payments in %(currencies)s only.", method=self.label,
                                  currencies=", ".join(self.currencies)))

    def callback_answer(self, outcome: str, detail: str = "", payment_ref: str = "",
                        recorded: bool = False) -> CallbackAnswer:
        """The answer to a notification: ``outcome`` is "ok" (verified; ``recorded`` False for a
        repeat), "rejected" (not authentic, malformed or not matching) or "conflict" (its
        transaction belongs to another payment). Override it with what the provider expects; the
        default answers JSON (200, 400, or 409 problem+json)."""
        if outcome == "ok":
            return CallbackAnswer(200, json.dumps({"status": "ok", "payment": payment_ref,
                                                   "recorded": recorded}).encode(), "application/json")
        if outcome == "conflict":
            return CallbackAnswer(409, json.dumps({"type": "about:blank", "title": "Conflict", "status": 409,
                                                   "detail": detail, "code": "transaction_taken"}).encode(),
                                  "application/problem+json")
        return CallbackAnswer(400, json.dumps({"status": "rejected", "detail": detail}).encode(), "application/json")

    def query(self, payment: PaymentRequest) -> QueryResult:
        """``supports_query`` only: what the provider says of ``payment`` (over the network)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement query")

    def close(self, payment: PaymentRequest) -> None:
        """``supports_query`` only: withdraw the unpaid ``payment`` at the provider, so it can no
        longer be paid; raise :class:`AdapterError` when the provider refuses (e.g. it was paid)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement close")

    def test_connection(self) -> str:
        """``supports_test_connection`` only: one harmless signed request; returns the provider's
        answer in a sentence, raises :class:`AdapterError` with it when the provider refuses."""
        raise NotImplementedError(f"{type(self).__name__} does not implement test_connection")

    def sign_test_callback(self, payment: PaymentRequest, provider_ref: str, status: str = "paid",
                           **overrides) -> tuple[bytes, dict[str, str]]:
        """Online adapters only: a callback as the provider would send it (body, headers), for
        the contract kit and demo data. ``overrides`` replace fields of the payload."""
        raise NotImplementedError(f"{type(self).__name__} does not implement sign_test_callback")

    def sign_test_callback_body(self, body: bytes) -> dict[str, str]:
        """Online adapters only (test support): the headers of a correctly signed callback of ``body``.

        ``body`` is any bytes, also ones that are not a valid callback: the contract kit signs
        unreadable bodies with it to check that :meth:`verify_callback` then raises
        :class:`CallbackMalformed` (the signature passed, the body did not). Sign with this
        adapter's settings, as the provider does, e.g.
        ``{"X-Sig": "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()}``.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement sign_test_callback_body(body)")

    def sign_test_callback_raw(self, body: bytes) -> tuple[bytes, dict[str, str]]:
        """Test support: a correctly signed callback carrying ``body`` as ``(body, headers)``.

        The default signs in the headers (:meth:`sign_test_callback_body`). Adapters with
        ``signature_in_body`` add their signature fields to the body instead."""
        return body, self.sign_test_callback_body(body)

    def graft_test_signature(self, body: bytes, headers: Mapping[str, str],
                             donor: tuple[bytes, Mapping[str, str]] | None) -> tuple[bytes, dict[str, str]]:
        """Test support: the callback ``(body, headers)`` carrying the signature of ``donor`` (another
        callback) instead of its own, or no signature at all when ``donor`` is None."""
        return body, dict(donor[1]) if donor is not None else {}


# ----------------------------------------------------------------------------- manual methods


class _ManualAdapter(PaymentAdapter):
    """Money counted or seen on a statement by a clerk: recorded as paid at once."""

    enabled_by_default = True

    def start(self, payment: PaymentRequest) -> StartResult:
        result = self.confirm(payment, {"reference": payment.reference})
        return StartResult(status=result.status, provider_ref=None)

    def confirm(self, payment: PaymentRequest, evidence: Mapping[str, Any]) -> ConfirmResult:
        if payment.amount_minor <= 0:
            raise AdapterError(_l("The amount must be more than zero."))
        reference = str(evidence.get("reference") or "").strip()
        if self.requires_reference and not reference:
            raise AdapterError(_l("Type the bank transfer's reference."))
        return ConfirmResult(status="paid")

    def refund(self, refund: RefundRequest) -> RefundResult:
        if refund.amount_minor <= 0:
            raise AdapterError(_l("The amount must be more than zero."))
        return RefundResult(status="refunded", provider_ref=None)


class CashAdapter(_ManualAdapter):
    code = "cash"
    label = _pl("finance", "Cash")


class BankTransferAdapter(_ManualAdapter):
    code = "bank_transfer"
    label = _pl("finance", "Bank transfer")
    requires_reference = True


# ----------------------------------------------------------------------------- demo gateway


SIGNATURE_HEADER = "X-Demo-Gateway-Signature"


class DemoGatewayAdapter(PaymentAdapter):
    """An offline, simulated online payment provider with signed callbacks.

    ``start`` sends the customer to a page of this site that plays the provider (its query is
    signed, so the page can trust the amount); paying there posts a JSON callback signed with
    HMAC-SHA256 in the ``X-Demo-Gateway-Signature`` header, exactly as a real provider's server
    would. Used by demo data and tests: off unless the site was made with demo data (the demo
    loader switches it on).
    """

    code = "demo_gateway"
    label = _l("Demo online gateway")
    online = True
    enabled_by_default = False

    @classmethod
    def settings_fields(cls) -> list[SettingField]:
        return [SettingField("finance.demo_gateway.secret", _l("Demo gateway signing secret"), "secret", "",
                             _pl("finance", "Finance"),
                             help=_l("Leave empty to derive one from the site's secret key."))]

    @property
    def _key(self) -> bytes:
        secret = str(self.settings.get("secret") or "")
        if not secret:
            raise AdapterError(_l("The demo gateway has no signing secret."))
        return secret.encode()

    def sign(self, message: bytes) -> str:
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _page_fields(self, payment: PaymentRequest) -> dict[str, str]:
        return {"ref": payment.merchant_ref, "order": payment.order_number, "amount": str(payment.amount_minor),
                "currency": payment.currency, "return": payment.return_url}

    def start(self, payment: PaymentRequest) -> StartResult:
        if payment.amount_minor <= 0:
            raise AdapterError(_l("The amount must be more than zero."))
        fields = self._page_fields(payment)
        fields["sig"] = self.sign(urlencode(sorted(fields.items())).encode())
        page = payment.site_url.rstrip("/") + "/finance/demo-gateway/pay"
        return StartResult(status="pending", redirect_url=f"{page}?{urlencode(fields)}")

    def verify_page(self, query: Mapping[str, str]) -> dict[str, str]:
        """Check the signed query of the simulated payment page; returns its fields."""
        fields = {k: str(query.get(k, "")) for k in ("ref", "order", "amount", "currency", "return")}
        expected = self.sign(urlencode(sorted(fields.items())).encode())
        if not hmac.compare_digest(expected, str(query.get("sig", ""))):
            raise CallbackRejected(_l("This payment link is not valid."))
        return fields

    def confirm(self, payment: PaymentRequest, evidence: Mapping[str, Any]) -> ConfirmResult:
        # Only a verified callback proves a demo payment.
        if not isinstance(evidence, CallbackData):
            return ConfirmResult(status="pending")
        if (evidence.merchant_ref, evidence.amount_minor, evidence.currency) != \
                (payment.merchant_ref, payment.amount_minor, payment.currency):
            raise AdapterError(_l("The callback does not match the payment."))
        return ConfirmResult(status=evidence.status, provider_ref=evidence.provider_ref)

    def refund(self, refund: RefundRequest) -> RefundResult:
        if refund.amount_minor <= 0:
            raise AdapterError(_l("The amount must be more than zero."))
        if not refund.provider_ref:
            raise AdapterError(_l("This payment has no gateway transaction to refund."))
        return RefundResult(status="refunded", provider_ref="DGR-" + secrets.token_hex(6).upper())

    def verify_callback(self, body: bytes, headers: Mapping[str, str]) -> CallbackData:
        header = ""
        for name, value in headers.items():
            if name.lower() == SIGNATURE_HEADER.lower():
                header = str(value)
        given = header.removeprefix("sha256=")
        if not given or not hmac.compare_digest(self.sign(body), given):
            raise CallbackRejected(_l("The callback's signature is not valid."))
        try:
            data = json.loads(body.decode("utf-8"))
            amount = data["amount_minor"]
            if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
                raise ValueError("amount")
            status = data["status"]
            if status not in ("paid", "failed"):
                raise ValueError("status")
            return CallbackData(merchant_ref=str(data["merchant_ref"]), provider_ref=str(data["transaction_id"]),
                                order_number=str(data["order"]), amount_minor=amount,
                                currency=str(data["currency"]), status=status, raw=data)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise CallbackMalformed(_l("The callback is malformed.")) from None

    def sign_test_callback(self, payment: PaymentRequest, provider_ref: str, status: str = "paid",
                           **overrides) -> tuple[bytes, dict[str, str]]:
        payload = {"merchant_ref": payment.merchant_ref, "transaction_id": provider_ref,
                   "order": payment.order_number, "amount_minor": payment.amount_minor,
                   "currency": payment.currency, "status": status}
        payload.update(overrides)
        body = json.dumps(payload, sort_keys=True).encode()
        return body, self.sign_test_callback_body(body)

    def sign_test_callback_body(self, body: bytes) -> dict[str, str]:
        """Headers of a callback of ``body`` signed as the demo gateway does (``sha256=<hex>``)."""
        return {SIGNATURE_HEADER: "sha256=" + self.sign(body), "Content-Type": "application/json"}


BUILTIN_ADAPTERS = (CashAdapter, BankTransferAdapter, DemoGatewayAdapter)
