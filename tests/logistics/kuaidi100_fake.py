"""A local fake of Kuaidi100 (快递100) for the tests: the real-time query and the subscription,
checking signatures and answering as the documentation describes (see plugins/logistics/kuaidi100.py).

It runs in a thread on 127.0.0.1; tests never reach the internet. Parcels are added with
:meth:`FakeKuaidi100.add_parcel`; :meth:`FakeKuaidi100.push_body` builds the signed callback
Kuaidi100 would send to a subscription's ``callbackurl``.
"""

from __future__ import annotations

import hashlib
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def md5_upper(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest().upper()  # noqa: S324 (the provider's scheme)


class FakeKuaidi100:
    """``customer``/``key``: the account the fake accepts. ``requests`` lists what it received."""

    def __init__(self, customer: str = "CUST-1", key: str = "test-key"):
        self.customer, self.key = customer, key
        self.parcels: dict[tuple[str, str], tuple[str, list[dict]]] = {}
        self.subscriptions: dict[tuple[str, str], dict] = {}
        self.requests: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                fields = {k: v[0] for k, v in urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8"),
                                                                    keep_blank_values=True).items()}
                with fake.lock:
                    fake.requests.append((self.path, fields))
                    if self.headers.get("Content-Type") != "application/x-www-form-urlencoded":
                        answer = {"result": False, "returnCode": "400", "message": "提交的数据不完整"}
                    elif self.path == "/poll/query.do":
                        answer = fake.query(fields)
                    elif self.path == "/poll":
                        answer = fake.subscribe(fields)
                    else:
                        self.send_response(404)
                        self.end_headers()
                        return
                data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json;charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------ what the fake knows

    def add_parcel(self, company: str, number: str, state: str, data: list[dict]) -> None:
        """A parcel with its trace, ``data`` newest first (as Kuaidi100 answers by default)."""
        self.parcels[(company, number)] = (state, data)

    # ------------------------------------------------------------------ the documented endpoints

    def query(self, fields: dict) -> dict:
        """实时快递查询: sign = MD5(param + key + customer), upper-case."""
        param_text = fields.get("param", "")
        if fields.get("customer") != self.customer:
            return {"result": False, "returnCode": "601", "message": "POLL:KEY已过期或者customer错误"}
        if fields.get("sign") != md5_upper(param_text + self.key + self.customer):
            return {"result": False, "returnCode": "503", "message": "验证签名失败"}
        try:
            param = json.loads(param_text)
        except ValueError:
            return {"result": False, "returnCode": "400", "message": "提交的数据不完整"}
        if not param.get("com") or not param.get("num"):
            return {"result": False, "returnCode": "400", "message": "找不到对应公司"}
        if param["com"] == "shunfeng" and not param.get("phone"):
            return {"result": False, "returnCode": "408", "message": "电话号码校验不通过"}
        found = self.parcels.get((param["com"], param["num"]))
        if found is None:
            return {"result": False, "returnCode": "500", "message": "查询无结果，请隔段时间再查"}
        state, data = found
        if param.get("order") == "asc":
            data = list(reversed(data))
        if param.get("resultv2") != "4":  # without resultv2=4 no statusCode (only the names of resultv2=1)
            data = [{k: v for k, v in item.items() if k != "statusCode"} for item in data]
        return {"message": "ok", "nu": param["num"], "ischeck": "1" if state == "3" else "0", "condition": "F00",
                "com": param["com"], "status": "200", "state": state, "data": data}

    def subscribe(self, fields: dict) -> dict:
        """订阅: schema=json, param={company, number, key, parameters: {callbackurl, salt, ...}}."""
        try:
            param = json.loads(fields.get("param", ""))
        except ValueError:
            return {"result": False, "returnCode": "700", "message": "订阅方的订阅数据存在错误"}
        if fields.get("schema") != "json":
            return {"result": False, "returnCode": "700", "message": "订阅方的订阅数据存在错误"}
        if param.get("key") != self.key:
            return {"result": False, "returnCode": "600", "message": "您不是合法的订阅者（即授权Key出错）"}
        parameters = param.get("parameters") or {}
        if not param.get("company") or not param.get("number") or not parameters.get("callbackurl"):
            return {"result": False, "returnCode": "700", "message": "订阅方的订阅数据存在错误"}
        key = (param["company"], param["number"])
        if key in self.subscriptions:
            return {"result": False, "returnCode": "501", "message": "重复订阅"}
        self.subscriptions[key] = param
        return {"result": True, "returnCode": "200", "message": "提交成功"}

    def push_body(self, company: str, number: str, status: str = "polling", salt: str | None = None) -> tuple[str, bytes]:
        """(callbackurl, form body) of the push for a subscribed parcel, signed MD5(param + salt)."""
        subscription = self.subscriptions[(company, number)]
        parameters = subscription["parameters"]
        state, data = self.parcels[(company, number)]
        last = {"message": "ok", "state": state, "status": "200", "condition": "F00",
                "ischeck": "1" if state == "3" else "0", "com": company, "nu": number, "data": data}
        param = json.dumps({"status": status, "billstatus": "got", "message": "", "autoCheck": "0", "comOld": "",
                            "comNew": "", "lastResult": last}, ensure_ascii=False)
        sign = md5_upper(param + (parameters.get("salt", "") if salt is None else salt))
        return parameters["callbackurl"], urllib.parse.urlencode({"param": param, "sign": sign}).encode("ascii")


def trace(*entries: tuple[str, str, str, str]) -> list[dict]:
    """``data`` entries from (time, statusCode, context, areaName), given newest first."""
    from plugins.logistics.kuaidi100 import CODE_NAMES

    return [{"time": when, "ftime": when, "context": context, "areaName": area,
             "status": CODE_NAMES.get(code, ""), "statusCode": code} for when, code, context, area in entries]
