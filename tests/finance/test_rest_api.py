"""The finance JSON API: payment methods, payments, refunds, order balances."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from erp_core import settings, webhooks
from erp_core.extensions import db
from erp_core.testing import allow_internal_webhooks
from plugins.finance import services
from plugins.finance.models import Payment, Refund
from tests.core.test_api_conformance import run_conformance
from tests.core.test_webhooks import Receiver
from tests.finance.conftest import make_order
from tests.helpers import QueryCounter, api_token, bearer

API = "/api/v1/finance"
ALL_PERMS = ["finance.view", "finance.payments.record", "finance.refunds.manage"]




@pytest.fixture
def api(fin_app):
    return fin_app, fin_app.test_client(), api_token(fin_app, ALL_PERMS)


def _order(app, *lines, **kw):
    with app.test_request_context():
        order = make_order(*lines, **kw)
        return order.id


def _state(app):
    """Everything a refused request must leave alone."""
    with app.app_context():
        return ([(p.id, p.status, p.amount_minor, p.refunded_minor, p.credit_minor)
                 for p in db.session.scalars(select(Payment).order_by(Payment.id))],
                [(r.id, r.status, r.amount_minor) for r in db.session.scalars(select(Refund).order_by(Refund.id))])


def _pay(client, token, order_id, amount, **extra):
    return client.post(f"{API}/payments", headers=bearer(token, **extra.pop("headers", {})),
                       json={"order_id": order_id, "method": "cash", "amount_minor": amount, **extra})


# ----------------------------------------------------------------------------- methods and payments


def test_payment_methods_lists_the_enabled_ones(api):
    app, client, token = api
    with app.app_context():
        settings.set_many({services.method_setting_key("bank_transfer"): False})
        db.session.commit()
    body = client.get(f"{API}/payment-methods", headers=bearer(token)).json
    codes = {m["code"]: m for m in body["items"]}
    assert "cash" in codes and "bank_transfer" not in codes
    assert codes["cash"]["online"] is False and codes["demo_gateway"]["online"] is True


def test_record_a_payment_and_read_the_balance(api):
    app, client, token = api
    order_id = _order(app, ("100.00", 2, "0"))
    response = _pay(client, token, order_id, 5000, reference="R-1", note="first part",
                    paid_at="2026-01-15T09:30:00+08:00")
    assert response.status_code == 201, response.json
    body = response.json
    assert body["amount_minor"] == 5000 and body["currency"] == "CNY" and body["status"] == "paid"
    assert body["number"].startswith("PAY-") and body["refunds"] == [] and body["credit_minor"] == 0
    assert body["paid_at"].startswith("2026-01-15T01:30:00")
    assert response.headers["Location"].endswith(f"/payments/{body['id']}")
    assert client.get(response.headers["Location"], headers=bearer(token)).json == body
    balance = client.get(f"{API}/orders/{order_id}/balance", headers=bearer(token)).json
    assert balance == {"order_id": order_id, "order_number": body["order_number"], "currency": "CNY",
                       "total_minor": 20000, "paid_minor": 5000, "refunded_minor": 0, "pending_minor": 0,
                       "refund_requested_minor": 0, "balance_minor": 5000, "due_minor": 15000, "credit_minor": 0,
                       "state": "partially_paid", "state_label": "Partially paid"}
    zh = client.get(f"{API}/orders/{order_id}/balance", headers=bearer(token, **{"Accept-Language": "zh-CN"})).json
    assert zh["state"] == "partially_paid" and zh["state_label"] != "Partially paid"
    assert client.get(f"{API}/orders/999999/balance", headers=bearer(token)).status_code == 404


def test_overpayment_is_refused_with_the_amount_due_unless_kept_as_credit(api):
    app, client, token = api
    order_id = _order(app, ("100.00", 1, "0"))
    assert _pay(client, token, order_id, 4000).status_code == 201
    before = _state(app)
    refused = _pay(client, token, order_id, 7000)
    assert refused.status_code == 422 and refused.json["code"] == "payment_refused"
    assert "60.00" in refused.json["detail"] and "amount_minor" in refused.json["errors"]
    zh = _pay(client, token, order_id, 7000, headers={"Accept-Language": "zh-CN"})
    assert zh.status_code == 422 and "60.00" in zh.json["detail"] and "预存款" in zh.json["detail"]
    assert _state(app) == before
    credit = _pay(client, token, order_id, 7000, as_credit=True)
    assert credit.status_code == 201 and credit.json["credit_minor"] == 1000
    balance = client.get(f"{API}/orders/{order_id}/balance", headers=bearer(token)).json
    assert balance["state"] == "paid" and balance["credit_minor"] == 1000 and balance["due_minor"] == 0


def test_other_refused_payments_change_nothing(api):
    app, client, token = api
    order_id = _order(app, ("100.00", 1, "0"))
    cancelled = _order(app, ("10.00", 1, "0"))
    with app.test_request_context():
        from plugins.orders import services as orders

        orders.transition(orders.get_order(cancelled), "cancelled", note="test")
        db.session.commit()
    before = _state(app)
    cases = [
        (_pay(client, token, cancelled, 100), 422, "cancelled"),
        (_pay(client, token, order_id, 100, method="demo_gateway"), 422, "confirmed by the provider"),
        (_pay(client, token, order_id, 100, method="bank_transfer"), 422, None),
        (_pay(client, token, order_id, 100, method="nope"), 422, "Unknown payment method"),
        (_pay(client, token, order_id, 100, currency="USD"), 422, "not USD"),
        (_pay(client, token, order_id, 100, paid_at=(datetime.now(UTC) + timedelta(days=1)).isoformat()),
         422, "future"),
        (_pay(client, token, 999999, 100), 404, None),
        (_pay(client, token, order_id, 0), 422, None),
    ]
    for response, status, text in cases:
        assert response.status_code == status, response.json
        assert response.mimetype == "application/problem+json"
        assert text is None or text in response.json["detail"], response.json
    assert _state(app) == before


def test_record_payment_is_idempotent(api):
    app, client, token = api
    order_id = _order(app, ("100.00", 1, "0"))
    key = {"Idempotency-Key": "pay-1"}
    first = _pay(client, token, order_id, 3000, headers=key)
    again = _pay(client, token, order_id, 3000, headers=key)
    assert first.status_code == again.status_code == 201 and first.json == again.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _pay(client, token, order_id, 3100, headers=key).status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 1


def test_payment_list_filters_and_pages(api):
    app, client, token = api
    first = _order(app, ("100.00", 1, "0"))
    second = _order(app, ("50.00", 1, "0"))
    _pay(client, token, first, 1000)
    _pay(client, token, first, 2000, method="bank_transfer", reference="BT-9")
    _pay(client, token, second, 5000)
    listed = client.get(f"{API}/payments", headers=bearer(token)).json
    assert listed["total"] == 3 and [p["amount_minor"] for p in listed["items"]] == [5000, 2000, 1000]
    assert client.get(f"{API}/payments?order_id={first}", headers=bearer(token)).json["total"] == 2
    cash = client.get(f"{API}/payments?method=cash&sort=amount", headers=bearer(token)).json
    assert [p["amount_minor"] for p in cash["items"]] == [1000, 5000]
    assert client.get(f"{API}/payments?status=pending", headers=bearer(token)).json["total"] == 0
    assert client.get(f"{API}/payments?currency=usd", headers=bearer(token)).json["total"] == 0
    today = datetime.now(UTC).date()
    span = f"start={(today - timedelta(days=1)).isoformat()}&end={(today + timedelta(days=1)).isoformat()}"
    assert client.get(f"{API}/payments?{span}", headers=bearer(token)).json["total"] == 3
    assert client.get(f"{API}/payments?end=2000-01-01", headers=bearer(token)).json["total"] == 0
    page = client.get(f"{API}/payments?per_page=2&page=2", headers=bearer(token))
    assert len(page.json["items"]) == 1 and "page=1" in page.json["links"]["prev"] and page.json["links"]["next"] is None
    bad = client.get(f"{API}/payments?start=yesterday", headers=bearer(token))
    assert bad.status_code == 422 and "start" in bad.json["errors"]


# ----------------------------------------------------------------------------- refunds


def test_refund_a_payment(api):
    app, client, token = api
    order_id = _order(app, ("100.00", 1, "0"))
    payment = _pay(client, token, order_id, 10000).json
    url = f"{API}/payments/{payment['id']}/refunds"
    paid_out = client.post(url, headers=bearer(token), json={"amount_minor": 3000, "reason": "damaged cup"})
    assert paid_out.status_code == 201, paid_out.json
    assert paid_out.json["status"] == "refunded" and paid_out.json["number"].startswith("REF-")
    assert paid_out.json["order_id"] == order_id and paid_out.json["amount_minor"] == 3000
    queued = client.post(url, headers=bearer(token), json={"amount_minor": 2000, "reason": "late", "pay_now": False})
    assert queued.status_code == 201 and queued.json["status"] == "requested"
    detail = client.get(f"{API}/payments/{payment['id']}", headers=bearer(token)).json
    assert [r["amount_minor"] for r in detail["refunds"]] == [3000, 2000] and detail["refundable_minor"] == 5000
    listed = client.get(f"{API}/refunds", headers=bearer(token)).json
    assert listed["total"] == 2 and listed["items"][0]["id"] == queued.json["id"]
    assert client.get(f"{API}/refunds?status=requested", headers=bearer(token)).json["total"] == 1
    assert client.get(f"{API}/refunds?payment_id={payment['id']}&source=manual", headers=bearer(token)).json["total"] == 2
    assert client.get(f"{API}/refunds/{queued.json['id']}", headers=bearer(token)).json == queued.json
    balance = client.get(f"{API}/orders/{order_id}/balance", headers=bearer(token)).json
    assert balance["refunded_minor"] == 3000 and balance["refund_requested_minor"] == 2000
    assert balance["state"] == "partially_refunded"


def test_refused_refunds_change_nothing(api):
    app, client, token = api
    order_id = _order(app, ("100.00", 1, "0"))
    payment = _pay(client, token, order_id, 10000).json
    url = f"{API}/payments/{payment['id']}/refunds"
    assert client.post(url, headers=bearer(token), json={"amount_minor": 6000, "reason": "x"}).status_code == 201
    before = _state(app)
    too_much = client.post(url, headers=bearer(token), json={"amount_minor": 4001, "reason": "more"})
    assert too_much.status_code == 422 and "40.00" in too_much.json["errors"]["amount_minor"][0]
    blank = client.post(url, headers=bearer(token, **{"Accept-Language": "zh-CN"}),
                        json={"amount_minor": 100, "reason": "   "})
    assert blank.status_code == 422 and blank.json["errors"]["reason"] == ["请填写退款原因。"]
    missing = client.post(url, headers=bearer(token), json={"amount_minor": 100})
    assert missing.status_code == 422 and missing.json["errors"]["reason"] == ["This field is required."]
    assert client.post(f"{API}/payments/999999/refunds", headers=bearer(token),
                       json={"amount_minor": 1, "reason": "x"}).status_code == 404
    assert _state(app) == before


def test_refund_is_idempotent(api):
    app, client, token = api
    order_id = _order(app, ("100.00", 1, "0"))
    payment = _pay(client, token, order_id, 10000).json
    url = f"{API}/payments/{payment['id']}/refunds"
    headers = bearer(token, **{"Idempotency-Key": "refund-1"})
    first = client.post(url, headers=headers, json={"amount_minor": 1000, "reason": "broken"})
    again = client.post(url, headers=headers, json={"amount_minor": 1000, "reason": "broken"})
    assert first.status_code == again.status_code == 201 and first.json == again.json
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Refund)) == 1
        assert db.session.get(Payment, payment["id"]).refunded_minor == 1000


def test_lists_run_a_fixed_number_of_queries(api):
    app, client, token = api
    urls = (f"{API}/payments", f"{API}/refunds")

    def add(n):
        for _ in range(n):
            order_id = _order(app, ("100.00", 1, "0"))
            payment = _pay(client, token, order_id, 5000).json
            client.post(f"{API}/payments/{payment['id']}/refunds", headers=bearer(token),
                        json={"amount_minor": 100, "reason": "r"})

    add(1)
    with app.app_context():
        engine = db.engine
    counts = {}
    for url in urls:
        client.get(url, headers=bearer(token))
        with QueryCounter(engine) as few:
            assert client.get(url, headers=bearer(token)).status_code == 200
        counts[url] = few.count
    add(4)
    for url in urls:
        with QueryCounter(engine) as many:
            response = client.get(url, headers=bearer(token))
        assert response.json["total"] == 5 and many.count == counts[url], (url, many.statements)


# ----------------------------------------------------------------------------- access, errors, switch


ENDPOINTS = [
    ("get", "/payment-methods", "finance.view"),
    ("get", "/payments", "finance.view"),
    ("post", "/payments", "finance.payments.record"),
    ("get", "/payments/{payment}", "finance.view"),
    ("post", "/payments/{payment}/refunds", "finance.refunds.manage"),
    ("get", "/refunds", "finance.view"),
    ("get", "/refunds/{refund}", "finance.view"),
    ("get", "/orders/{order}/balance", "finance.view"),
]


def test_every_endpoint_needs_a_token_and_its_permission(api):
    app, client, token = api
    order_id = _order(app, ("100.00", 1, "0"))
    payment = _pay(client, token, order_id, 10000).json
    refund = client.post(f"{API}/payments/{payment['id']}/refunds", headers=bearer(token),
                         json={"amount_minor": 100, "reason": "r"}).json
    ids = {"payment": payment["id"], "refund": refund["id"], "order": order_id}
    before = _state(app)
    for method, path, perm in ENDPOINTS:
        url = API + path.format(**ids)
        body = {} if method == "post" else None
        without = api_token(app, [p for p in ALL_PERMS if p != perm])
        response = getattr(client, method)(url, headers=bearer(without), json=body)
        assert response.status_code == 403 and response.json["code"] == "forbidden", (method, url)
        anonymous = getattr(client, method)(url, json=body)
        assert anonymous.status_code == 401 and anonymous.mimetype == "application/problem+json", (method, url)
        allowed = getattr(client, method)(url, headers=bearer(api_token(app, [perm])), json=body)
        assert allowed.status_code in (200, 422), (method, url, allowed.json)
    assert _state(app) == before


def test_validation_errors_in_the_asked_language(api):
    app, client, token = api
    order_id = _order(app)
    body = {"order_id": order_id, "method": "cash", "amount_minor": "ten", "as_credit": "perhaps"}
    en = client.post(f"{API}/payments", headers=bearer(token, **{"Accept-Language": "en"}), json=body)
    assert en.status_code == 422 and en.mimetype == "application/problem+json"
    assert en.json["errors"] == {"amount_minor": ["Not a valid whole number."],
                                 "as_credit": ["Not a valid boolean (use true or false)."]}
    zh = client.post(f"{API}/payments", headers=bearer(token, **{"Accept-Language": "zh-CN"}), json=body)
    assert zh.status_code == 422 and zh.json["detail"] != en.json["detail"]
    assert zh.json["errors"]["amount_minor"] == ["不是有效的整数。"]
    small = client.post(f"{API}/payments", headers=bearer(token, **{"Accept-Language": "zh-CN"}),
                        json={**body, "amount_minor": 0, "as_credit": False})
    assert small.status_code == 422 and small.json["errors"]["amount_minor"][0].startswith("必须在")


def test_endpoints_vanish_when_finance_is_switched_off(api, erp_plugin_off):
    app, client, token = api
    order_id = _order(app)
    spec = client.get("/api/v1/openapi.json").json
    assert f"{API}/payments" in spec["paths"] and f"{API}/orders/{{order_id}}/balance" in spec["paths"]
    erp_plugin_off(app, "finance")
    spec = client.get("/api/v1/openapi.json").json
    assert not [path for path in spec["paths"] if path.startswith(API)]
    admin = api_token(app, roles=["admin"])
    for _method, path, _perm in ENDPOINTS:
        assert client.get(API + path.format(payment=1, refund=1, order=order_id),
                          headers=bearer(admin)).status_code in (404, 405)
    assert client.get(f"{API}/payments", headers=bearer(admin)).status_code == 404


def test_payment_and_refund_events_reach_webhook_subscribers(api):
    app, client, token = api
    receiver = Receiver()
    allow_internal_webhooks(app)
    try:
        order_id = _order(app, ("100.00", 1, "0"))
        with app.app_context():
            hook = webhooks.create_webhook(receiver.url, ["payment.recorded", "refund.recorded"])
            db.session.commit()
            secret = hook.secret
        payment = _pay(client, token, order_id, 10000).json
        client.post(f"{API}/payments/{payment['id']}/refunds", headers=bearer(token),
                    json={"amount_minor": 2500, "reason": "chipped"})
        assert _pay(client, token, order_id, 99999).status_code == 422  # refused: nothing sent
        events = [(h["x-erp-event"], json.loads(b)) for h, b in receiver.requests]
        assert [e for e, _p in events] == ["payment.recorded", "refund.recorded", "refund.recorded"]
        assert events[0][1]["data"]["amount_minor"] == 10000 and events[0][1]["data"]["order_id"] == order_id
        assert [p["data"]["status"] for _e, p in events[1:]] == ["requested", "refunded"]
        headers, body = receiver.requests[0]
        assert webhooks.verify(secret, headers["x-erp-signature"], body)
    finally:
        receiver.close()


def test_api_conforms_to_its_schema(api):
    app, client, token = api
    order_id = _order(app, ("100.00", 1, "0"))
    payment = _pay(client, token, order_id, 5000).json
    client.post(f"{API}/payments/{payment['id']}/refunds", headers=bearer(token),
                json={"amount_minor": 100, "reason": "r"})
    _order(app)
    admin = api_token(app, roles=["admin"])
    assert run_conformance(app, admin) == []
