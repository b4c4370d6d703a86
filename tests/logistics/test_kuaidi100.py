"""The Kuaidi100 adapter: its contract kit, the documented requests against a local fake server,
the state table, and whole flows (subscription, signed push, query sync, replays) on the database."""

from __future__ import annotations

import json
import threading
import urllib.parse
from datetime import UTC, datetime

import pytest

from erp_core import settings
from erp_core.extensions import db
from erp_core.models import AuditLog
from plugins.logistics import adapters as a
from plugins.logistics import jobs, services, states
from plugins.logistics.kuaidi100 import STATES, Kuaidi100Adapter, md5_upper, state_meaning
from plugins.logistics.models import Carrier, DeliveryException, Shipment, TrackingEvent
from plugins.logistics.testing import CarrierAdapterContract
from tests.helpers import login, make_user
from tests.logistics.conftest import make_order
from tests.logistics.kuaidi100_fake import FakeKuaidi100, trace

CREDENTIALS = {"customer": "CUST-1", "api_key": "test-key", "company": "yuantong", "phone": ""}
NUMBER = Kuaidi100Adapter.example_tracking_number
# The documented sample trace (实时快递查询 §1.7 shape), newest first, in China time.
SAMPLE = trace(("2026-01-16 17:30:00", "3", "您的快件已签收，签收人：本人", "上海市"),
               ("2026-01-16 09:10:00", "5", "快件正在派送中", "上海市"),
               ("2026-01-15 22:00:00", "0", "快件离开【杭州转运中心】", "杭州市"),
               ("2026-01-15 16:00:00", "1", "快件已揽收", "杭州市"))

_FAKE = FakeKuaidi100()


@pytest.fixture(scope="module", autouse=True)
def _fake_server():
    with _FAKE:
        yield _FAKE


@pytest.fixture
def fake():
    _FAKE.parcels.clear()
    _FAKE.subscriptions.clear()
    _FAKE.requests.clear()
    _FAKE.add_parcel("yuantong", NUMBER, "3", SAMPLE)
    return _FAKE


def _adapter(secret="salt-secret", **credentials):
    return Kuaidi100Adapter(a.CarrierConfig("k100", "Kuaidi100", {**CREDENTIALS, **credentials}, webhook_secret=secret),
                            base_url=_FAKE.url)


class TestKuaidi100Contract(CarrierAdapterContract):
    credentials = CREDENTIALS

    @staticmethod
    def adapter_factory(config):
        _FAKE.add_parcel("yuantong", NUMBER, "3", SAMPLE)
        return Kuaidi100Adapter(config, base_url=_FAKE.url)

    def sample_events(self, number):
        """Kuaidi100 has no state for an address problem: the kit's second event is a refusal (14 拒签)."""
        return [a.TrackingEvent(number, datetime(2026, 1, 15, 8, 0, tzinfo=UTC), a.PICKED_UP, "Picked up", "Shanghai"),
                a.TrackingEvent(number, datetime(2026, 1, 16, 9, 30, tzinfo=UTC), a.EXCEPTION, "Refused", "Hangzhou",
                                exception_kind=a.REFUSED)]


# ----------------------------------------------------------------------------- the documented requests


def test_the_query_is_signed_as_documented_and_read_oldest_first(fake):
    events = _adapter(phone="138 0013 8000").fetch_tracking(NUMBER.lower())
    path, fields = fake.requests[-1]
    assert path == "/poll/query.do" and fields["customer"] == "CUST-1"
    assert fields["sign"] == md5_upper(fields["param"] + "test-key" + "CUST-1")  # MD5(param + key + customer)
    assert json.loads(fields["param"]) == {"com": "yuantong", "num": NUMBER, "resultv2": "4", "show": "0",
                                           "order": "desc", "phone": "13800138000"}
    assert [e.status for e in events] == [a.PICKED_UP, a.IN_TRANSIT, a.OUT_FOR_DELIVERY, a.DELIVERED]
    assert events[0].occurred_at == datetime(2026, 1, 15, 8, 0, tzinfo=UTC)  # 16:00 China time
    assert events[-1].description == "您的快件已签收，签收人：本人" and events[-1].location == "上海市"


def test_query_refusals_are_explained_and_no_result_is_no_event(fake):
    assert _adapter().fetch_tracking("YT0000000000") == []  # 500 查询无结果
    with pytest.raises(a.AdapterError, match="503 验证签名失败"):
        _adapter(api_key="wrong").fetch_tracking(NUMBER)
    with pytest.raises(a.AdapterError, match="408"):
        _adapter(company="shunfeng").fetch_tracking(NUMBER)  # SF needs a phone
    unreachable = Kuaidi100Adapter(a.CarrierConfig("k", "k", CREDENTIALS), base_url="http://127.0.0.1:9")
    with pytest.raises(a.AdapterError, match="could not be reached"):
        unreachable.fetch_tracking(NUMBER)


def test_without_per_event_codes_the_state_names_or_the_main_state_are_used():
    adapter = _adapter()
    result = {"nu": NUMBER, "state": "14", "data": [
        {"time": "2026-01-16 10:00:00", "context": "收件人拒收"},
        {"time": "2026-01-15 10:00:00", "context": "已揽收", "status": "揽收"}]}
    events = adapter.read_result(result)
    assert [(e.status, e.exception_kind) for e in events] == [(a.PICKED_UP, None), (a.EXCEPTION, a.REFUSED)]


@pytest.mark.parametrize(("code", "meaning"), [
    ("0", (a.IN_TRANSIT, None)), ("1", (a.PICKED_UP, None)), ("2", (a.EXCEPTION, a.DELAYED)),
    ("3", (a.DELIVERED, None)), ("4", (a.RETURNED, None)), ("5", (a.OUT_FOR_DELIVERY, None)),
    ("6", (a.EXCEPTION, a.RETURNED_TO_SENDER)), ("7", (a.IN_TRANSIT, None)), ("8", (a.IN_TRANSIT, None)),
    ("14", (a.EXCEPTION, a.REFUSED)), ("101", (a.INFO, None)), ("103", (a.PICKED_UP, None)),
    ("1001", (a.IN_TRANSIT, None)), ("501", (a.OUT_FOR_DELIVERY, None)), ("304", (a.DELIVERED, None)),
    ("401", (a.EXCEPTION, a.LOST)), ("13", (a.EXCEPTION, a.DELAYED)),
    ("207", (a.EXCEPTION, a.DELAYED)),  # an undocumented 疑难 sub-state: its main state
    ("1009", (a.IN_TRANSIT, None)), ("99", (a.IN_TRANSIT, None)), ("", (a.IN_TRANSIT, None))])
def test_states_map_onto_events(code, meaning):
    assert state_meaning(code) == meaning


def test_every_mapped_state_is_a_known_event():
    for status, kind in STATES.values():
        assert status in a.EVENT_STATUSES and (kind is None or kind in a.EXCEPTION_KINDS)


def test_subscription_is_sent_as_documented_and_refusals_explained(fake):
    adapter = _adapter(secret="the-salt")
    adapter.subscribe(NUMBER, "https://shop.example/logistics/webhooks/k100")
    path, fields = fake.requests[-1]
    assert path == "/poll" and fields["schema"] == "json"
    assert json.loads(fields["param"]) == {
        "company": "yuantong", "number": NUMBER, "key": "test-key",
        "parameters": {"callbackurl": "https://shop.example/logistics/webhooks/k100", "salt": "the-salt",
                       "resultv2": "4"}}
    adapter.subscribe(NUMBER, "https://shop.example/logistics/webhooks/k100")  # 501 重复订阅: already done
    with pytest.raises(a.AdapterError, match="600"):
        _adapter(api_key="wrong").subscribe("YT99999999", "https://shop.example/x")


def test_the_push_is_verified_in_the_documented_way(fake):
    adapter = _adapter(secret="the-salt")
    adapter.subscribe(NUMBER, "https://shop.example/cb")
    _url, body = fake.push_body("yuantong", NUMBER)
    events = adapter.parse_webhook({}, body)
    assert [e.status for e in events] == [a.PICKED_UP, a.IN_TRANSIT, a.OUT_FOR_DELIVERY, a.DELIVERED]
    assert [e.key() for e in events] == [e.key() for e in adapter.fetch_tracking(NUMBER)]  # pulled = pushed
    _url, forged = fake.push_body("yuantong", NUMBER, salt="not-the-salt")
    with pytest.raises(a.WebhookRejected):
        adapter.parse_webhook({}, forged)
    fields = dict(urllib.parse.parse_qsl(body.decode()))
    lower = urllib.parse.urlencode({"param": fields["param"], "sign": fields["sign"].lower()}).encode()
    assert adapter.parse_webhook({}, lower)  # the signature's letter case does not matter
    abort = {"status": "abort", "message": "3天查询无记录", "lastResult": {"nu": NUMBER, "state": "0", "data": []}}
    assert adapter.parse_webhook({}, adapter.signed_test_push(json.dumps(abort).encode())[1]) == []


def test_the_answers_to_pushes_are_kuaidi100s():
    adapter = _adapter()
    body, media_type = adapter.webhook_answer(None)
    assert json.loads(body) == {"result": True, "returnCode": "200", "message": "成功"}
    assert media_type == "application/json"
    refused = json.loads(adapter.webhook_answer(a.WebhookRejected("bad signature"))[0])
    assert refused["result"] is False and refused["returnCode"] == "401"


def test_credentials_are_checked():
    assert Kuaidi100Adapter.validate_credentials(CREDENTIALS) == {}
    problems = Kuaidi100Adapter.validate_credentials({**CREDENTIALS, "company": "acme", "phone": "<b>"})
    assert problems["company"] == "choice" and "phone" in problems
    assert set(Kuaidi100Adapter.validate_credentials({})) == {"customer", "api_key", "company"}


def test_the_tracking_link_names_the_company():
    assert _adapter(company="zhongtong").tracking_url("ZT1234567") == \
        "https://www.kuaidi100.com/chaxun?com=zhongtong&nu=ZT1234567"


def test_test_connection_reports_the_providers_answer(fake):
    ok, message = _adapter().test_connection()
    assert ok and "ok" in message
    ok, message = _adapter(api_key="wrong").test_connection()
    assert not ok and "503" in message and "验证签名失败" in message


# ----------------------------------------------------------------------------- whole flows on the database


@pytest.fixture
def k100(app, fake, monkeypatch):
    """A Kuaidi100 carrier talking to the fake; the site's address set for the callbacks."""
    monkeypatch.setattr(Kuaidi100Adapter, "base_url", fake.url)
    monkeypatch.setattr(services.tracking, "_future_hours", lambda: 24 * 3650)
    with app.test_request_context():
        settings.set_many({"logistics.public_url": "https://shop.example"})
        carrier = services.create_carrier("YTO via Kuaidi100", "yto", "kuaidi100", dict(CREDENTIALS))
        db.session.commit()
        return carrier.id


def _ship(app, carrier_id, number=NUMBER):
    with app.test_request_context():
        order = make_order()
        quantities = {k: v for k, v in services.remaining_by_line(order).items() if v}
        shipment = services.create_shipment(order, services.ShipmentInput(
            carrier_id=carrier_id, quantities=quantities, tracking_number=number))
        db.session.commit()
        return shipment.id


def _shipment(app, shipment_id):
    with app.app_context():
        shipment = db.session.get(Shipment, shipment_id)
        db.session.expunge(shipment)
        return shipment


def test_a_shipment_is_subscribed_and_the_signed_push_moves_it(app, fake, k100):
    shipment_id = _ship(app, k100)
    assert _shipment(app, shipment_id).registration == "done"
    with app.app_context():
        salt = services.webhook_secret(db.session.get(Carrier, k100))
    subscription = fake.subscriptions[("yuantong", NUMBER)]
    assert subscription["parameters"] == {"callbackurl": "https://shop.example/logistics/webhooks/yto",
                                          "salt": salt, "resultv2": "4"}
    url, body = fake.push_body("yuantong", NUMBER)
    response = app.test_client().post(urllib.parse.urlparse(url).path, data=body,
                                      content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert response.get_json() == {"result": True, "returnCode": "200", "message": "成功"}
    shipment = _shipment(app, shipment_id)
    assert shipment.status == states.DELIVERED
    with app.app_context():
        assert db.session.query(TrackingEvent).filter_by(shipment_id=shipment_id).count() == 4
        # the same events pulled later are known already
        assert jobs.sync_shipment(shipment_id) is None  # delivered shipments are not pulled


def test_a_refusal_pushed_opens_a_refused_exception(app, fake, k100):
    shipment_id = _ship(app, k100)
    fake.add_parcel("yuantong", NUMBER, "14", trace(("2026-01-16 11:00:00", "14", "收件人拒签", "上海市"),
                                                    ("2026-01-15 16:00:00", "1", "快件已揽收", "杭州市")))
    url, body = fake.push_body("yuantong", NUMBER)
    assert app.test_client().post(urllib.parse.urlparse(url).path, data=body).status_code == 200
    with app.app_context():
        exception = db.session.query(DeliveryException).one()
        assert exception.kind == a.REFUSED and exception.shipment_id == shipment_id
        assert db.session.get(Shipment, shipment_id).status == states.EXCEPTION


def test_a_wrong_signature_changes_nothing_and_is_answered_with_result_false(app, fake, k100):
    shipment_id = _ship(app, k100)
    url, body = fake.push_body("yuantong", NUMBER, salt="someone-elses-salt")
    response = app.test_client().post(urllib.parse.urlparse(url).path, data=body)
    assert response.status_code == 401
    assert response.get_json()["result"] is False
    with app.app_context():
        assert db.session.query(TrackingEvent).count() == 0
        assert db.session.get(Shipment, shipment_id).status == states.IN_TRANSIT


def test_the_query_sync_stores_the_trace(app, fake, k100):
    fake.add_parcel("yuantong", NUMBER, "0", SAMPLE[2:])
    shipment_id = _ship(app, k100)
    with app.app_context():
        assert jobs.sync_tracking() == {"shipments": 1, "new": 2, "duplicate": 0, "failed": 0}
    fake.add_parcel("yuantong", NUMBER, "3", SAMPLE)
    with app.app_context():
        assert jobs.sync_tracking() == {"shipments": 1, "new": 2, "duplicate": 2, "failed": 0}
    assert _shipment(app, shipment_id).status == states.DELIVERED


def test_a_refused_subscription_can_be_asked_again(app, fake, k100):
    fake.subscriptions[("yuantong", NUMBER)] = {}  # taken by someone else: the fake answers 501...
    fake.key = "other"  # ...but first it refuses the key (600)
    try:
        shipment_id = _ship(app, k100)
        shipment = _shipment(app, shipment_id)
        assert shipment.registration == "failed" and "600" in shipment.registration_error
    finally:
        fake.key = "test-key"
    fake.subscriptions.clear()
    with app.test_request_context():
        services.retry_registration(db.session.get(Shipment, shipment_id))
        db.session.commit()
    assert _shipment(app, shipment_id).registration == "done"
    with app.app_context():
        actions = [r.action for r in db.session.query(AuditLog).filter_by(object_type="shipment")]
        assert "registration_failed" in actions and "subscribed" in actions


def test_the_same_push_delivered_at_once_is_stored_once(app, fake, k100):
    shipment_id = _ship(app, k100)
    url, body = fake.push_body("yuantong", NUMBER)
    path = urllib.parse.urlparse(url).path
    barrier = threading.Barrier(4)
    results = [None] * 4

    def post(index):
        client = app.test_client()
        barrier.wait()
        results[index] = client.post(path, data=body, content_type="application/x-www-form-urlencoded").status_code

    threads = [threading.Thread(target=post, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 4
    with app.app_context():
        assert db.session.query(TrackingEvent).filter_by(shipment_id=shipment_id).count() == 4
        assert db.session.get(Shipment, shipment_id).status == states.DELIVERED
        assert db.session.query(AuditLog).filter_by(object_type="shipment", action="status_changed").count() == 2


# ----------------------------------------------------------------------------- the carrier page


def _client(app, perms=(), roles=()):
    client = app.test_client()
    login(client, app, make_user(app, perms=list(perms), roles=list(roles)))
    return client


def test_test_the_connection_on_the_carrier_page(app, fake, k100):
    admin = _client(app, roles=["admin"])
    page = admin.get(f"/logistics/carriers/{k100}").get_data(as_text=True)
    assert "Test the connection" in page and "https://shop.example/logistics/webhooks/yto" in page
    response = admin.post(f"/logistics/carriers/{k100}/test-connection", follow_redirects=True)
    assert "The connection of YTO via Kuaidi100 works." in response.get_data(as_text=True)
    with app.test_request_context():
        carrier = db.session.get(Carrier, k100)
        services.update_carrier(carrier, carrier.name, {**CREDENTIALS, "api_key": "wrong"})
        db.session.commit()
    page = admin.post(f"/logistics/carriers/{k100}/test-connection", follow_redirects=True).get_data(as_text=True)
    assert "The connection of YTO via Kuaidi100 failed." in page and "503" in page
    with app.app_context():
        tests = db.session.query(AuditLog).filter_by(object_type="carrier", action="connection_tested").all()
        assert [t.after["ok"] for t in tests] == [True, False]


def test_test_the_connection_needs_the_permission_and_a_capable_adapter(app, fake, k100):
    viewer = _client(app, perms=["logistics.view", "logistics.ship"])
    assert viewer.post(f"/logistics/carriers/{k100}/test-connection").status_code == 403
    with app.test_request_context():
        manual = services.create_carrier("Manual", "manual-1", "manual", {})
        db.session.commit()
        manual_id = manual.id
    admin = _client(app, roles=["admin"])
    assert "Test the connection" not in admin.get(f"/logistics/carriers/{manual_id}").get_data(as_text=True)
    assert admin.post(f"/logistics/carriers/{manual_id}/test-connection").status_code == 404
    assert not fake.requests


def test_the_company_is_chosen_from_a_list(app, k100):
    admin = _client(app, roles=["admin"])
    page = admin.get("/logistics/carriers/new?adapter=kuaidi100").get_data(as_text=True)
    assert '<select' in page and 'value="zhongtong"' in page
    with app.test_request_context():
        with pytest.raises(services.Invalid) as refused:
            services.create_carrier("Bad", "bad-1", "kuaidi100", {**CREDENTIALS, "company": "acme"})
        assert "cred_company" in refused.value.errors
        db.session.rollback()
        assert db.session.query(Carrier).filter_by(code="bad-1").count() == 0
