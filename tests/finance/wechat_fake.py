"""A local fake of WeChat Pay API v3 that behaves as the documentation says and checks every
signature: requests must carry a valid ``WECHATPAY2-SHA256-RSA2048`` Authorization made with the
merchant's key (else 401 SIGN_ERROR); answers and notifications are signed with the platform key,
and notifications' resources encrypted with the APIv3 key (AEAD_AES_256_GCM).

``scan_and_pay(out_trade_no)`` plays the customer scanning the QR code: the order is paid and the
signed, encrypted TRANSACTION.SUCCESS notification is posted to its notify_url.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from plugins.finance.providers._http import public_key, rsa_verify
from plugins.finance.providers.wechatpay import encrypt_resource, sign_message

MCHID = "1900009191"
APPID = "wxd678efh567hg6787"
SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
PLATFORM_SERIAL = "PUB_KEY_ID_0119000091912025010100000000"
APIV3_KEY = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb"


def _new_key_pair() -> tuple[str, str]:
    """A fresh RSA 2048 key pair as PEM texts (private PKCS#8, public SubjectPublicKeyInfo)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@functools.cache
def merchant_keys() -> tuple[str, str]:
    """The merchant API key pair (商户API私钥 and its certificate's public key)."""
    return _new_key_pair()


@functools.cache
def platform_keys() -> tuple[str, str]:
    """WeChat Pay's key pair (微信支付公钥 and the private key only WeChat Pay has)."""
    return _new_key_pair()


def adapter_settings(base_url: str = "http://127.0.0.1:9", notify_url: str = "") -> dict:
    """The settings of a WeChatPayAdapter talking to the fake (test signing key included)."""
    return {"mchid": MCHID, "appid": APPID, "serial_no": SERIAL, "private_key": merchant_keys()[0],
            "apiv3_key": APIV3_KEY, "platform_key": platform_keys()[1], "platform_serial": PLATFORM_SERIAL,
            "base_url": base_url, "notify_url": notify_url, "test_platform_private_key": platform_keys()[0]}


@dataclass
class FakeOrder:
    out_trade_no: str
    total: int
    currency: str
    attach: str
    notify_url: str
    state: str = "NOTPAY"
    transaction_id: str = ""
    refunds: list = field(default_factory=list)


_AUTH = re.compile(r'(\w+)="([^"]*)"')


class FakeWeChatPay:
    """The fake server; ``url`` is its base address, ``requests`` what it received."""

    def __init__(self):
        self.orders: dict[str, FakeOrder] = {}
        self.refunds: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []
        self.refund_status = "PROCESSING"
        self.answers: list = []  # what the site answered to notifications, when delivered by a test
        self.deliver = self._post  # (url, body, headers) -> HTTP status; tests may deliver otherwise
        self.lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeWeChatPay:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    # ------------------------------------------------------------------ answers

    def _signed(self, status: int, payload: dict | None) -> Response:
        body = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else b""
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        headers = {"Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": nonce, "Wechatpay-Serial": PLATFORM_SERIAL,
                   "Wechatpay-Signature": sign_message(platform_keys()[0], timestamp, nonce, body),
                   "Request-ID": secrets.token_hex(8)}
        return Response(body, status=status, headers=headers,
                        content_type="application/json" if body else None)

    def _check_signature(self, request: Request, body: bytes) -> str | None:
        """None when the Authorization header is a valid merchant signature, else the problem."""
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("WECHATPAY2-SHA256-RSA2048 "):
            return "no WECHATPAY2-SHA256-RSA2048 authorization"
        fields = dict(_AUTH.findall(auth))
        if fields.get("mchid") != MCHID or fields.get("serial_no") != SERIAL:
            return "unknown merchant or certificate serial"
        if abs(time.time() - int(fields.get("timestamp", "0") or 0)) > 300:
            return "timestamp expired"
        path = request.full_path.rstrip("?") if request.query_string else request.path
        message = f"{request.method}\n{path}\n{fields['timestamp']}\n{fields.get('nonce_str', '')}\n".encode() \
            + body + b"\n"
        if not rsa_verify(public_key(merchant_keys()[1]), message, fields.get("signature", "")):
            return "signature does not verify"
        return None

    @Request.application
    def _app(self, request: Request) -> Response:
        body = request.get_data()
        self.requests.append((request.method, request.full_path))
        problem = self._check_signature(request, body)
        if problem:
            return self._signed(401, {"code": "SIGN_ERROR", "message": problem})
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            return self._signed(400, {"code": "PARAM_ERROR", "message": "body is not JSON"})
        with self.lock:
            return self._route(request, payload)

    def _route(self, request: Request, payload: dict) -> Response:
        path = request.path
        if request.method == "POST" and path == "/v3/pay/transactions/native":
            return self._native(payload)
        match = re.fullmatch(r"/v3/pay/transactions/out-trade-no/([^/]+)(/close)?", path)
        if match and request.method == "GET" and not match.group(2):
            if request.args.get("mchid") != MCHID:
                return self._signed(400, {"code": "PARAM_ERROR", "message": "mchid"})
            order = self.orders.get(match.group(1))
            if order is None:
                return self._signed(404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
            return self._signed(200, self._transaction(order))
        if match and request.method == "POST" and match.group(2):
            order = self.orders.get(match.group(1))
            if order is None or payload.get("mchid") != MCHID:
                return self._signed(404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
            if order.state == "SUCCESS":
                return self._signed(400, {"code": "ORDERPAID", "message": "订单已支付"})
            order.state = "CLOSED"
            return self._signed(204, None)
        if request.method == "POST" and path == "/v3/refund/domestic/refunds":
            return self._refund(payload)
        return self._signed(404, {"code": "NOT_FOUND", "message": path})

    def _native(self, payload: dict) -> Response:
        amount = payload.get("amount") or {}
        if payload.get("appid") != APPID or payload.get("mchid") != MCHID:
            return self._signed(400, {"code": "PARAM_ERROR", "message": "appid/mchid"})
        if not isinstance(amount.get("total"), int) or amount["total"] <= 0 or amount.get("currency") != "CNY":
            return self._signed(400, {"code": "PARAM_ERROR", "message": "amount"})
        if not payload.get("description") or not payload.get("notify_url") or not payload.get("out_trade_no"):
            return self._signed(400, {"code": "PARAM_ERROR", "message": "description/notify_url/out_trade_no"})
        if payload["out_trade_no"] in self.orders:
            return self._signed(400, {"code": "OUT_TRADE_NO_USED", "message": "商户订单号重复"})
        self.orders[payload["out_trade_no"]] = FakeOrder(payload["out_trade_no"], amount["total"], "CNY",
                                                         payload.get("attach", ""), payload["notify_url"])
        return self._signed(200, {"code_url": "weixin://wxpay/bizpayurl?pr=" + secrets.token_urlsafe(6)})

    def _transaction(self, order: FakeOrder) -> dict:
        data = {"mchid": MCHID, "appid": APPID, "out_trade_no": order.out_trade_no, "trade_type": "NATIVE",
                "trade_state": order.state, "trade_state_desc": order.state, "attach": order.attach,
                "amount": {"total": order.total, "currency": order.currency}}
        if order.transaction_id:
            data["transaction_id"] = order.transaction_id
            data["payer"] = {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}
        return data

    def _refund(self, payload: dict) -> Response:
        order = next((o for o in self.orders.values() if o.transaction_id and
                      o.transaction_id == payload.get("transaction_id")), None) \
            or self.orders.get(payload.get("out_trade_no", ""))
        amount = payload.get("amount") or {}
        if order is None or order.state not in ("SUCCESS", "REFUND"):
            return self._signed(404, {"code": "RESOURCE_NOT_EXISTS", "message": "订单不存在"})
        if amount.get("total") != order.total or not isinstance(amount.get("refund"), int) \
                or amount["refund"] > order.total - sum(r["amount"]["refund"] for r in order.refunds):
            return self._signed(400, {"code": "PARAM_ERROR", "message": "amount"})
        existing = self.refunds.get(payload.get("out_refund_no", ""))
        if existing is not None:  # the same out_refund_no again: the same refund (idempotent)
            return self._signed(200, existing)
        refund = {"refund_id": "50000" + secrets.token_hex(8), "out_refund_no": payload["out_refund_no"],
                  "transaction_id": order.transaction_id, "out_trade_no": order.out_trade_no,
                  "status": self.refund_status, "amount": {"refund": amount["refund"], "total": order.total,
                                                           "currency": "CNY"},
                  "notify_url": payload.get("notify_url", "")}
        self.refunds[payload["out_refund_no"]] = refund
        order.refunds.append(refund)
        order.state = "REFUND"
        return self._signed(200, refund)

    # ------------------------------------------------------------------ the customer and notifications

    def notify(self, url: str, event_type: str, original_type: str, plaintext: dict) -> int:
        """Post a signed, encrypted notification to ``url``; returns the HTTP status answered."""
        resource = encrypt_resource(APIV3_KEY, json.dumps(plaintext, ensure_ascii=False).encode(), original_type,
                                    original_type)
        body = json.dumps({"id": secrets.token_hex(18), "create_time": "2026-12-07T16:00:00+08:00",
                           "resource_type": "encrypt-resource", "event_type": event_type,
                           "summary": "支付成功", "resource": resource}, ensure_ascii=False).encode()
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        return self.deliver(url, body, {
            "Content-Type": "application/json", "Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": PLATFORM_SERIAL,
            "Wechatpay-Signature": sign_message(platform_keys()[0], timestamp, nonce, body)})

    @staticmethod
    def _post(url: str, body: bytes, headers: dict) -> int:
        request = urllib.request.Request(url, data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - local test server
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def scan_and_pay(self, out_trade_no: str, notify: bool = True) -> int | None:
        """The customer scans and pays: the order is paid, and (unless ``notify`` is False: a lost
        notification) WeChat Pay posts TRANSACTION.SUCCESS to its notify_url."""
        with self.lock:
            order = self.orders[out_trade_no]
            order.state, order.transaction_id = "SUCCESS", "42000" + secrets.token_hex(10)
            plaintext = self._transaction(order)
        plaintext["success_time"] = "2026-12-07T16:00:00+08:00"
        return self.notify(order.notify_url, "TRANSACTION.SUCCESS", "transaction", plaintext) if notify else None

    def finish_refund(self, out_refund_no: str, status: str = "SUCCESS") -> int:
        """The refund is done: its status changes and REFUND.<status> goes to its notify_url."""
        refund = self.refunds[out_refund_no]
        refund["status"] = status
        plaintext = {"mchid": MCHID, "out_trade_no": refund["out_trade_no"],
                     "transaction_id": refund["transaction_id"], "out_refund_no": out_refund_no,
                     "refund_id": refund["refund_id"], "refund_status": status,
                     "amount": {"total": refund["amount"]["total"], "refund": refund["amount"]["refund"],
                                "payer_total": refund["amount"]["total"],
                                "payer_refund": refund["amount"]["refund"]}}
        return self.notify(refund["notify_url"], f"REFUND.{status}", "refund", plaintext)

