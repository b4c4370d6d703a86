"""The ACME Express adapter against the fake carrier: the contract kit, the API calls, the failures."""

from __future__ import annotations

import json
import socket
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from acme_fake_server import ACCOUNT, API_KEY, sign
from erp_acme_express.adapter import AcmeExpressAdapter
from plugins.logistics import adapters as a
from plugins.logistics.testing import CarrierAdapterContract

SECRET = "webhook-secret-of-this-carrier"
CHINA = timezone(timedelta(hours=8))


class TestAcmeExpressContract(CarrierAdapterContract):
    """The logistics adapter contract kit, run against the fake ACME server."""

    adapter_factory = AcmeExpressAdapter

    @pytest.fixture(autouse=True)
    def _sandbox(self, acme):
        self.credentials = acme.credentials()


def adapter_for(acme, timeout=None, **credentials) -> AcmeExpressAdapter:
    config = a.CarrierConfig(code="acme", name="ACME Express", credentials=acme.credentials(**credentials),
                             webhook_secret=SECRET)
    return AcmeExpressAdapter(config, timeout=timeout)


def shipment_request(reference="SH-2026-000007", line1="88 Century Avenue") -> a.ShipmentRequest:
    return a.ShipmentRequest(
        reference=reference, order_number="SO-2026-000003", ship_date=date(2026, 3, 2),
        address=a.Address(recipient="韩梅梅", phone="139 0000 0000", line1=line1, city="上海", region="上海",
                          postcode="200120", country="CN"),
        lines=(a.ParcelLine("TEA-1", "Green tea", 3),), packages=2, weight_grams=1500)


def test_create_shipment_sends_the_parcel_and_returns_number_label_and_date(acme):
    created = adapter_for(acme).create_shipment(shipment_request())
    assert created.tracking_number == "AE100000001CN"
    assert created.label.content_type == "application/pdf" and created.label.data.startswith(b"%PDF")
    assert created.label.filename == "SH-2026-000007-acme-label.pdf"
    assert created.expected_delivery == date(2026, 3, 4)
    [call] = acme.acme.requests
    assert call["method"] == "POST" and call["path"] == "/v1/shipments"
    assert call["headers"]["Authorization"] == f"Bearer {API_KEY}" and call["headers"]["X-Acme-Account"] == ACCOUNT
    assert call["headers"]["Idempotency-Key"] == "SH-2026-000007"
    body = json.loads(call["body"])
    assert body["recipient"]["name"] == "韩梅梅" and body["recipient"]["address1"] == "88 Century Avenue"
    assert body["parcels"] == 2 and body["weight_grams"] == 1500
    assert body["contents"] == [{"sku": "TEA-1", "description": "Green tea", "quantity": 3}]


def test_asking_again_for_the_same_shipment_returns_the_same_parcel(acme):
    adapter = adapter_for(acme)
    first = adapter.create_shipment(shipment_request())
    assert adapter.create_shipment(shipment_request()).tracking_number == first.tracking_number
    assert adapter.create_shipment(shipment_request("SH-2026-000008")).tracking_number != first.tracking_number
    assert len(acme.acme.shipments) == 2


def test_fetch_tracking_maps_acme_codes_reasons_and_times(acme):
    adapter = adapter_for(acme)
    number = adapter.create_shipment(shipment_request()).tracking_number
    acme.acme.add_event(number, "PICKED_UP", datetime(2026, 3, 2, 15, 0, tzinfo=CHINA), "Picked up", "Shanghai")
    acme.acme.add_event(number, "EXCEPTION", datetime(2026, 3, 3, 9, 0, tzinfo=CHINA), "No such house number",
                        "Pudong", reason="BAD_ADDRESS")
    acme.acme.add_event(number, "TELEPORTED", datetime(2026, 3, 3, 10, 0, tzinfo=CHINA))  # unknown: skipped
    events = adapter.fetch_tracking(number.lower())
    assert [(e.status, e.exception_kind) for e in events] == [
        (a.INFO, None), (a.PICKED_UP, None), (a.EXCEPTION, a.ADDRESS_PROBLEM)]
    assert events[1].occurred_at == datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    assert events[1].event_id == f"{number}-1" and events[1].location == "Shanghai"
    assert acme.acme.requests[-1]["path"] == f"/v1/shipments/{number}/events"


def test_tracking_link_is_the_carriers_public_page(acme):
    adapter = adapter_for(acme)
    assert adapter.tracking_url("AE100000001CN") == f"{acme.url}/track/AE100000001CN"
    assert adapter_for(acme, api_url="javascript:alert(1)").tracking_url("AE100000001CN") is None


def test_a_push_signed_the_way_acme_signs_it_is_read(acme):
    body = json.dumps({"type": "tracking.updated", "events": [
        {"id": "e-9", "tracking_number": "AE100000001CN", "code": "DELIVERED", "reason": None,
         "time": "2026-03-04T10:30:00+08:00", "description": "Signed by 韩梅梅", "location": "Pudong"}]},
        ensure_ascii=False).encode("utf-8")
    [event] = adapter_for(acme).parse_webhook({"x-acme-signature": sign(SECRET, body)}, body)
    assert (event.status, event.occurred_at, event.description) == (
        a.DELIVERED, datetime(2026, 3, 4, 2, 30, tzinfo=UTC), "Signed by 韩梅梅")
    with pytest.raises(a.WebhookRejected):
        adapter_for(acme).parse_webhook({"X-Acme-Signature": sign("another secret", body)}, body)


@pytest.mark.parametrize("item", [
    {"tracking_number": "AE100000001CN", "code": "DELIVERED", "time": "2026-03-04T10:30:00"},      # no offset
    {"tracking_number": "AE100000001CN", "code": "BEAMED", "time": "2026-03-04T10:30:00+08:00"},   # unknown code
    {"tracking_number": "AE100000001CN", "code": "EXCEPTION", "time": "2026-03-04T10:30:00+08:00"},  # no reason
    {"tracking_number": "XX1", "code": "DELIVERED", "time": "2026-03-04T10:30:00+08:00"},          # not ACME's
])
def test_a_signed_push_with_an_unreadable_event_is_malformed(acme, item):
    body = json.dumps({"events": [item]}).encode()
    with pytest.raises(a.WebhookMalformed):
        adapter_for(acme).parse_webhook({"X-Acme-Signature": sign(SECRET, body)}, body)


def test_credentials_need_a_plain_web_address():
    good = {"api_url": "https://api.acme-express.example/", "account": "A", "api_key": "k"}
    assert AcmeExpressAdapter.validate_credentials(good) == {}
    for bad in ("ftp://acme.example", "https://acme.example/?x=1", "acme.example", "https://"):
        assert set(AcmeExpressAdapter.validate_credentials({**good, "api_url": bad})) == {"api_url"}
    assert set(AcmeExpressAdapter.validate_credentials({})) == {"api_url", "account", "api_key"}


# ----------------------------------------------------------------------------- failures


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("failure,expected", [
    ("500", "ACME Express had a server error (HTTP 500); try again later."),
    ("html", "ACME Express answered with something that is not a JSON object."),
    ("slow", "ACME Express did not answer within 0.5 seconds; try again later."),
])
@pytest.mark.parametrize("call", ["create", "track"])
def test_server_failures_become_a_clear_adapter_error(acme, failure, expected, call):
    number = adapter_for(acme).create_shipment(shipment_request()).tracking_number
    adapter = adapter_for(acme, timeout=0.5)
    acme.acme.fail_with, acme.acme.delay = failure, 2.0
    with pytest.raises(a.AdapterError) as failed:
        adapter.create_shipment(shipment_request("SH-2026-000009")) if call == "create" else adapter.fetch_tracking(number)
    assert str(failed.value) == expected


def test_an_unreachable_carrier_is_a_clear_adapter_error(acme):
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(a.AdapterError, match=f"ACME Express could not be reached at {url}; check the API address"):
        adapter_for(acme, api_url=url).create_shipment(shipment_request())


def test_refusals_say_why(acme):
    with pytest.raises(a.AdapterError, match=r"refused the account number or API key \(HTTP 401\)"):
        adapter_for(acme, api_key="wrong").create_shipment(shipment_request())
    with pytest.raises(a.AdapterError, match=r"refused the request \(HTTP 422\): recipient.address1 is required"):
        adapter_for(acme).create_shipment(shipment_request(line1=""))
    with pytest.raises(a.AdapterError, match="does not know the tracking number AE999999999CN"):
        adapter_for(acme).fetch_tracking("AE999999999CN")
    acme.acme.fail_with = "bad_number"
    with pytest.raises(a.AdapterError, match="malformed tracking number"):
        adapter_for(acme).create_shipment(shipment_request())


def test_a_broken_api_address_is_reported_without_calling_anyone(acme):
    with pytest.raises(a.AdapterError, match="API address is not set up correctly"):
        adapter_for(acme, api_url="").fetch_tracking("AE100000001CN")
    assert acme.acme.requests == []
