"""Kuaidi100 (快递100): tracking of the common Chinese carriers through one aggregator.

A carrier configured with this adapter follows parcels of one express company (SF, ZTO, YTO,
Yunda, STO, JD or EMS, chosen on the carrier page) whose tracking numbers staff type:

* **pull** — the real-time query (实时快递查询), used by the periodic sync and "Ask the carrier now";
* **subscribe** — when a shipment gets its number, a subscription (订阅) asks Kuaidi100 to push
  every change of that parcel to the carrier's webhook (``/logistics/webhooks/<code>``);
* **push** — the callback (推送) is verified and its events stored once;
* **test the connection** — one query with the configured customer id and key.

Kuaidi100's documentation (api.kuaidi100.com, 文档中心), sections followed here:

* 实时快递查询接口 (document 5f0ffb5ebc8da837cbd8aefc), §1.1–1.3: ``POST
  https://poll.kuaidi100.com/poll/query.do``, form fields ``customer``, ``param`` (JSON ``com``,
  ``num``, ``phone``, ``resultv2``...) and ``sign`` = upper-case MD5 of ``param + key + customer``;
  §1.5 the answer (``state``, ``data[]`` with ``time``/``ftime``/``context``/``status``/
  ``statusCode``/``areaName``); §1.6 the state table (运单快递状态说明); §1.8 errors
  (``result: false`` with ``returnCode`` and ``message``). "Query each number at most every half
  hour" (the notice at the top): the sync runs every 15 minutes over the least recently asked
  shipments, and a subscribed parcel is pushed anyway.
* 快递信息推送服务 — 订阅接口 (document pushService, 快递订阅查询快递api接口技术文档) §1.1–1.5:
  ``POST https://poll.kuaidi100.com/poll`` with ``schema=json`` and ``param`` = JSON
  ``{company, number, key, parameters: {callbackurl, salt, resultv2, phone}}``; the answer
  ``{result, returnCode, message}``: 200 accepted, 501 already subscribed (taken as accepted),
  600/601 key refused or expired, 700/701/702 refused data or company, 500 server error.
* 快递信息推送服务 — 推送接口 (apifox 514987/api-8568518): a form POST to ``callbackurl`` with
  ``param`` (JSON ``status``, ``message``, ``autoCheck``, ``comOld``, ``comNew``, ``lastResult``
  = the query answer) and ``sign`` = MD5(``param`` + ``salt``) upper-case; answered with
  ``{"result": true, "returnCode": "200", "message": "成功"}``; an answer with ``result: false``
  (or no answer) makes Kuaidi100 push again later (30 minutes, three times).

The ``salt`` is the carrier's webhook secret (derived from the site's secret key, "Make a new
secret" replaces it; subscriptions made before then sign with the old one).

How states (``state``, ``statusCode`` with ``resultv2=4``, or the ``status`` name with
``resultv2=1``) become tracking events:

====================================  ==========================================================
Kuaidi100 state                        tracking event
====================================  ==========================================================
101 已下单, 102 待揽收                  info_received
1 揽收, 103 已揽收                      picked_up
0 在途, 1001 到达派件城市, 1002 干线,     in_transit
1003 转递, 7 转投, 8 清关, 10 待清关,
11 清关中, 12 已清关
5 派件, 501 投柜或驿站                   out_for_delivery
3 签收, 301 本人签收, 302 派件异常后签收,  delivered
303 代签, 304 投柜或站签收
2 疑难 (and any 2xx sub-state)          exception, kind delayed (staff look; "back in transit")
13 清关异常                             exception, kind delayed
14 拒签                                 exception, kind refused
6 退回                                  exception, kind returned_to_sender (on its way back)
4 退签                                  returned (the sender has signed for it again)
401 已销单                              exception, kind lost (the waybill was cancelled)
anything else                          in_transit (an unknown sub-state falls back to its main
                                       state: 1xx → 1, 2xx → 2, 3xx → 3, 4xx → 4, 5xx → 5,
                                       10xx → 0)
====================================  ==========================================================

The sub-states of 疑难 (2xx) are not in the documentation this adapter was written from, so every
疑难 is an exception of kind *delayed*; the description (``context``) says what happened.
Event times are China time (UTC+8) as Kuaidi100 writes them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l

from . import adapters as a

API = "https://poll.kuaidi100.com"
CHINA = timezone(timedelta(hours=8))
TIMEOUT = 15
RESULTV2 = "4"  # per-event statusCode (the advanced states of §1.6)

COMPANIES = (
    ("shunfeng", _l("SF Express (顺丰速运)")),
    ("zhongtong", _l("ZTO Express (中通快递)")),
    ("yuantong", _l("YTO Express (圆通速递)")),
    ("yunda", _l("Yunda Express (韵达快递)")),
    ("shentong", _l("STO Express (申通快递)")),
    ("jd", _l("JD Logistics (京东物流)")),
    ("ems", _l("China Post EMS (EMS)")),
)

STATES: dict[str, tuple[str, str | None]] = {
    "101": (a.INFO, None), "102": (a.INFO, None),
    "1": (a.PICKED_UP, None), "103": (a.PICKED_UP, None),
    "0": (a.IN_TRANSIT, None), "1001": (a.IN_TRANSIT, None), "1002": (a.IN_TRANSIT, None),
    "1003": (a.IN_TRANSIT, None), "7": (a.IN_TRANSIT, None), "8": (a.IN_TRANSIT, None),
    "10": (a.IN_TRANSIT, None), "11": (a.IN_TRANSIT, None), "12": (a.IN_TRANSIT, None),
    "5": (a.OUT_FOR_DELIVERY, None), "501": (a.OUT_FOR_DELIVERY, None),
    "3": (a.DELIVERED, None), "301": (a.DELIVERED, None), "302": (a.DELIVERED, None),
    "303": (a.DELIVERED, None), "304": (a.DELIVERED, None),
    "2": (a.EXCEPTION, a.DELAYED), "13": (a.EXCEPTION, a.DELAYED),
    "14": (a.EXCEPTION, a.REFUSED),
    "6": (a.EXCEPTION, a.RETURNED_TO_SENDER),
    "4": (a.RETURNED, None),
    "401": (a.EXCEPTION, a.LOST),
}

# The state names of ``resultv2=1`` (and of §1.6) and their codes.
NAMES = {"在途": "0", "揽收": "1", "疑难": "2", "签收": "3", "退签": "4", "派件": "5", "退回": "6", "转投": "7",
         "转单": "7", "清关": "8", "待清关": "10", "清关中": "11", "已清关": "12", "清关异常": "13", "拒签": "14",
         "已下单": "101", "待揽收": "102", "已揽收": "103", "到达派件城市": "1001", "干线": "1002", "转递": "1003",
         "投柜或驿站": "501", "本人签收": "301", "派件异常后签收": "302", "代签": "303", "投柜或站签收": "304",
         "已销单": "401"}
CODE_NAMES = {code: name for name, code in NAMES.items() if name != "转单"}

# How the test helper writes an event back as a state (the first code of each kind).
_CODE_OF = {}
for _code, _meaning in STATES.items():
    _CODE_OF.setdefault(_meaning, _code)

OK_ANSWER = {"result": True, "returnCode": "200", "message": "成功"}


def md5_upper(text: str) -> str:
    """The upper-case hex MD5 of ``text`` in UTF-8 (Kuaidi100's signatures)."""
    return hashlib.md5(text.encode("utf-8")).hexdigest().upper()  # noqa: S324 (the provider's scheme)


def state_meaning(code: str | None) -> tuple[str, str | None]:
    """(event status, exception kind) of a state code, falling back to its main state."""
    code = str(code or "").strip()
    if code in STATES:
        return STATES[code]
    if code.isdigit():
        if len(code) == 4 and code.startswith("10"):
            return STATES["0"]
        if len(code) == 3 and code[0] in STATES:
            return STATES[code[0]]
    return a.IN_TRANSIT, None


def _form(body: bytes) -> dict[str, str]:
    """The fields of a form-encoded body (first value of each); empty when unreadable."""
    try:
        fields = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {k: v[0] for k, v in fields.items() if v}


class Kuaidi100Adapter(a.CarrierAdapter):
    """Tracking through Kuaidi100: real-time query, subscription and signed push."""

    key = "kuaidi100"
    title = _l("Kuaidi100 (快递100)")
    description = _l("Follows SF, ZTO, YTO, Yunda, STO, JD or EMS parcels through Kuaidi100: tracking updates, "
                     "push subscriptions and a tracking link. Staff type the tracking number.")
    supports = frozenset({a.TRACK, a.WEBHOOK, a.SUBSCRIBE, a.LINK})
    credential_fields = (
        a.CredentialField("customer", _l("Customer id (customer)"), required=True,
                          help=_l("Kuaidi100 console (企业管理后台) → 我的信息 → 企业信息: the 授权码 customer.")),
        a.CredentialField("api_key", _l("Key (授权key)"), secret=True, required=True,
                          help=_l("Kuaidi100 console (企业管理后台) → 我的信息 → 企业信息: the 授权key.")),
        a.CredentialField("company", _l("Express company"), required=True, choices=COMPANIES,
                          help=_l("The company whose parcels this carrier follows.")),
        a.CredentialField("phone", _l("Sender's phone"),
                          help=_l("Sent with each query and subscription; SF and ZTO require the sender's or "
                                  "recipient's phone.")),
    )
    example_tracking_number = "YT7512345678901"
    base_url = API  # tests point it at a local fake server

    def __init__(self, config: a.CarrierConfig, base_url: str | None = None):
        super().__init__(config)
        if base_url:
            self.base_url = base_url.rstrip("/")

    @classmethod
    def validate_credentials(cls, values: Mapping[str, str]) -> dict[str, str]:
        problems = super().validate_credentials(values)
        phone = (values.get("phone") or "").strip()
        if phone and not re.fullmatch(r"[0-9+\- ]{4,20}", phone):
            problems["phone"] = str(_l("Digits only (a mobile or landline number)."))
        return problems

    def validate_tracking_number(self, number: str) -> str:
        cleaned = (number or "").strip().upper().replace(" ", "")
        if not re.fullmatch(r"[A-Z0-9]{6,32}", cleaned):
            raise a.TrackingNumberInvalid(str(_l("A Kuaidi100 tracking number has 6 to 32 letters or digits.")))
        return cleaned

    # ------------------------------------------------------------------ HTTP

    def _post(self, path: str, fields: dict[str, str]) -> dict:
        """POST a form to Kuaidi100 and read its JSON answer; AdapterError when that fails."""
        data = urllib.parse.urlencode(fields).encode("utf-8")
        request = urllib.request.Request(self.base_url + path, data=data, method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 (https or the test fake)
                raw = response.read(2_000_000)
        except urllib.error.HTTPError as exc:
            raise a.AdapterError(str(_l("Kuaidi100 answered HTTP %(status)s.", status=exc.code))) from None
        except (urllib.error.URLError, OSError) as exc:
            raise a.AdapterError(str(_l("Kuaidi100 could not be reached: %(reason)s",
                                        reason=getattr(exc, "reason", exc)))) from None
        try:
            answer = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise a.AdapterError(str(_l("Kuaidi100 answered something that is not JSON."))) from None
        if not isinstance(answer, dict):
            raise a.AdapterError(str(_l("Kuaidi100 answered something that is not JSON.")))
        return answer

    def _query(self, number: str) -> dict:
        param = {"com": self.credential("company"), "num": number, "resultv2": RESULTV2, "show": "0",
                 "order": "desc"}
        if self.credential("phone"):
            param["phone"] = re.sub(r"\D", "", self.credential("phone"))
        text = json.dumps(param, ensure_ascii=False, separators=(",", ":"))
        customer = self.credential("customer")
        return self._post("/poll/query.do", {"customer": customer, "param": text,
                                             "sign": md5_upper(text + self.credential("api_key") + customer)})

    # ------------------------------------------------------------------ capabilities

    def fetch_tracking(self, tracking_number: str) -> list[a.TrackingEvent]:
        number = self.validate_tracking_number(tracking_number)
        answer = self._query(number)
        if answer.get("result") is False or "data" not in answer:
            code = str(answer.get("returnCode") or "")
            if code == "500":  # 查询无结果: nothing known yet
                return []
            raise a.AdapterError(str(_l("Kuaidi100 refused the query: %(code)s %(message)s", code=code,
                                        message=str(answer.get("message") or "")[:200])))
        try:
            return self.read_result(answer, number)
        except (TypeError, ValueError, KeyError) as exc:
            raise a.AdapterError(str(_l("Kuaidi100's answer could not be read: %(problem)s", problem=exc))) from None

    def read_result(self, result: Mapping, number: str | None = None) -> list[a.TrackingEvent]:
        """The events of a query answer or of a push's ``lastResult``, oldest first.

        Raises ValueError / TypeError / KeyError when the answer has not the documented shape.
        """
        if not isinstance(result, Mapping):
            raise ValueError("lastResult is not an object")
        data = result.get("data") or []
        if not isinstance(data, list):
            raise ValueError("data is not a list")
        number = number or self.validate_tracking_number(str(result.get("nu") or ""))
        newest_state = str(result.get("state") if result.get("state") is not None else "")
        items = [_timed(item) for item in data]
        if not items:
            return []
        newest = max(when for when, _item in items)
        events = []
        for when, item in items:
            code = str(item.get("statusCode") or NAMES.get(str(item.get("status") or "").strip(), "") or "")
            if not code:
                code = newest_state if when == newest else "0"
            status, kind = state_meaning(code)
            events.append(a.TrackingEvent(
                tracking_number=number, occurred_at=when, status=status, exception_kind=kind,
                description=str(item.get("context") or "")[:300],
                location=str(item.get("areaName") or item.get("location") or "")[:120]))
        return sorted(events, key=lambda e: e.occurred_at)

    def subscribe(self, tracking_number: str, callback_url: str) -> None:
        if not self.config.webhook_secret:
            raise a.AdapterError(str(_l("The carrier has no webhook secret to sign the pushes with.")))
        parameters = {"callbackurl": callback_url, "salt": self.config.webhook_secret, "resultv2": RESULTV2}
        if self.credential("phone"):
            parameters["phone"] = re.sub(r"\D", "", self.credential("phone"))
        param = {"company": self.credential("company"), "number": self.validate_tracking_number(tracking_number),
                 "key": self.credential("api_key"), "parameters": parameters}
        answer = self._post("/poll", {"schema": "json",
                                      "param": json.dumps(param, ensure_ascii=False, separators=(",", ":"))})
        code = str(answer.get("returnCode") or "")
        if answer.get("result") is True or code in ("200", "501"):  # 501: subscribed already
            return
        raise a.AdapterError(str(_l("Kuaidi100 refused the subscription: %(code)s %(message)s", code=code,
                                    message=str(answer.get("message") or "")[:200])))

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[a.TrackingEvent]:
        salt = self.config.webhook_secret
        fields = _form(body or b"")
        param, sign = fields.get("param"), fields.get("sign")
        if not salt or param is None or not sign:
            raise a.WebhookRejected("missing signature")
        expected = md5_upper(param + salt)
        if not hmac.compare_digest(expected.encode("ascii"), sign.upper().encode("utf-8")):
            raise a.WebhookRejected("bad signature")
        try:
            push = json.loads(param)
            if not isinstance(push, dict) or not isinstance(push.get("lastResult"), dict):
                raise ValueError("the push has no lastResult")
            return self.read_result(push["lastResult"])
        except a.TrackingNumberInvalid as exc:
            raise a.WebhookMalformed(f"bad tracking number: {exc}") from None
        except (TypeError, ValueError, KeyError) as exc:
            raise a.WebhookMalformed(str(exc)) from None

    def webhook_answer(self, error: a.AdapterError | None) -> tuple[str, str]:
        if error is None:
            answer = OK_ANSWER
        else:
            code = "401" if isinstance(error, a.WebhookRejected) else "400" if isinstance(error, a.WebhookMalformed) \
                else "500"
            answer = {"result": False, "returnCode": code, "message": str(error)[:200] or "refused"}
        return json.dumps(answer, ensure_ascii=False), "application/json"

    def test_connection(self) -> tuple[bool, str]:
        try:
            answer = self._query(self.example_tracking_number)
        except a.AdapterError as exc:
            return False, str(exc)
        code = str(answer.get("returnCode") or answer.get("status") or "")
        message = str(answer.get("message") or "")[:200]
        # Credentials accepted: an answer with data, or "no result" (500) for the sample number.
        ok = answer.get("result") is not False or code == "500"
        return ok, str(_l("Kuaidi100 answered: %(code)s %(message)s", code=code, message=message))

    def tracking_url(self, tracking_number: str) -> str | None:
        if not tracking_number:
            return None
        query = urllib.parse.urlencode({"com": self.credential("company"), "nu": tracking_number})
        return f"https://www.kuaidi100.com/chaxun?{query}"

    # ------------------------------------------------------------------ test support

    def build_push(self, number: str, data: list[dict], state: str, status: str = "polling") -> bytes:
        """(Tests) the form body Kuaidi100 pushes for ``data`` (newest first), signed with the salt."""
        result = {"message": "ok", "state": state, "status": "200", "condition": "F00",
                  "ischeck": "1" if state_meaning(state)[0] == a.DELIVERED else "0",
                  "com": self.credential("company"), "nu": number, "data": data}
        push = {"status": status, "billstatus": "", "message": "", "autoCheck": "0", "comOld": "", "comNew": "",
                "lastResult": result}
        return self._signed_form(json.dumps(push, ensure_ascii=False))

    def _signed_form(self, param: str) -> bytes:
        return urllib.parse.urlencode({"sign": md5_upper(param + self.config.webhook_secret),
                                       "param": param}).encode("ascii")

    def build_test_webhook(self, events: list[a.TrackingEvent]) -> tuple[dict[str, str], bytes]:
        data = []
        for event in sorted(events, key=lambda e: e.occurred_at, reverse=True):
            code = _CODE_OF.get((event.status, event.exception_kind if event.status == a.EXCEPTION else None))
            if code is None:
                raise a.AdapterError(f"Kuaidi100 has no state for {event.status}/{event.exception_kind}")
            when = event.occurred_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
            data.append({"time": when, "ftime": when, "context": event.description, "areaName": event.location,
                         "status": CODE_NAMES.get(code, ""), "statusCode": code})
        number = events[0].tracking_number if events else self.example_tracking_number
        state = data[0]["statusCode"] if data else "0"
        return {"Content-Type": "application/x-www-form-urlencoded"}, self.build_push(number, data, state)

    def signed_test_push(self, body: bytes) -> tuple[dict[str, str], bytes]:
        fields = _form(body)
        param = fields["param"] if "param" in fields else body.decode("utf-8", "replace")
        return {"Content-Type": "application/x-www-form-urlencoded"}, self._signed_form(param)

    def unsigned_test_push(self, headers: Mapping[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
        fields = _form(body)
        fields.pop("sign", None)
        return dict(headers), urllib.parse.urlencode(fields).encode("ascii")


def _timed(item) -> tuple[datetime, Mapping]:
    """An entry of ``data`` with its time (China time, ``ftime`` or ``time``); ValueError when it
    is not an object."""
    if not isinstance(item, Mapping):
        raise ValueError("an entry of data is not an object")
    when = datetime.strptime(str(item.get("ftime") or item["time"]).strip(), "%Y-%m-%d %H:%M:%S")
    return when.replace(tzinfo=CHINA), item
