"""Payment methods configured through the JSON API: listed with their switch, switched on and
off, their settings fields set and checked as on the settings page; secrets never sent back;
the settings page's permission; audited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from erp_core import secretbox, settings
from erp_core.extensions import db
from erp_core.models import AuditLog, Setting
from tests.helpers import api_token, bearer

API = "/api/v1/finance/payment-methods"
CFG = "fincfg=tests.finance.configurable_plugin"
CONFIGURE = ["core.settings.manage"]


@pytest.fixture
def app(make_app):
    return make_app(plugins=["orders", "finance", CFG])


def _stored(app):
    with app.app_context():
        return {row.key: row.value for row in db.session.scalars(select(Setting).order_by(Setting.key))}


def _audit(app):
    with app.app_context():
        return [(e.before, e.after) for e in db.session.scalars(
            select(AuditLog).where(AuditLog.object_type == "settings").order_by(AuditLog.id))]


def test_the_list_shows_switched_on_methods_and_all_of_them_to_who_may_configure(app):
    client = app.test_client()
    viewer, admin = api_token(app, ["finance.view"]), api_token(app, ["finance.view", *CONFIGURE])
    codes = [m["code"] for m in client.get(API, headers=bearer(viewer)).json["items"]]
    assert "cfg_pay" not in codes and "cash" in codes
    every = client.get(f"{API}?include_disabled=true", headers=bearer(admin)).json["items"]
    assert {m["code"]: m["enabled"] for m in every}["cfg_pay"] is False
    assert client.get(f"{API}?include_disabled=true", headers=bearer(viewer)).status_code == 403


def test_a_method_is_read_with_its_settings_and_switched_on_and_off(app):
    client, token = app.test_client(), api_token(app, CONFIGURE)
    body = client.get(f"{API}/cfg_pay", headers=bearer(token)).json
    assert body["enabled"] is False and body["online"] is False
    fields = {f["name"]: f for f in body["settings"]}
    assert list(fields) == ["merchant_id", "timeout", "sandbox", "region", "api_secret"]
    assert fields["timeout"]["value"] == 30 and fields["sandbox"]["value"] is True
    assert fields["region"]["choices"] == [{"value": "cn", "label": "Mainland"}, {"value": "hk", "label": "Hong Kong"}]
    assert fields["api_secret"] == {**fields["api_secret"], "value": None, "is_set": False, "kind": "secret"}

    on = client.patch(f"{API}/cfg_pay", json={"enabled": True}, headers=bearer(token))
    assert on.status_code == 200 and on.json["enabled"] is True
    with app.test_request_context():
        from plugins.finance import services

        assert "cfg_pay" in [cls.code for cls in services.enabled_methods()]
    off = client.patch(f"{API}/cfg_pay", json={"enabled": False}, headers=bearer(token))
    assert off.json["enabled"] is False and _stored(app)["finance.method.cfg_pay"] is False
    assert _audit(app) == [({"finance.method.cfg_pay": False}, {"finance.method.cfg_pay": True}),
                           ({"finance.method.cfg_pay": True}, {"finance.method.cfg_pay": False})]


def test_settings_are_set_typed_and_the_secret_is_write_only(app):
    client, token = app.test_client(), api_token(app, CONFIGURE)
    response = client.patch(f"{API}/cfg_pay", headers=bearer(token), json={"settings": {
        "merchant_id": "  M-42 ", "timeout": 45, "sandbox": False, "region": "hk", "api_secret": "s3cret-value-77"}})
    assert response.status_code == 200, response.json
    assert "s3cret-value-77" not in response.get_data(as_text=True)
    fields = {f["name"]: f for f in response.json["settings"]}
    assert (fields["merchant_id"]["value"], fields["timeout"]["value"], fields["sandbox"]["value"],
            fields["region"]["value"]) == ("M-42", 45, False, "hk")
    assert fields["api_secret"]["is_set"] is True and fields["api_secret"]["value"] is None
    stored = _stored(app)
    assert secretbox.is_sealed(stored["finance.cfg_pay.api_secret"]) and stored["finance.cfg_pay.timeout"] == 45
    assert "s3cret-value-77" not in json.dumps(stored)
    [(before, after)] = _audit(app)
    assert after["finance.cfg_pay.api_secret"] == "***" and "s3cret-value-77" not in json.dumps([before, after])

    kept = client.patch(f"{API}/cfg_pay", json={"settings": {"api_secret": "", "timeout": 60}}, headers=bearer(token))
    assert kept.status_code == 200
    assert _stored(app)["finance.cfg_pay.timeout"] == 60
    with app.test_request_context():
        from plugins.finance import services

        assert services.get_adapter("cfg_pay", must_be_enabled=False).settings["api_secret"] == "s3cret-value-77"


@pytest.mark.parametrize("values,field", [
    ({"merchant_id": "X-1"}, "merchant_id"),          # the field's own validate
    ({"merchant_id": "   "}, "merchant_id"),          # required
    ({"timeout": "45"}, "timeout"),                   # text for a whole number
    ({"timeout": True}, "timeout"),
    ({"sandbox": "yes"}, "sandbox"),
    ({"region": "mars"}, "region"),                   # not one of the choices
    ({"region": 3}, "region"),
    ({"api_secret": "x" * 2001}, "api_secret"),
    ({"api_secret": ["a"]}, "api_secret"),
    ({"colour": "red"}, "colour"),                    # no such setting
])
def test_a_refused_value_refuses_the_whole_request(app, values, field):
    client, token = app.test_client(), api_token(app, CONFIGURE)
    before = _stored(app)
    body = {"enabled": True, "settings": {"timeout": 99, **values}}
    response = client.patch(f"{API}/cfg_pay", json=body, headers=bearer(token))
    assert response.status_code == 422, response.json
    assert list(response.json["errors"]) == [f"settings.{field}"]
    assert _stored(app) == before and _audit(app) == []


def test_messages_are_in_the_readers_language(app):
    client, token = app.test_client(), api_token(app, CONFIGURE)
    response = client.patch(f"{API}/cfg_pay", json={"settings": {"timeout": "x", "colour": "red"}},
                            headers=bearer(token, **{"Accept-Language": "zh-CN"}))
    assert response.status_code == 422
    assert response.json["errors"]["settings.timeout"] == ["不是有效的整数。"]
    assert response.json["errors"]["settings.colour"] == ["支付方式 cfg_pay 没有名为 colour 的设置项。"]


def test_unknown_methods_are_404_and_configuring_needs_the_settings_permission(app):
    client = app.test_client()
    admin = api_token(app, CONFIGURE)
    assert client.get(f"{API}/nosuch", headers=bearer(admin)).status_code == 404
    assert client.patch(f"{API}/nosuch", json={"enabled": True}, headers=bearer(admin)).status_code == 404
    finance_user = api_token(app, ["finance.view", "finance.payments.record", "finance.refunds.manage"])
    assert client.get(f"{API}/cfg_pay", headers=bearer(finance_user)).status_code == 403
    assert client.patch(f"{API}/cfg_pay", json={"enabled": True}, headers=bearer(finance_user)).status_code == 403
    with app.test_request_context():
        assert settings.get("finance.method.cfg_pay") is False
    assert _audit(app) == []
