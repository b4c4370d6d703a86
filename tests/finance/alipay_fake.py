"""A local fake of the Alipay Open Platform gateway that checks every RSA2 signature as the
documentation says: the cashier page (GET, signed query) opens a trade, API calls (form POST)
answer JSON signed over the exact ``..._response`` text, and ``pay(out_trade_no)`` posts the
signed asynchronous notification to the trade's notify_url, expecting ``success``.
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from plugins.finance.providers._http import private_key, public_key, rsa_sign, rsa_verify
from plugins.finance.providers.alipay import fen, sign_content, yuan
from tests.finance.wechat_fake import _new_key_pair

APP_ID = "2021000117600000"
_KEYS: dict[str, tuple[str, str]] = {}


def app_keys() -> tuple[str, str]:
    """The application's key pair (应用私钥 and the public key uploaded to Alipay)."""
    return _KEYS.setdefault("app", _new_key_pair())


def alipay_keys() -> tuple[str, str]:
    """Alipay's key pair (支付宝公钥 and the private key only Alipay has)."""
    return _KEYS.setdefault("alipay", _new_key_pair())


def adapter_settings(gateway_url: str = "http://127.0.0.1:9/gateway.do") -> dict:
    return {"app_id": APP_ID, "private_key": app_keys()[0], "alipay_public_key": alipay_keys()[1],
            "environment": "sandbox", "gateway_url": gateway_url, "page": "page",
            "test_alipay_private_key": alipay_keys()[0]}


@dataclass
class Trade:
    out_trade_no: str
    total_amount: str
    notify_url: str
    passback: str
    status: str = "WAIT_BUYER_PAY"
    trade_no: str = ""
    refunds: dict = field(default_factory=dict)


class FakeAlipay:
    def __init__(self):
        self.trades: dict[str, Trade] = {}
        self.calls: list[str] = []
        self.answers: list = []
        self.lock = threading.Lock()
        self.deliver = self._post
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/gateway.do"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeAlipay:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    # ------------------------------------------------------------------ checks and answers

    @staticmethod
    def _verified(params: dict) -> bool:
        return params.get("app_id") == APP_ID and params.get("sign_type") == "RSA2" and \
            rsa_verify(public_key(app_keys()[1]), sign_content(params), params.get("sign", ""))

    @staticmethod
    def _answer(method: str, response: dict, signed: bool = True) -> Response:
        key = method.replace(".", "_") + "_response"
        inner = json.dumps(response, ensure_ascii=False, separators=(",", ":"))
        text = f'{{"{key}":{inner}'
        if signed:
            text += f',"sign":"{rsa_sign(private_key(alipay_keys()[0]), inner.encode())}"'
        return Response(text + "}", content_type="application/json;charset=utf-8")

    @Request.application
    def _app(self, request: Request) -> Response:
        params = dict(request.args.items()) if request.method == "GET" else dict(request.form.items())
        method = params.get("method", "")
        self.calls.append(method)
        if not self._verified(params):
            return self._answer(method, {"code": "40002", "msg": "Invalid Arguments",
                                         "sub_code": "isv.invalid-signature", "sub_msg": "验签出错"}, signed=False)
        biz = json.loads(params.get("biz_content") or "{}")
        with self.lock:
            if request.method == "GET":
                return self._cashier(method, params, biz)
            return self._api(method, biz)

    def _cashier(self, method: str, params: dict, biz: dict) -> Response:
        expected = {"alipay.trade.page.pay": "FAST_INSTANT_TRADE_PAY", "alipay.trade.wap.pay": "QUICK_WAP_WAY"}
        if expected.get(method) != biz.get("product_code"):
            return Response("bad product", status=400)
        fen(biz["total_amount"])  # a yuan amount with at most two decimals
        self.trades.setdefault(biz["out_trade_no"], Trade(biz["out_trade_no"], biz["total_amount"],
                                                         params.get("notify_url", ""), biz.get("passback_params", "")))
        return Response(f"<h1>支付宝收银台 {biz['out_trade_no']} ¥{biz['total_amount']}</h1>", content_type="text/html")

    def _api(self, method: str, biz: dict) -> Response:
        trade = self.trades.get(biz.get("out_trade_no", ""))
        missing = {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST", "sub_msg": "交易不存在"}
        if trade is None:
            return self._answer(method, missing)
        if method == "alipay.trade.query":
            return self._answer(method, {"code": "10000", "msg": "Success", "trade_no": trade.trade_no,
                                         "out_trade_no": trade.out_trade_no, "trade_status": trade.status,
                                         "total_amount": trade.total_amount})
        if method == "alipay.trade.close":
            if trade.status != "WAIT_BUYER_PAY":
                return self._answer(method, {"code": "40004", "msg": "Business Failed",
                                             "sub_code": "ACQ.TRADE_STATUS_ERROR", "sub_msg": "交易状态不合法"})
            trade.status = "TRADE_CLOSED"
            return self._answer(method, {"code": "10000", "msg": "Success", "out_trade_no": trade.out_trade_no})
        if method == "alipay.trade.refund":
            return self._refund(method, trade, biz)
        return self._answer(method, {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.NOT_SUPPORTED"})

    def _refund(self, method: str, trade: Trade, biz: dict) -> Response:
        if trade.status not in ("TRADE_SUCCESS", "TRADE_FINISHED"):
            return self._answer(method, {"code": "40004", "msg": "Business Failed",
                                         "sub_code": "ACQ.TRADE_STATUS_ERROR", "sub_msg": "交易状态不合法"})
        request_no = biz.get("out_request_no", "")
        if request_no in trade.refunds:  # the same out_request_no: the same refund, no money moves
            return self._answer(method, {"code": "10000", "msg": "Success", "trade_no": trade.trade_no,
                                         "refund_fee": trade.refunds[request_no], "fund_change": "N"})
        amount = fen(biz["refund_amount"])
        if amount + sum(fen(a) for a in trade.refunds.values()) > fen(trade.total_amount):
            return self._answer(method, {"code": "40004", "msg": "Business Failed",
                                         "sub_code": "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "sub_msg": "退款金额超限"})
        trade.refunds[request_no] = biz["refund_amount"]
        return self._answer(method, {"code": "10000", "msg": "Success", "trade_no": trade.trade_no,
                                     "refund_fee": yuan(sum(fen(a) for a in trade.refunds.values())),
                                     "fund_change": "Y"})

    # ------------------------------------------------------------------ the customer

    def open_page(self, redirect_url: str) -> int:
        """The customer's browser follows the redirect to the cashier page."""
        parts = urlsplit(redirect_url)
        with urllib.request.urlopen(self.url + "?" + parts.query, timeout=30) as answer:  # noqa: S310 - local
            return answer.status

    def pay(self, out_trade_no: str, notify: bool = True, amount: str | None = None) -> int | None:
        """The customer pays; Alipay posts the signed notification (unless ``notify`` is False)."""
        with self.lock:
            trade = self.trades[out_trade_no]
            trade.status, trade.trade_no = "TRADE_SUCCESS", "2026120722001" + secrets.token_hex(6)
        if not notify:
            return None
        params = {"notify_time": "2026-12-08 00:00:00", "notify_type": "trade_status_sync",
                  "notify_id": secrets.token_hex(16), "charset": "utf-8", "version": "1.0", "app_id": APP_ID,
                  "trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no, "trade_status": trade.status,
                  "total_amount": amount or trade.total_amount, "passback_params": trade.passback,
                  "subject": "订单", "gmt_payment": "2026-12-08 00:00:00", "sign_type": "RSA2"}
        params["sign"] = rsa_sign(private_key(alipay_keys()[0]), sign_content(params, notification=True))
        return self.deliver(trade.notify_url, urlencode(params).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})

    @staticmethod
    def _post(url: str, body: bytes, headers: dict) -> int:
        request = urllib.request.Request(url, data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - local test server
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code


def query_of(url: str) -> dict:
    return dict(parse_qsl(urlsplit(url).query))
