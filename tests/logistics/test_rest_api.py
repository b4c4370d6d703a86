"""The logistics JSON API: carriers, shipments, tracking events, delivery exceptions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from erp_core import webhooks
from erp_core.api.models import IdempotencyRecord
from erp_core.extensions import db
from erp_core.testing import allow_internal_webhooks
from plugins.logistics import adapters as a
from plugins.logistics import services
from plugins.logistics.models import Shipment, TrackingEvent
from plugins.orders import states as order_states
from plugins.orders.models import Order
from tests.core.test_api_conformance import run_conformance
from tests.core.test_webhooks import Receiver
from tests.helpers import QueryCounter, api_token, bearer
from tests.logistics.conftest import make_carriers, make_order, ship

API = "/api/v1/logistics"
ALL_PERMS = ["logistics.view", "logistics.ship", "logistics.exceptions"]




@pytest.fixture
def api(app):
    """The app, a client and a token with every logistics permission."""
    return app, app.test_client(), api_token(app, ALL_PERMS)


def _setup(app, **order_kw):
    with app.test_request_context():
        demo, manual = make_carriers()
        order = make_order(**order_kw)
        return order.id, {line.id: line.quantity for line in order.lines}, demo.id, manual.id


def _counts(app):
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Shipment)),
                db.session.scalar(select(func.count()).select_from(TrackingEvent)),
                [o.status for o in db.session.scalars(select(Order).order_by(Order.id))])


def _ship_body(order_id, lines, carrier_id, **extra):
    body = {"order_id": order_id, "carrier_id": carrier_id,
            "lines": [{"order_line_id": line_id, "quantity": qty} for line_id, qty in lines.items()],
            "carrier_name": "SF Express", "tracking_number": f"SF-API-{order_id}"}
    body.update(extra)
    return body


# ----------------------------------------------------------------------------- carriers


def test_carriers_lists_enabled_ones_without_credentials(api):
    app, client, token = api
    with app.test_request_context():
        demo, _manual = make_carriers()
        services.set_carrier_enabled(demo, False)
        db.session.commit()
    response = client.get(f"{API}/carriers", headers=bearer(token))
    assert response.status_code == 200
    body = response.json
    assert [c["code"] for c in body["items"]] == ["other"] and body["total"] == 1
    item = body["items"][0]
    assert item["asks_carrier_name"] is True and item["issues_tracking_numbers"] is False and item["available"]
    assert "credentials" not in item and "tracking_url_template" not in json.dumps(body)


# ----------------------------------------------------------------------------- shipments


def test_create_shipment_and_read_it_back(api):
    app, client, token = api
    order_id, lines, _demo, manual = _setup(app)
    first_line = next(iter(lines))
    response = client.post(f"{API}/shipments", headers=bearer(token), json=_ship_body(
        order_id, {first_line: 2}, manual, packages=2, weight_grams=1500, notes="fragile",
        expected_delivery=(datetime.now(UTC) + timedelta(days=3)).date().isoformat()))
    assert response.status_code == 201, response.json
    body = response.json
    assert body["number"].startswith("SH-") and body["status"] == "in_transit"
    assert body["order_id"] == order_id and body["carrier"] == "SF Express"
    assert body["tracking_number"] == f"SF-API-{order_id}" and body["weight_grams"] == 1500
    assert body["packages"] == 2 and body["notes"] == "fragile"
    assert [(l["order_line_id"], l["quantity"]) for l in body["lines"]] == [(first_line, 2)]
    assert body["events"] == [] and body["tracking_url"].endswith(f"n=SF-API-{order_id}")
    assert response.headers["Location"].endswith(f"/shipments/{body['id']}")
    got = client.get(response.headers["Location"], headers=bearer(token))
    assert got.status_code == 200 and got.json["number"] == body["number"]
    with app.app_context():
        assert db.session.get(Order, order_id).status == order_states.PARTIALLY_SHIPPED


def test_carrier_that_issues_tracking_numbers_registers_after_commit(api):
    app, client, token = api
    order_id, lines, demo, _manual = _setup(app)
    response = client.post(f"{API}/shipments", headers=bearer(token),
                           json={"order_id": order_id, "carrier_id": demo,
                                 "lines": [{"order_line_id": k, "quantity": v} for k, v in lines.items()]})
    assert response.status_code == 201, response.json
    got = client.get(f"{API}/shipments/{response.json['id']}", headers=bearer(token)).json
    assert got["registration"] == "done" and got["tracking_number"]
    with app.app_context():
        assert db.session.get(Order, order_id).status == order_states.SHIPPED


def test_refused_shipments_change_nothing(api):
    app, client, token = api
    order_id, lines, _demo, manual = _setup(app)
    line_id, qty = next(iter(lines.items()))
    with app.test_request_context():
        draft = make_order(status=order_states.DRAFT)
        cancelled = make_order(status=order_states.CANCELLED)
        draft_id, draft_line = draft.id, draft.lines[0].id
        cancelled_id, cancelled_line = cancelled.id, cancelled.lines[0].id
        ship(make_order(), make_carriers()[1], tracking_number="TAKEN-1")
    before = _counts(app)
    too_many = client.post(f"{API}/shipments", headers=bearer(token),
                           json=_ship_body(order_id, {line_id: qty + 1}, manual))
    assert too_many.status_code == 422 and too_many.mimetype == "application/problem+json"
    assert f"only {qty} left" in too_many.json["errors"]["lines"][0]
    for refused_order, refused_line in ((draft_id, draft_line), (cancelled_id, cancelled_line)):
        response = client.post(f"{API}/shipments", headers=bearer(token),
                               json=_ship_body(refused_order, {refused_line: 1}, manual))
        assert response.status_code == 409 and response.json["code"] == "conflict"
        assert "only confirmed orders can be shipped" in response.json["detail"]
    duplicate = client.post(f"{API}/shipments", headers=bearer(token),
                            json=_ship_body(order_id, {line_id: 1}, manual, tracking_number="TAKEN-1"))
    assert duplicate.status_code == 422 and "already used" in duplicate.json["errors"]["tracking_number"][0]
    foreign = client.post(f"{API}/shipments", headers=bearer(token),
                          json=_ship_body(order_id, {draft_line: 1}, manual))
    assert foreign.status_code == 422 and "lines" in foreign.json["errors"]
    missing = client.post(f"{API}/shipments", headers=bearer(token),
                          json=_ship_body(999999, {line_id: 1}, manual))
    assert missing.status_code == 404
    assert _counts(app) == before


def test_switched_off_carrier_is_refused(api):
    app, client, token = api
    order_id, lines, demo, _manual = _setup(app)
    with app.test_request_context():
        services.set_carrier_enabled(services.get_carrier(demo), False)
        db.session.commit()
    before = _counts(app)
    response = client.post(f"{API}/shipments", headers=bearer(token),
                           json={"order_id": order_id, "carrier_id": demo,
                                 "lines": [{"order_line_id": k, "quantity": v} for k, v in lines.items()]})
    assert response.status_code == 422 and "switched off" in response.json["errors"]["carrier_id"][0]
    assert _counts(app) == before


def test_create_shipment_is_idempotent(api):
    app, client, token = api
    order_id, lines, _demo, manual = _setup(app)
    line_id = next(iter(lines))
    headers = bearer(token, **{"Idempotency-Key": "ship-1"})
    body = _ship_body(order_id, {line_id: 1}, manual)
    first = client.post(f"{API}/shipments", headers=headers, json=body)
    again = client.post(f"{API}/shipments", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert first.json == again.json and again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    other = client.post(f"{API}/shipments", headers=headers, json={**body, "notes": "different"})
    assert other.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Shipment)) == 1
    # a refusal is not remembered: the same key may be used again once the request is fixed
    key = bearer(token, **{"Idempotency-Key": "ship-2"})
    assert client.post(f"{API}/shipments", headers=key,
                       json=_ship_body(order_id, {line_id: 999}, manual, tracking_number="XX-2")).status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord)
                                 .where(IdempotencyRecord.key == "ship-2")) == 0


def test_list_filters_paginates_and_sorts(api):
    app, client, token = api
    with app.test_request_context():
        demo, manual = make_carriers()
        first = make_order()
        ship(first, manual, tracking_number="LIST-1")
        second = make_order()
        ship(second, demo)
        first_id, second_id, manual_id = first.id, second.id, manual.id
    listed = client.get(f"{API}/shipments", headers=bearer(token)).json
    assert listed["total"] == 2 and [s["order_id"] for s in listed["items"]] == [second_id, first_id]
    by_order = client.get(f"{API}/shipments?order_id={first_id}", headers=bearer(token)).json
    assert [s["tracking_number"] for s in by_order["items"]] == ["LIST-1"]
    assert client.get(f"{API}/shipments?carrier={manual_id}", headers=bearer(token)).json["total"] == 1
    assert client.get(f"{API}/shipments?status=in_transit", headers=bearer(token)).json["total"] == 2
    assert client.get(f"{API}/shipments?status=delivered", headers=bearer(token)).json["total"] == 0
    today = listed["items"][0]["ship_date"]
    assert client.get(f"{API}/shipments?from={today}&to={today}", headers=bearer(token)).json["total"] == 2
    assert client.get(f"{API}/shipments?to=2000-01-01", headers=bearer(token)).json["total"] == 0
    ascending = client.get(f"{API}/shipments?sort=number", headers=bearer(token)).json
    assert [s["order_id"] for s in ascending["items"]] == [first_id, second_id]
    page = client.get(f"{API}/shipments?per_page=1&page=1", headers=bearer(token))
    assert "page=2" in page.json["links"]["next"] and 'rel="next"' in page.headers["Link"]
    bad = client.get(f"{API}/shipments?status=flying", headers=bearer(token))
    assert bad.status_code == 422 and "status" in bad.json["errors"]


def test_lists_run_a_fixed_number_of_queries(api):
    app, client, token = api
    with app.test_request_context():
        demo, manual = make_carriers()
        order = make_order()
        shipment = ship(order, manual, tracking_number="QQ-1")
        services.raise_exception(shipment, a.LOST, "gone")
        db.session.commit()
    urls = (f"{API}/shipments", f"{API}/exceptions", f"{API}/carriers")
    counts = {}
    for url in urls:
        client.get(url, headers=bearer(token))
        with app.app_context():
            engine = db.engine
        with QueryCounter(engine) as few:
            assert client.get(url, headers=bearer(token)).status_code == 200
        counts[url] = few.count
    with app.test_request_context():
        demo, manual = make_carriers()
        for i in range(4):
            shipment = ship(make_order(), manual if i % 2 else demo, tracking_number=f"QQ-{i + 2}")
            services.raise_exception(shipment, a.DAMAGED, "crushed")
            db.session.commit()
        services.create_carrier("Third", "third", "manual", {"tracking_url_template": ""})
        db.session.commit()
    for url in urls:
        with QueryCounter(engine) as many:
            response = client.get(url, headers=bearer(token))
        assert response.status_code == 200 and response.json["total"] > 1
        assert many.count == counts[url], (url, many.statements)


# ----------------------------------------------------------------------------- tracking events


def test_staff_events_move_the_shipment_and_are_listed(api):
    app, client, token = api
    order_id, lines, _demo, manual = _setup(app)
    created = client.post(f"{API}/shipments", headers=bearer(token), json=_ship_body(order_id, lines, manual)).json
    url = f"{API}/shipments/{created['id']}/events"
    picked = client.post(url, headers=bearer(token), json={
        "status": "picked_up", "occurred_at": "2026-01-15T09:30:00+08:00", "location": "Shanghai"})
    assert picked.status_code == 201 and picked.json["source"] == "staff"
    assert picked.json["occurred_at"].startswith("2026-01-15T01:30:00")
    key = bearer(token, **{"Idempotency-Key": "delivered-1"})
    delivered = client.post(url, headers=key, json={"status": "delivered", "description": "signed by Li"})
    replay = client.post(url, headers=key, json={"status": "delivered", "description": "signed by Li"})
    assert delivered.status_code == replay.status_code == 201 and delivered.json == replay.json
    events = client.get(url, headers=bearer(token)).json
    assert [e["status"] for e in events["items"]] == ["picked_up", "delivered"] and events["total"] == 2
    detail = client.get(f"{API}/shipments/{created['id']}", headers=bearer(token)).json
    assert detail["status"] == "delivered" and len(detail["events"]) == 2
    with app.app_context():
        assert db.session.get(Order, order_id).status == order_states.DELIVERED
    before = _counts(app)
    late = client.post(url, headers=bearer(token), json={"status": "in_transit"})
    assert late.status_code == 409 and "takes no more events" in late.json["detail"]
    future = client.post(url, headers=bearer(token), json={
        "status": "in_transit", "occurred_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()})
    assert future.status_code == 400 and "occurred_at" in future.json["errors"]
    naive = client.post(url, headers=bearer(token), json={"status": "in_transit", "occurred_at": "2026-01-15T09:30:00"})
    assert naive.status_code == 422 and "occurred_at" in naive.json["errors"]
    wrong = client.post(url, headers=bearer(token), json={"status": "exception"})
    assert wrong.status_code == 422 and "status" in wrong.json["errors"]
    assert _counts(app) == before
    assert client.get(f"{API}/shipments/99999/events", headers=bearer(token)).status_code == 404


# ----------------------------------------------------------------------------- delivery exceptions


def test_exceptions_list_filters_and_detail(api):
    app, client, token = api
    with app.test_request_context():
        _demo, manual = make_carriers()
        lost = ship(make_order(), manual, tracking_number="EX-1")
        damaged = ship(make_order(), manual, tracking_number="EX-2")
        first = services.raise_exception(lost, a.LOST, "not found at the depot")
        services.raise_exception(damaged, a.DAMAGED, "box crushed")
        db.session.commit()
        first_id, lost_id = first.id, lost.id
    listed = client.get(f"{API}/exceptions", headers=bearer(token)).json
    assert listed["total"] == 2
    only = client.get(f"{API}/exceptions?kind=lost&status=open", headers=bearer(token)).json
    assert [e["id"] for e in only["items"]] == [first_id]
    assert only["items"][0]["shipment_number"].startswith("SH-") and only["items"][0]["note"] == "not found at the depot"
    assert client.get(f"{API}/exceptions?shipment_id={lost_id}", headers=bearer(token)).json["total"] == 1
    assert client.get(f"{API}/exceptions?status=resolved", headers=bearer(token)).json["total"] == 0
    assert client.get(f"{API}/exceptions?overdue=true", headers=bearer(token)).json["total"] == 0
    detail = client.get(f"{API}/exceptions/{first_id}", headers=bearer(token))
    assert detail.status_code == 200 and detail.json["kind"] == "lost" and detail.json["status"] == "open"
    assert client.get(f"{API}/exceptions/99999", headers=bearer(token)).status_code == 404


# ----------------------------------------------------------------------------- access, errors, switch


ENDPOINTS = [
    ("get", "/carriers", "logistics.view"),
    ("get", "/shipments", "logistics.view"),
    ("post", "/shipments", "logistics.ship"),
    ("get", "/shipments/{shipment}", "logistics.view"),
    ("get", "/shipments/{shipment}/events", "logistics.view"),
    ("post", "/shipments/{shipment}/events", "logistics.ship"),
    ("get", "/exceptions", "logistics.exceptions"),
    ("get", "/exceptions/{exception}", "logistics.exceptions"),
]


def test_every_endpoint_needs_a_token_and_its_permission(api):
    app, client, _token_all = api
    with app.test_request_context():
        _demo, manual = make_carriers()
        shipment = ship(make_order(), manual, tracking_number="PP-1")
        exception = services.raise_exception(shipment, a.LOST, "")
        db.session.commit()
        ids = {"shipment": shipment.id, "exception": exception.id}
    before = _counts(app)
    for method, path, perm in ENDPOINTS:
        url = API + path.format(**ids)
        others = [p for p in ALL_PERMS if p != perm]
        without = api_token(app, others)
        body = {} if method == "post" else None
        response = getattr(client, method)(url, headers=bearer(without), json=body)
        assert response.status_code == 403 and response.json["code"] == "forbidden", (method, url)
        anonymous = getattr(client, method)(url, json=body)
        assert anonymous.status_code == 401 and anonymous.mimetype == "application/problem+json", (method, url)
        allowed = getattr(client, method)(url, headers=bearer(api_token(app, [perm])), json=body)
        assert allowed.status_code in (200, 422), (method, url, allowed.json)
    assert _counts(app) == before


def test_validation_errors_in_the_asked_language(api):
    app, client, token = api
    order_id, lines, _demo, manual = _setup(app)
    en = client.post(f"{API}/shipments", headers=bearer(token, **{"Accept-Language": "en"}),
                     json={"carrier_id": "x", "lines": []})
    assert en.status_code == 422 and en.mimetype == "application/problem+json"
    assert en.json["detail"] == "Some values cannot be used."
    assert en.json["errors"]["order_id"] == ["This field is required."]
    assert en.json["errors"]["carrier_id"] == ["Not a valid whole number."]
    zh = client.post(f"{API}/shipments", headers=bearer(token, **{"Accept-Language": "zh-CN"}),
                     json={"carrier_id": "x", "lines": []})
    assert zh.status_code == 422 and zh.json["title"] != en.json["title"]
    assert zh.json["errors"]["order_id"] == ["此项为必填项。"]
    assert zh.json["errors"]["carrier_id"] == ["不是有效的整数。"]
    # a service's refusal, too
    refused = client.post(f"{API}/shipments", headers=bearer(token, **{"Accept-Language": "zh-CN"}),
                          json=_ship_body(order_id, lines, manual, tracking_number=""))
    assert refused.status_code == 422 and refused.json["errors"]["tracking_number"] == ["请填写快递单号。"]


def test_endpoints_vanish_when_logistics_is_switched_off(api, erp_plugin_off):
    app, client, token = api
    spec = client.get("/api/v1/openapi.json").json
    assert f"{API}/shipments" in spec["paths"] and f"{API}/shipments/{{shipment_id}}/events" in spec["paths"]
    erp_plugin_off(app, "logistics")
    spec = client.get("/api/v1/openapi.json").json
    assert not [path for path in spec["paths"] if path.startswith(API)]
    admin = api_token(app, roles=["admin"])
    for _method, path, _perm in ENDPOINTS:
        url = API + path.format(shipment=1, exception=1)
        assert client.get(url, headers=bearer(admin)).status_code in (404, 405)
    assert client.get(f"{API}/shipments", headers=bearer(admin)).status_code == 404


def test_shipment_events_reach_webhook_subscribers(api):
    app, client, token = api
    receiver = Receiver()
    allow_internal_webhooks(app)
    try:
        order_id, lines, demo, _manual = _setup(app)
        with app.app_context():
            hook = webhooks.create_webhook(receiver.url, ["shipment.status_changed"])
            db.session.commit()
            secret = hook.secret
        created = client.post(f"{API}/shipments", headers=bearer(token), json={
            "order_id": order_id, "carrier_id": demo,
            "lines": [{"order_line_id": k, "quantity": v} for k, v in lines.items()]}).json
        # the demo carrier has registered the shipment and stored a label: still deliverable
        client.post(f"{API}/shipments/{created['id']}/events", headers=bearer(token), json={"status": "delivered"})
        assert [h["x-erp-event"] for h, _b in receiver.requests] == ["shipment.status_changed"] * 2
        headers, body = receiver.requests[-1]
        assert webhooks.verify(secret, headers["x-erp-signature"], body)
        payload = json.loads(body)
        assert payload["new_status"] == "delivered" and payload["data"]["number"] == created["number"]
        assert "label_data" not in payload["data"]
        assert [(l["quantity"]) for l in payload["data"]["lines"]] == list(lines.values())
    finally:
        receiver.close()


def test_api_conforms_to_its_schema(api):
    app, _client, _token_all = api
    with app.test_request_context():
        _demo, manual = make_carriers()
        shipment = ship(make_order(), manual, tracking_number="CONF-1")
        services.raise_exception(shipment, a.DELAYED, "")
        make_order()
        db.session.commit()
    admin = api_token(app, roles=["admin"])
    assert run_conformance(app, admin) == []


def test_payment_before_shipping_holds_on_the_api_too(make_app):
    """Finance's "payment before shipping" rule refuses the API's shipment as it refuses the page's."""
    from erp_core import settings

    app = make_app(plugins=["orders", "logistics", "finance"])
    client, token = app.test_client(), api_token(app, ALL_PERMS)
    order_id, lines, _demo, manual = _setup(app)
    with app.app_context():
        settings.set_many({"finance.payment_before_shipping": True})
        db.session.commit()
    before = _counts(app)
    response = client.post(f"{API}/shipments", headers=bearer(token), json=_ship_body(order_id, lines, manual))
    # vetoed by another plugin: the order's state does not allow it now (as for the orders API)
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert response.json["code"] == "transition_vetoed"
    assert "payment before shipping" in response.json["detail"]
    assert _counts(app) == before
