"""WeChat Pay (微信支付) API v3, Native payment: the customer scans a QR code with WeChat.

Follows the merchant documentation of WeChat Pay API v3 (pay.weixin.qq.com, "接口规则" and
"Native支付"):

* 签名生成 / Signature Generation (wechatpay4_0): every request carries
  ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid="..",nonce_str="..",signature="..",timestamp="..",serial_no=".."``,
  the signature being SHA256withRSA (merchant API private key, base64) of
  ``METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n`` (URL: path and query; BODY empty for GET).
* 签名验证 / Signature Verification (wechatpay4_1, wechatpay3_3): answers and notifications are
  signed by WeChat Pay: ``Wechatpay-Timestamp``, ``-Nonce``, ``-Signature``, ``-Serial`` headers,
  SHA256withRSA of ``TIMESTAMP\\nNONCE\\nBODY\\n``, checked with the WeChat Pay public key (微信支付公钥,
  serial "PUB_KEY_ID_...") or the platform certificate (平台证书) the serial names. A 2xx answer
  without a valid signature is treated as forged; notifications older than five minutes are refused.
* 证书和回调报文解密 (wechatpay4_2): a notification's ``resource`` is AEAD_AES_256_GCM with the
  APIv3 key (32 bytes), its ``nonce`` and ``associated_data``; ``ciphertext`` is base64 of the
  encrypted text followed by the 16-byte tag.
* Native下单 ``POST /v3/pay/transactions/native`` (answer ``code_url``), 商户订单号查询订单
  ``GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=``, 关闭订单
  ``POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close`` (answer 204), 支付通知
  (``event_type`` TRANSACTION.SUCCESS, answer 200/204 or 4xx/5xx with ``{"code": "FAIL", "message": ..}``),
  申请退款 ``POST /v3/refund/domestic/refunds`` and 退款结果通知 (REFUND.SUCCESS / REFUND.ABNORMAL /
  REFUND.CLOSED). Amounts are integers in fen (``amount.total``), currency CNY.

The documentation's sample signatures are made with WeChat's own keys, which are not published,
so they cannot serve as test vectors; the tests sign with keys they generate and a fake server
that checks every signature as documented. The kept SDK ``wechatpayv3`` was not used: it needs
``requests`` at run time and, in certificate mode, downloads the platform certificates when it
is built, where finance builds adapters per request without network access; the signing is a
few lines with ``cryptography``.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
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
    RefundNotice,
    RefundRequest,
    RefundResult,
    StartResult,
)
from ._http import header, http_call, private_key, public_key, rsa_sign, rsa_verify

PRODUCTION_URL = "https://api.mch.weixin.qq.com"
SCHEMA = "WECHATPAY2-SHA256-RSA2048"
MAX_AGE = 300  # seconds a notification's timestamp may differ from now
CONNECTION_TEST_TRADE = "ERP-CONNECTION-TEST"
PAID_STATES = ("SUCCESS", "REFUND")  # REFUND: paid, then (partly) refunded
PENDING_STATES = ("NOTPAY", "USERPAYING")
REFUND_STATES = {"SUCCESS": "refunded", "PROCESSING": "pending", "CLOSED": "failed", "ABNORMAL": "failed"}


def encrypt_resource(apiv3_key: str, plaintext: bytes, associated_data: str, original_type: str) -> dict:
    """A notification ``resource`` as WeChat Pay encrypts it (for the fake server and test support)."""
    nonce = secrets.token_hex(6)
    ciphertext = AESGCM(apiv3_key.encode()).encrypt(nonce.encode(), plaintext, associated_data.encode())
    return {"original_type": original_type, "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": base64.b64encode(ciphertext).decode(), "associated_data": associated_data, "nonce": nonce}


def sign_message(key_text: str, timestamp: str, nonce: str, body: bytes) -> str:
    """WeChat Pay's signature of an answer or notification (``TIMESTAMP\\nNONCE\\nBODY\\n``)."""
    return rsa_sign(private_key(key_text), f"{timestamp}\n{nonce}\n".encode() + body + b"\n")


class WeChatPayAdapter(PaymentAdapter):
    """WeChat Pay Native: ``start`` asks for a ``code_url`` that finance shows as a QR code."""

    code = "wechatpay"
    label = _l("WeChat Pay")
    online = True
    remote = True
    currencies = ("CNY",)
    required_settings = ("mchid", "appid", "serial_no", "private_key", "apiv3_key", "platform_key",
                         "platform_serial")
    supports_query = True
    supports_test_connection = True

    @classmethod
    def settings_fields(cls) -> list[SettingField]:
        section = _l("WeChat Pay")
        return [
            SettingField("finance.wechatpay.mchid", _l("Merchant ID (商户号)"), "string", "", section,
                         help=_l("Merchant platform: Account centre > Merchant information.")),
            SettingField("finance.wechatpay.appid", _l("AppID bound to the merchant"), "string", "", section,
                         help=_l("Merchant platform: Product centre > AppID management.")),
            SettingField("finance.wechatpay.serial_no", _l("Merchant API certificate serial number"), "string", "",
                         section, help=_l("Merchant platform: Account centre > API security > API certificate.")),
            SettingField("finance.wechatpay.private_key", _l("Merchant API private key (apiclient_key.pem)"),
                         "secret", "", section, help=_l("Paste the whole file; it is stored encrypted.")),
            SettingField("finance.wechatpay.apiv3_key", _l("APIv3 key"), "secret", "", section,
                         help=_l("Merchant platform: API security > APIv3 key (32 characters).")),
            SettingField("finance.wechatpay.platform_key", _l("WeChat Pay public key or platform certificate"),
                         "text", "", section,
                         help=_l("Merchant platform: API security > WeChat Pay public key (PEM).")),
            SettingField("finance.wechatpay.platform_serial", _l("WeChat Pay public key ID or certificate serial"),
                         "string", "", section, help=_l("E.g. PUB_KEY_ID_0114232134912410000000000000.")),
            SettingField("finance.wechatpay.notify_url", _l("Notification address (optional)"), "string", "",
                         section, help=_l("The public https address of /finance/callback/wechatpay; needed for "
                                          "refund notifications, and when a proxy changes the site's address.")),
            SettingField("finance.wechatpay.base_url", _l("API address"), "string", PRODUCTION_URL, section,
                         help=_l("Leave as it is unless told otherwise.")),
        ]

    # ------------------------------------------------------------------ signing and calls

    def _setting(self, name: str) -> str:
        value = str(self.settings.get(name) or "").strip()
        if not value:
            raise AdapterError(_l("WeChat Pay is not configured: %(setting)s is missing.", setting=name))
        return value

    def authorization(self, method: str, path: str, body: bytes, timestamp: str | None = None,
                      nonce: str | None = None) -> str:
        """The ``Authorization`` header of a request (signature generation, step 2-4)."""
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or secrets.token_hex(16).upper()
        message = f"{method}\n{path}\n{timestamp}\n{nonce}\n".encode() + body + b"\n"
        signature = rsa_sign(private_key(self._setting("private_key")), message)
        return (f'{SCHEMA} mchid="{self._setting("mchid")}",nonce_str="{nonce}",signature="{signature}",'
                f'timestamp="{timestamp}",serial_no="{self._setting("serial_no")}"')

    def _verify(self, headers: Mapping[str, str], body: bytes, max_age: int | None = None) -> None:
        """Check WeChat Pay's signature of an answer or notification; raise CallbackRejected."""
        timestamp, nonce = header(headers, "Wechatpay-Timestamp"), header(headers, "Wechatpay-Nonce")
        signature, serial = header(headers, "Wechatpay-Signature"), header(headers, "Wechatpay-Serial")
        if not (timestamp and nonce and signature):
            raise CallbackRejected(_l("The callback's signature is not valid."))
        if serial != self._setting("platform_serial"):
            raise CallbackRejected(_l("WeChat Pay signed with a key this site does not know (%(serial)s).",
                                      serial=serial[:64]))
        if max_age is not None and (not timestamp.isdigit() or abs(time.time() - int(timestamp)) > max_age):
            raise CallbackRejected(_l("The callback is too old or from the future."))
        message = f"{timestamp}\n{nonce}\n".encode() + body + b"\n"
        if not rsa_verify(public_key(self._setting("platform_key")), message, signature):
            raise CallbackRejected(_l("The callback's signature is not valid."))

    def call(self, method: str, path: str, payload: Mapping[str, Any] | None = None) -> tuple[int, dict]:
        """A signed request to the API; returns ``(status, answer)`` once WeChat Pay's signature of
        the answer is checked. Raises AdapterError for an unsigned or forged answer."""
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode() if payload is not None else b""
        base = str(self.settings.get("base_url") or PRODUCTION_URL).rstrip("/")
        headers = {"Authorization": self.authorization(method, path, body), "Accept": "application/json",
                   "User-Agent": "erp-finance-wechatpay"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        status, answer_headers, answer = http_call(method, base + path, body if payload is not None else None,
                                                   headers)
        if answer or 200 <= status < 300:
            try:
                self._verify(answer_headers, answer)
            except CallbackRejected:
                raise AdapterError(_l("WeChat Pay's answer is not signed by WeChat Pay (HTTP %(status)s).",
                                      status=status)) from None
        try:
            data = json.loads(answer.decode("utf-8")) if answer else {}
        except (ValueError, UnicodeDecodeError):
            raise AdapterError(_l("WeChat Pay answered something unreadable (HTTP %(status)s).", status=status)) \
                from None
        return status, data if isinstance(data, dict) else {}

    @staticmethod
    def _refusal(status: int, data: Mapping[str, Any]) -> AdapterError:
        return AdapterError(_l("WeChat Pay refused: %(code)s %(message)s (HTTP %(status)s)",
                               code=str(data.get("code") or ""), message=str(data.get("message") or ""),
                               status=status))

    def _check_amount(self, amount: int, currency: str) -> None:
        if amount <= 0:
            raise AdapterError(_l("The amount must be more than zero."))
        self.check_currency(currency)

    def _notify_url(self, payment_url: str = "") -> str:
        return str(self.settings.get("notify_url") or "").strip() or payment_url

    # ------------------------------------------------------------------ payments

    def start(self, payment: PaymentRequest) -> StartResult:
        self._check_amount(payment.amount_minor, payment.currency)
        status, data = self.call("POST", "/v3/pay/transactions/native", {
            "appid": self._setting("appid"), "mchid": self._setting("mchid"),
            "description": (payment.description or payment.order_number)[:127],
            "out_trade_no": payment.merchant_ref, "attach": payment.order_number[:128],
            "notify_url": self._notify_url(payment.callback_url),
            "amount": {"total": payment.amount_minor, "currency": payment.currency}})
        code_url = str(data.get("code_url") or "")
        if status != 200 or not code_url:
            raise self._refusal(status, data)
        return StartResult(status="pending", qr_text=code_url)

    def confirm(self, payment: PaymentRequest, evidence: Mapping[str, Any]) -> ConfirmResult:
        # Only a verified notification (or query answer) proves a WeChat payment.
        if not isinstance(evidence, CallbackData):
            return ConfirmResult(status="pending")
        if (evidence.merchant_ref, evidence.amount_minor, evidence.currency) != \
                (payment.merchant_ref, payment.amount_minor, payment.currency):
            raise AdapterError(_l("The callback does not match the payment."))
        return ConfirmResult(status=evidence.status, provider_ref=evidence.provider_ref)

    def _transaction(self, data: Mapping[str, Any]) -> CallbackData:
        """CallbackData of a transaction (decrypted notification or query answer); ValueError,
        KeyError or TypeError when it is not one."""
        if data.get("mchid") != self._setting("mchid") or data.get("appid") != self._setting("appid"):
            raise ValueError("merchant")
        amount = data["amount"]
        total = amount["total"]
        if not isinstance(total, int) or isinstance(total, bool) or total <= 0:
            raise ValueError("amount")
        state = data["trade_state"]
        if not isinstance(state, str) or not state:
            raise ValueError("trade_state")
        status = "paid" if state in PAID_STATES else "failed"
        return CallbackData(merchant_ref=str(data["out_trade_no"]), provider_ref=str(data["transaction_id"]),
                            order_number=str(data.get("attach") or ""), amount_minor=total,
                            currency=str(amount.get("currency") or "CNY"), status=status, raw=dict(data))

    def query(self, payment: PaymentRequest) -> QueryResult:
        path = (f"/v3/pay/transactions/out-trade-no/{quote(payment.merchant_ref, safe='')}"
                f"?mchid={quote(self._setting('mchid'), safe='')}")
        status, data = self.call("GET", path)
        if status == 404:
            return QueryResult(status="unknown", message=str(data.get("code") or "ORDER_NOT_EXIST"))
        if status != 200:
            raise self._refusal(status, data)
        state = str(data.get("trade_state") or "")
        if state in PENDING_STATES:
            return QueryResult(status="pending", message=state)
        if state not in PAID_STATES:
            return QueryResult(status="failed", message=f"{state} {data.get('trade_state_desc') or ''}".strip())
        try:
            return QueryResult(status="paid", data=self._transaction(data), message=state)
        except (ValueError, KeyError, TypeError):
            raise AdapterError(_l("WeChat Pay answered an unreadable transaction.")) from None

    def close(self, payment: PaymentRequest) -> None:
        path = f"/v3/pay/transactions/out-trade-no/{quote(payment.merchant_ref, safe='')}/close"
        status, data = self.call("POST", path, {"mchid": self._setting("mchid")})
        if status not in (200, 204):
            raise self._refusal(status, data)

    def refund(self, refund: RefundRequest) -> RefundResult:
        self._check_amount(refund.amount_minor, refund.currency)
        if refund.payment_amount_minor < refund.amount_minor:
            raise AdapterError(_l("WeChat Pay needs the payment's whole amount to refund part of it."))
        payload: dict[str, Any] = {"out_trade_no": refund.merchant_ref, "out_refund_no": refund.refund_ref,
                                   "reason": refund.reason[:80],
                                   "amount": {"refund": refund.amount_minor, "total": refund.payment_amount_minor,
                                              "currency": refund.currency}}
        if refund.provider_ref:
            payload["transaction_id"] = refund.provider_ref
            del payload["out_trade_no"]
        if self._notify_url():
            payload["notify_url"] = self._notify_url()
        status, data = self.call("POST", "/v3/refund/domestic/refunds", payload)
        if status != 200:
            return RefundResult(status="failed", message=str(self._refusal(status, data)))
        result = REFUND_STATES.get(str(data.get("status") or ""), "pending")
        return RefundResult(status=result, provider_ref=str(data.get("refund_id") or "") or None,
                            message=str(data.get("status") or ""))

    def test_connection(self) -> str:
        path = f"/v3/pay/transactions/out-trade-no/{CONNECTION_TEST_TRADE}?mchid={quote(self._setting('mchid'))}"
        status, data = self.call("GET", path)
        if status in (200, 404):  # signed and understood: the test order simply does not exist
            return f"HTTP {status} {data.get('code') or data.get('trade_state') or ''}".strip()
        raise self._refusal(status, data)

    # ------------------------------------------------------------------ notifications

    def verify_callback(self, body: bytes, headers: Mapping[str, str]) -> CallbackData | RefundNotice:
        self._verify(headers, body, max_age=MAX_AGE)
        try:
            envelope = json.loads(body.decode("utf-8"))
            resource = envelope["resource"]
            if resource["algorithm"] != "AEAD_AES_256_GCM":
                raise ValueError("algorithm")
            plaintext = AESGCM(self._setting("apiv3_key").encode()).decrypt(
                str(resource["nonce"]).encode(), base64.b64decode(resource["ciphertext"], validate=True),
                str(resource.get("associated_data") or "").encode())
            data = json.loads(plaintext.decode("utf-8"))
            if str(envelope.get("event_type", "")).startswith("REFUND."):
                return self._refund_notice(data)
            return self._transaction(data)
        except InvalidTag:  # signed by WeChat Pay, but not readable with this site's APIv3 key
            raise CallbackMalformed(_l("The callback cannot be decrypted: check the APIv3 key.")) from None
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, binascii.Error, AttributeError):
            raise CallbackMalformed(_l("The callback is malformed.")) from None

    def _refund_notice(self, data: Mapping[str, Any]) -> RefundNotice:
        if data.get("mchid") != self._setting("mchid"):
            raise ValueError("merchant")
        amount = data["amount"]["refund"]
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise ValueError("amount")
        status = {"SUCCESS": "refunded", "CLOSED": "failed", "ABNORMAL": "failed"}[data["refund_status"]]
        return RefundNotice(refund_ref=str(data["out_refund_no"]), merchant_ref=str(data["out_trade_no"]),
                            provider_ref=str(data["refund_id"]), amount_minor=amount, status=status, raw=dict(data))

    def callback_answer(self, outcome: str, detail: str = "", payment_ref: str = "",
                        recorded: bool = False) -> CallbackAnswer:
        """204 for a notification taken; otherwise 4xx with ``{"code": "FAIL", "message": ...}`` so
        that WeChat Pay sends it again later (支付通知: 应答)."""
        if outcome == "ok":
            return CallbackAnswer(204, b"", "text/plain")
        body = json.dumps({"code": "FAIL", "message": detail[:200]}, ensure_ascii=False).encode()
        return CallbackAnswer(409 if outcome == "conflict" else 400, body, "application/json")

    # ------------------------------------------------------------------ test support

    def _test_key(self) -> str:
        key = str(self.settings.get("test_platform_private_key") or "")
        if not key:
            raise AdapterError(_l("Only a test set-up can sign WeChat Pay notifications."))
        return key

    def sign_test_callback_body(self, body: bytes) -> dict[str, str]:
        """Headers of a notification of ``body`` signed as WeChat Pay does (needs the test
        platform private key in the settings: tests and the fake server only)."""
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        return {"Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": nonce,
                "Wechatpay-Signature": sign_message(self._test_key(), timestamp, nonce, body),
                "Wechatpay-Serial": self._setting("platform_serial"), "Content-Type": "application/json"}

    def transaction(self, payment: PaymentRequest, provider_ref: str, status: str = "paid", **overrides) -> dict:
        """A transaction as WeChat Pay describes it (notifications and query answers)."""
        data: dict[str, Any] = {
            "mchid": self._setting("mchid"), "appid": self._setting("appid"), "out_trade_no": payment.merchant_ref,
            "transaction_id": provider_ref, "trade_type": "NATIVE",
            "trade_state": "SUCCESS" if status == "paid" else "PAYERROR",
            "trade_state_desc": "支付成功" if status == "paid" else "支付失败", "bank_type": "OTHERS",
            "attach": payment.order_number, "success_time": time.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
            "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
            "amount": {"total": payment.amount_minor, "payer_total": payment.amount_minor,
                       "currency": payment.currency, "payer_currency": payment.currency}}
        renamed = {"amount_minor": ("amount", "total"), "currency": ("amount", "currency")}
        for key, value in overrides.items():
            if key in renamed:
                data[renamed[key][0]][renamed[key][1]] = value
            else:
                data[{"order": "attach", "merchant_ref": "out_trade_no"}.get(key, key)] = value
        return data

    def notification(self, resource: dict, event_type: str, summary: str) -> bytes:
        """A notification's body around an encrypted ``resource``."""
        return json.dumps({"id": secrets.token_hex(18), "create_time": time.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
                           "resource_type": "encrypt-resource", "event_type": event_type, "summary": summary,
                           "resource": resource}, ensure_ascii=False).encode()

    def sign_test_callback(self, payment: PaymentRequest, provider_ref: str, status: str = "paid",
                           **overrides) -> tuple[bytes, dict[str, str]]:
        plaintext = json.dumps(self.transaction(payment, provider_ref, status, **overrides),
                               ensure_ascii=False).encode()
        resource = encrypt_resource(self._setting("apiv3_key"), plaintext, "transaction", "transaction")
        body = self.notification(resource, "TRANSACTION.SUCCESS" if status == "paid" else "TRANSACTION.FAIL",
                                 "支付成功" if status == "paid" else "支付失败")
        return body, self.sign_test_callback_body(body)


def request_path(url: str) -> str:
    """The part of an address a request signature covers: path and query."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


__all__ = ["PRODUCTION_URL", "WeChatPayAdapter", "encrypt_resource", "request_path", "sign_message"]
