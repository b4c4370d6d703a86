"""Alipay (支付宝开放平台): computer-website and mobile-website payment, with RSA2 signatures.

Follows the Alipay Open Platform documentation (opendocs.alipay.com):

* 签名 / 自行实现签名 (RSA2): the request parameters except ``sign``, with a value, sorted by
  name and joined as ``k=v&k=v`` (values not URL-encoded), SHA256withRSA with the application
  private key (应用私钥), base64 in ``sign``; common parameters ``app_id``, ``method``,
  ``format=JSON``, ``charset=utf-8``, ``sign_type=RSA2``, ``timestamp`` (yyyy-MM-dd HH:mm:ss, Beijing
  time), ``version=1.0``, ``notify_url``, ``return_url`` and ``biz_content`` (JSON).
* 电脑网站支付 ``alipay.trade.page.pay`` (product_code FAST_INSTANT_TRADE_PAY) and 手机网站支付
  ``alipay.trade.wap.pay`` (QUICK_WAP_WAY): the customer is sent to the gateway with the signed
  parameters in the query.
* 异步通知验签 (异步通知说明): a form-encoded POST; ``sign`` and ``sign_type`` are removed, the rest
  (URL-decoded) sorted and joined as above, verified with the Alipay public key (支付宝公钥); then
  ``app_id``, ``out_trade_no``, ``total_amount`` (yuan, "12.34") and ``trade_status``
  (TRADE_SUCCESS / TRADE_FINISHED paid, TRADE_CLOSED closed) are checked; the answer is the plain
  text ``success`` (anything else makes Alipay send it again).
* ``alipay.trade.query``, ``alipay.trade.close`` and ``alipay.trade.refund`` (``out_request_no`` makes
  a refund idempotent): a signed form POST to the gateway; the answer
  ``{"alipay_trade_..._response": {...}, "sign": ".."}`` is verified over the exact text of the
  ``..._response`` value (同步验签). ``code`` 10000 is success; ``ACQ.TRADE_NOT_EXIST`` an unknown trade.
* Gateways: https://openapi.alipay.com/gateway.do (production) and
  https://openapi-sandbox.dl.alipaydev.com/gateway.do (沙箱), or an address given in the settings.

The documentation's sample signatures depend on Alipay's and the sample application's private
keys, which are not all published; the tests sign with keys they generate, and a fake gateway
checks every signature as documented. The kept SDK ``python-alipay-sdk`` was not used: it brings
``pycryptodomex`` beside the ``cryptography`` the site already uses, and its calls go through its
own HTTP client without the timeout and error handling the settle job needs; the signing rules
are the few lines below.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask_babel import lazy_gettext as _l

from erp_core.contrib import SettingField

from ..adapters import (
    AdapterError,
    CallbackAnswer,
    CallbackData,
    CallbackMalformed,
    CallbackRejected,
    ConfirmResult,
    PaymentAdapter,
    PaymentRequest,
    QueryResult,
    RefundRequest,
    RefundResult,
    StartResult,
)
from ._http import http_call, private_key, public_key, rsa_sign, rsa_verify

PRODUCTION_URL = "https://openapi.alipay.com/gateway.do"
SANDBOX_URL = "https://openapi-sandbox.dl.alipaydev.com/gateway.do"
BEIJING = timedelta(hours=8)
PAID = ("TRADE_SUCCESS", "TRADE_FINISHED")
CONNECTION_TEST_TRADE = "ERP-CONNECTION-TEST"
_YUAN = re.compile(r"(0|[1-9]\d{0,12})(\.\d{1,2})?")


def sign_content(params: Mapping[str, str], *, notification: bool = False) -> bytes:
    """The text Alipay signs, as ``k=v`` sorted by name and joined by ``&``: for a request every
    parameter but ``sign`` that has a value; for a notification every one but ``sign`` and ``sign_type``."""
    if notification:
        return "&".join(f"{k}={params[k]}" for k in sorted(params) if k not in ("sign", "sign_type")).encode()
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "sign" and params[k] != "").encode()


def yuan(minor: int) -> str:
    """Minor units (fen) as Alipay's yuan text: 12345 -> "123.45"."""
    return f"{minor // 100}.{minor % 100:02d}"


def fen(text: str) -> int:
    """Alipay's yuan text as fen, exactly (ValueError for anything else): "123.45" -> 12345."""
    if not isinstance(text, str) or not _YUAN.fullmatch(text):
        raise ValueError("amount")
    try:
        return int(Decimal(text) * 100)
    except InvalidOperation:
        raise ValueError("amount") from None


def parse_form(body: bytes) -> dict[str, str]:
    """A form-encoded body as a dict; ValueError when it cannot be read or repeats a name."""
    pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    params = dict(pairs)
    if len(params) != len(pairs):
        raise ValueError("repeated parameter")
    return params


class AlipayAdapter(PaymentAdapter):
    """Alipay website payment: ``start`` sends the customer to the gateway's cashier page."""

    code = "alipay"
    label = _l("Alipay")
    online = True
    remote = True
    currencies = ("CNY",)
    required_settings = ("app_id", "private_key", "alipay_public_key")
    supports_query = True
    supports_test_connection = True
    signature_in_body = True

    @classmethod
    def settings_fields(cls) -> list[SettingField]:
        section = _l("Alipay")
        return [
            SettingField("finance.alipay.app_id", _l("APPID"), "string", "", section,
                         help=_l("Open Platform console: your web/mobile application > APPID.")),
            SettingField("finance.alipay.private_key", _l("Application private key (应用私钥, RSA2)"), "secret", "",
                         section, help=_l("Made with Alipay's key tool; its public key is uploaded in the "
                                          "application's interface signing settings. Stored encrypted.")),
            SettingField("finance.alipay.alipay_public_key", _l("Alipay public key (支付宝公钥)"), "text", "",
                         section, help=_l("Open Platform console: application > Development settings > "
                                          "Interface signing method > Alipay public key.")),
            SettingField("finance.alipay.environment", _l("Gateway"), "choice", "production", section,
                         choices=(("production", _l("Production")), ("sandbox", _l("Sandbox")))),
            SettingField("finance.alipay.gateway_url", _l("Gateway address (optional)"), "string", "", section,
                         help=_l("Overrides the gateway chosen above.")),
            SettingField("finance.alipay.page", _l("Payment page"), "choice", "page", section,
                         choices=(("page", _l("Computer website (alipay.trade.page.pay)")),
                                  ("wap", _l("Mobile website (alipay.trade.wap.pay)")))),
            SettingField("finance.alipay.notify_url", _l("Notification address (optional)"), "string", "",
                         section, help=_l("The public address of /finance/callback/alipay, when a proxy changes "
                                          "the site's address.")),
        ]

    # ------------------------------------------------------------------ signing and calls

    def _setting(self, name: str) -> str:
        value = str(self.settings.get(name) or "").strip()
        if not value:
            raise AdapterError(_l("Alipay is not configured: %(setting)s is missing.", setting=name))
        return value

    @property
    def gateway(self) -> str:
        override = str(self.settings.get("gateway_url") or "").strip()
        if override:
            return override
        return SANDBOX_URL if self.settings.get("environment") == "sandbox" else PRODUCTION_URL

    def signed_params(self, method: str, biz: Mapping[str, Any], **extra: str) -> dict[str, str]:
        """The common parameters of ``method`` with ``biz_content``, signed (RSA2)."""
        now = datetime.now(UTC) + BEIJING
        params = {"app_id": self._setting("app_id"), "method": method, "format": "JSON", "charset": "utf-8",
                  "sign_type": "RSA2", "timestamp": now.strftime("%Y-%m-%d %H:%M:%S"), "version": "1.0",
                  "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":"))}
        params.update({k: v for k, v in extra.items() if v})
        params["sign"] = rsa_sign(private_key(self._setting("private_key")), sign_content(params))
        return params

    def _verify_answer(self, raw: bytes, method: str) -> dict:
        """The ``..._response`` object of an API answer, once its signature is checked."""
        key = method.replace(".", "_") + "_response"
        try:
            text = raw.decode("utf-8")
            document = json.loads(text)
            start = text.index(f'"{key}"')
            start = text.index(":", start) + 1
            while text[start] in " \t\r\n":
                start += 1
            _value, end = json.JSONDecoder().raw_decode(text, start)
            response = document[key]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise AdapterError(_l("Alipay answered something unreadable.")) from None
        signature = document.get("sign")
        if signature or response.get("code") == "10000":
            if not rsa_verify(public_key(self._setting("alipay_public_key")), text[start:end].encode(), signature):
                raise AdapterError(_l("Alipay's answer is not signed by Alipay."))
        return response

    def call(self, method: str, biz: Mapping[str, Any]) -> dict:
        """A signed API call (form POST to the gateway); its verified ``..._response``."""
        params = self.signed_params(method, biz)
        status, _headers, raw = http_call("POST", self.gateway, urlencode(params).encode(), {
            "Content-Type": "application/x-www-form-urlencoded;charset=utf-8", "Accept": "application/json"})
        if status != 200:
            raise AdapterError(_l("Alipay answered HTTP %(status)s.", status=status))
        return self._verify_answer(raw, method)

    @staticmethod
    def _refusal(response: Mapping[str, Any]) -> AdapterError:
        return AdapterError(_l("Alipay refused: %(code)s %(message)s", code=str(response.get("sub_code") or
                                                                              response.get("code") or ""),
                               message=str(response.get("sub_msg") or response.get("msg") or "")))

    def _check_amount(self, amount: int, currency: str) -> None:
        if amount <= 0:
            raise AdapterError(_l("The amount must be more than zero."))
        self.check_currency(currency)

    # ------------------------------------------------------------------ payments

    def start(self, payment: PaymentRequest) -> StartResult:
        self._check_amount(payment.amount_minor, payment.currency)
        wap = self.settings.get("page") == "wap"
        biz = {"out_trade_no": payment.merchant_ref, "total_amount": yuan(payment.amount_minor),
               "subject": (payment.description or payment.order_number)[:256],
               "product_code": "QUICK_WAP_WAY" if wap else "FAST_INSTANT_TRADE_PAY",
               "passback_params": payment.order_number}
        notify = str(self.settings.get("notify_url") or "").strip() or payment.callback_url
        params = self.signed_params("alipay.trade.wap.pay" if wap else "alipay.trade.page.pay", biz,
                                    notify_url=notify, return_url=payment.return_url)
        return StartResult(status="pending", redirect_url=f"{self.gateway}?{urlencode(params)}")

    def confirm(self, payment: PaymentRequest, evidence: Mapping[str, Any]) -> ConfirmResult:
        # Only a verified notification (or query answer) proves an Alipay payment.
        if not isinstance(evidence, CallbackData):
            return ConfirmResult(status="pending")
        if (evidence.merchant_ref, evidence.amount_minor, evidence.currency) != \
                (payment.merchant_ref, payment.amount_minor, payment.currency):
            raise AdapterError(_l("The callback does not match the payment."))
        return ConfirmResult(status=evidence.status, provider_ref=evidence.provider_ref)

    def query(self, payment: PaymentRequest) -> QueryResult:
        response = self.call("alipay.trade.query", {"out_trade_no": payment.merchant_ref})
        if response.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
            return QueryResult(status="unknown", message="ACQ.TRADE_NOT_EXIST")
        if response.get("code") != "10000":
            raise self._refusal(response)
        state = str(response.get("trade_status") or "")
        if state == "TRADE_CLOSED":
            return QueryResult(status="failed", message=state)
        if state not in PAID:
            return QueryResult(status="pending", message=state)
        try:
            data = CallbackData(merchant_ref=str(response["out_trade_no"]), provider_ref=str(response["trade_no"]),
                                order_number=payment.order_number, amount_minor=fen(response["total_amount"]),
                                currency="CNY", status="paid", raw=dict(response))
        except (KeyError, ValueError):
            raise AdapterError(_l("Alipay answered an unreadable trade.")) from None
        return QueryResult(status="paid", data=data, message=state)

    def close(self, payment: PaymentRequest) -> None:
        response = self.call("alipay.trade.close", {"out_trade_no": payment.merchant_ref})
        # A trade the customer never opened does not exist at Alipay: nothing to close.
        if response.get("code") != "10000" and response.get("sub_code") != "ACQ.TRADE_NOT_EXIST":
            raise self._refusal(response)

    def refund(self, refund: RefundRequest) -> RefundResult:
        self._check_amount(refund.amount_minor, refund.currency)
        response = self.call("alipay.trade.refund", {
            "out_trade_no": refund.merchant_ref, "refund_amount": yuan(refund.amount_minor),
            "out_request_no": refund.refund_ref, "refund_reason": refund.reason[:256]})
        if response.get("code") != "10000":
            return RefundResult(status="failed", message=str(self._refusal(response)))
        # fund_change "N" for a repeated out_request_no: the same refund, already made.
        return RefundResult(status="refunded", provider_ref=f"{response.get('trade_no', '')}/{refund.refund_ref}",
                            message=str(response.get("fund_change") or ""))

    def test_connection(self) -> str:
        response = self.call("alipay.trade.query", {"out_trade_no": CONNECTION_TEST_TRADE})
        if response.get("code") == "10000" or response.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
            return f"{response.get('code')} {response.get('sub_code') or response.get('msg') or ''}".strip()
        raise self._refusal(response)

    # ------------------------------------------------------------------ notifications

    def verify_callback(self, body: bytes, headers: Mapping[str, str]) -> CallbackData:
        try:
            params = parse_form(body)
        except (ValueError, UnicodeDecodeError):
            raise CallbackMalformed(_l("The callback is malformed.")) from None
        signature = params.get("sign", "")
        if not signature or not rsa_verify(public_key(self._setting("alipay_public_key")),
                                           sign_content(params, notification=True), signature):
            raise CallbackRejected(_l("The callback's signature is not valid."))
        try:
            if params["app_id"] != self._setting("app_id"):
                raise ValueError("app_id")
            state = params["trade_status"]
            status = "paid" if state in PAID else "failed" if state == "TRADE_CLOSED" else "pending"
            return CallbackData(merchant_ref=params["out_trade_no"], provider_ref=params["trade_no"],
                                order_number=params.get("passback_params", ""),
                                amount_minor=fen(params["total_amount"]), currency="CNY", status=status,
                                raw=params)
        except (KeyError, ValueError):
            raise CallbackMalformed(_l("The callback is malformed.")) from None

    def callback_answer(self, outcome: str, detail: str = "", payment_ref: str = "",
                        recorded: bool = False) -> CallbackAnswer:
        """``success`` in plain text when taken; ``fail`` otherwise (Alipay then sends it again)."""
        if outcome == "ok":
            return CallbackAnswer(200, b"success", "text/plain; charset=utf-8")
        return CallbackAnswer(400, b"fail", "text/plain; charset=utf-8")

    # ------------------------------------------------------------------ test support

    def _test_key(self) -> str:
        key = str(self.settings.get("test_alipay_private_key") or "")
        if not key:
            raise AdapterError(_l("Only a test set-up can sign Alipay notifications."))
        return key

    def notification(self, payment: PaymentRequest, provider_ref: str, status: str = "paid",
                     **overrides) -> dict[str, str]:
        """The fields of an asynchronous notification, unsigned."""
        now = (datetime.now(UTC) + BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        params = {"notify_time": now, "notify_type": "trade_status_sync", "notify_id": f"ac05{int(time.time())}",
                  "charset": "utf-8", "version": "1.0", "app_id": self._setting("app_id"),
                  "trade_no": provider_ref, "out_trade_no": payment.merchant_ref,
                  "trade_status": "TRADE_SUCCESS" if status == "paid" else "TRADE_CLOSED",
                  "total_amount": yuan(payment.amount_minor), "receipt_amount": yuan(payment.amount_minor),
                  "buyer_pay_amount": yuan(payment.amount_minor), "subject": payment.description or "x",
                  "passback_params": payment.order_number, "gmt_payment": now}
        renamed = {"amount_minor": "total_amount", "order": "passback_params", "merchant_ref": "out_trade_no"}
        for key, value in overrides.items():
            if key == "amount_minor" and isinstance(value, int):
                value = yuan(value)
            params[renamed.get(key, key)] = str(value)
        return params

    def sign_test_callback(self, payment: PaymentRequest, provider_ref: str, status: str = "paid",
                           **overrides) -> tuple[bytes, dict[str, str]]:
        return self.sign_test_callback_raw(urlencode(self.notification(payment, provider_ref, status,
                                                                       **overrides)).encode())

    def sign_test_callback_raw(self, body: bytes) -> tuple[bytes, dict[str, str]]:
        """``body``'s fields signed as Alipay signs a notification (``sign_type`` and ``sign`` added)."""
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        try:
            params = parse_form(body)
        except (ValueError, UnicodeDecodeError):
            return body, headers  # not a form: nothing can be signed, and it is refused as malformed
        params.pop("sign", None)
        params["sign_type"] = "RSA2"
        params["sign"] = rsa_sign(private_key(self._test_key()), sign_content(params, notification=True))
        return urlencode(params).encode(), headers

    def graft_test_signature(self, body: bytes, headers: Mapping[str, str],
                             donor: tuple[bytes, Mapping[str, str]] | None) -> tuple[bytes, dict[str, str]]:
        params = parse_form(body)
        params.pop("sign", None)
        if donor is not None:
            params["sign"] = parse_form(donor[0])["sign"]
        return urlencode(params).encode(), dict(headers)
