"""Carriers configured through the JSON API: adapters offered, create, read, change credentials,
switch on and off; secrets never sent back; the carriers page's permission; audited."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from erp_core import secretbox
from erp_core.extensions import db
from erp_core.models import AuditLog
from plugins.logistics import services
from plugins.logistics.models import Carrier
from tests.helpers import api_token, bearer
from tests.logistics.conftest import make_carriers

API = "/api/v1/logistics"
CONFIGURE = ["logistics.carriers"]


def _demo_body(**changes):
    body = {"code": "dex", "name": "DEX", "adapter": "demo_express",
            "credentials": {"account": "ACC-7", "api_key": "very-secret-key-42"}}
    body.update(changes)
    return body


def _carriers(app):
    """``(code, name, enabled, credentials in plain text)``; the secret ones must be stored sealed."""
    with app.app_context():
        rows = []
        for carrier in db.session.scalars(select(Carrier).order_by(Carrier.id)):
            plain = services.stored_credentials(carrier)
            cls = services.adapter_classes().get(carrier.adapter)
            for f in (cls.credential_fields if cls else ()):
                if f.secret and plain.get(f.key):
                    assert secretbox.is_sealed(carrier.credentials[f.key]), f.key
            rows.append((carrier.code, carrier.name, carrier.enabled, plain))
        return rows


def _audit(app):
    with app.app_context():
        return [(e.action, e.before, e.after) for e in db.session.scalars(
            select(AuditLog).where(AuditLog.object_type == "carrier").order_by(AuditLog.id))]


def test_adapters_are_listed_with_the_credentials_they_need(app):
    client, token = app.test_client(), api_token(app, CONFIGURE)
    response = client.get(f"{API}/carrier-adapters", headers=bearer(token))
    assert response.status_code == 200
    adapters = {a["key"]: a for a in response.json["items"]}
    assert {"manual", "demo_express"} <= set(adapters)
    fields = {f["key"]: f for f in adapters["demo_express"]["credential_fields"]}
    assert fields["api_key"]["secret"] is True and fields["api_key"]["required"] is True
    assert fields["account"]["secret"] is False and "webhook" in adapters["demo_express"]["supports"]


def test_a_carrier_is_created_read_and_its_secret_never_returned(app):
    client, token = app.test_client(), api_token(app, CONFIGURE + ["logistics.view"])
    response = client.post(f"{API}/carriers", json=_demo_body(), headers=bearer(token))
    assert response.status_code == 201, response.json
    body = response.json
    assert response.headers["Location"].endswith(f"{API}/carriers/{body['id']}")
    assert body["credentials"] == {"account": "ACC-7"} and body["secrets_set"] == {"api_key": True}
    assert body["enabled"] is True and body["available"] is True and body["issues_tracking_numbers"] is True
    assert body["webhook_url"] == "http://localhost/logistics/webhooks/dex"
    assert "very-secret-key-42" not in response.get_data(as_text=True)
    again = client.get(f"{API}/carriers/{body['id']}", headers=bearer(token))
    assert again.status_code == 200 and "very-secret-key-42" not in again.get_data(as_text=True)
    assert again.json["credentials"] == {"account": "ACC-7"}
    assert _carriers(app) == [("dex", "DEX", True, {"account": "ACC-7", "api_key": "very-secret-key-42"})]
    [(action, _before, after)] = _audit(app)
    assert action == "created" and after["api_key"] == "***" and "very-secret-key-42" not in json.dumps(after)


def test_bad_input_is_refused_field_by_field_and_nothing_is_stored(app):
    client, token = app.test_client(), api_token(app, CONFIGURE)
    with app.app_context():
        make_carriers()
    before = _carriers(app)
    cases = [
        (_demo_body(credentials={"account": "ACC-7"}), "credentials.api_key"),  # a required secret
        (_demo_body(credentials={"account": "ACC-7", "api_key": "k", "colour": "red"}), "credentials.colour"),
        (_demo_body(adapter="nosuch"), "adapter"),
        (_demo_body(code="other"), "code"),  # taken
        (_demo_body(code="Bad Code"), "code"),
        (_demo_body(name="   "), "name"),
        (_demo_body(credentials={"account": "<script>alert(1)</script>", "api_key": "x" * 501}), "credentials"),
    ]
    for body, field in cases:
        response = client.post(f"{API}/carriers", json=body, headers=bearer(token))
        assert response.status_code == 422, (body, response.json)
        assert any(key.startswith(field) for key in response.json["errors"]), (field, response.json)
    assert _carriers(app) == before
    chinese = client.post(f"{API}/carriers", json=_demo_body(code="other"),
                          headers=bearer(token, **{"Accept-Language": "zh-CN"}))
    assert chinese.status_code == 422 and "other" in chinese.json["errors"]["code"][0]
    assert "already used" not in chinese.json["errors"]["code"][0]


def test_credentials_change_in_part_and_a_blank_secret_keeps_the_stored_one(app):
    client, token = app.test_client(), api_token(app, CONFIGURE)
    carrier_id = client.post(f"{API}/carriers", json=_demo_body(), headers=bearer(token)).json["id"]
    url = f"{API}/carriers/{carrier_id}"
    response = client.patch(url, json={"credentials": {"account": "ACC-8", "api_key": ""}}, headers=bearer(token))
    assert response.status_code == 200, response.json
    assert response.json["credentials"] == {"account": "ACC-8"}
    assert _carriers(app)[0][3] == {"account": "ACC-8", "api_key": "very-secret-key-42"}
    response = client.patch(url, json={"name": "Demo 2", "credentials": {"api_key": "new-secret-99"}},
                            headers=bearer(token))
    assert response.status_code == 200 and response.json["name"] == "Demo 2"
    assert "new-secret-99" not in response.get_data(as_text=True)
    assert _carriers(app)[0][3] == {"account": "ACC-8", "api_key": "new-secret-99"}
    refused = client.patch(url, json={"name": "Renamed", "credentials": {"account": ""}}, headers=bearer(token))
    assert refused.status_code == 422 and "credentials.account" in refused.json["errors"]
    assert _carriers(app)[0][1:] == ("Demo 2", True, {"account": "ACC-8", "api_key": "new-secret-99"})
    changes = [(action, after) for action, _b, after in _audit(app)]
    assert [a for a, _ in changes] == ["created", "changed", "changed"]
    assert changes[2][1]["api_key"] == "*** (changed)" and "new-secret-99" not in json.dumps(changes)


def test_switching_off_and_on_and_the_list_of_switched_off_ones(app):
    viewer = api_token(app, ["logistics.view"])
    admin = api_token(app, CONFIGURE + ["logistics.view"])
    client = app.test_client()
    carrier_id = client.post(f"{API}/carriers", json=_demo_body(), headers=bearer(admin)).json["id"]
    url = f"{API}/carriers/{carrier_id}"
    off = client.patch(url, json={"enabled": False}, headers=bearer(admin))
    assert off.status_code == 200 and off.json["enabled"] is False
    assert client.get(f"{API}/carriers", headers=bearer(viewer)).json["items"] == []
    listed = client.get(f"{API}/carriers?include_disabled=true", headers=bearer(admin)).json["items"]
    assert [(c["code"], c["enabled"]) for c in listed] == [("dex", False)]
    assert client.get(f"{API}/carriers?include_disabled=true", headers=bearer(viewer)).status_code == 403
    on = client.patch(url, json={"enabled": True}, headers=bearer(admin))
    assert on.status_code == 200 and on.json["enabled"] is True
    assert [a for a, _b, _a in _audit(app)] == ["created", "disabled", "enabled"]
    assert client.patch(f"{API}/carriers/99999", json={"enabled": True}, headers=bearer(admin)).status_code == 404


def test_configuring_needs_the_carriers_permission(app):
    client = app.test_client()
    viewer = api_token(app, ["logistics.view", "logistics.ship"])
    with app.app_context():
        demo, _manual = make_carriers()
        demo_id = demo.id
    for method, url, body in [("get", f"{API}/carrier-adapters", None), ("post", f"{API}/carriers", _demo_body()),
                              ("get", f"{API}/carriers/{demo_id}", None),
                              ("patch", f"{API}/carriers/{demo_id}", {"enabled": False})]:
        response = getattr(client, method)(url, json=body, headers=bearer(viewer))
        assert response.status_code == 403, (method, url)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Carrier)) == 2
        assert db.session.get(Carrier, demo_id).enabled is True


def test_a_carrier_whose_adapter_is_gone_cannot_be_changed_but_can_be_switched_off(app):
    client, token = app.test_client(), api_token(app, CONFIGURE)
    with app.app_context():
        carrier = Carrier(code="gone", name="Gone", adapter="uninstalled", enabled=True, credentials={"k": "v"},
                          webhook_nonce="n" * 32, created_at=_now(), updated_at=_now())
        db.session.add(carrier)
        db.session.commit()
        carrier_id = carrier.id
    url = f"{API}/carriers/{carrier_id}"
    body = client.get(url, headers=bearer(token)).json
    assert body["available"] is False and body["credentials"] == {} and body["secrets_set"] == {}
    assert "v" not in body["credentials"].values()
    assert client.patch(url, json={"name": "New"}, headers=bearer(token)).status_code == 409
    assert client.patch(url, json={"enabled": False}, headers=bearer(token)).json["enabled"] is False


def _now():
    from erp_core.timeutil import utcnow

    return utcnow()
