"""Both built-in carrier adapters pass the contract kit that third-party adapters run too."""

from datetime import UTC, date, datetime, timedelta

import pytest

from plugins.logistics import adapters as a
from plugins.logistics.builtin_adapters import (
    SCENARIOS,
    DemoExpressAdapter,
    ManualAdapter,
    NamedManualAdapter,
    scenario_of,
)
from plugins.logistics.testing import CarrierAdapterContract


class TestManualAdapter(CarrierAdapterContract):
    adapter_factory = ManualAdapter
    credentials = {"tracking_url_template": "https://carrier.example/track?no={number}"}


class TestManualAdapterWithoutLink(CarrierAdapterContract):
    adapter_factory = ManualAdapter


class TestNamedManualAdapter(CarrierAdapterContract):
    adapter_factory = NamedManualAdapter
    credentials = {"tracking_url_template": "https://carrier.example/track?no={number}"}


def test_only_the_catch_all_manual_adapter_asks_for_the_carrier_name():
    assert ManualAdapter.asks_carrier_name is True
    assert NamedManualAdapter.asks_carrier_name is False


class TestDemoExpressAdapter(CarrierAdapterContract):
    adapter_factory = DemoExpressAdapter
    credentials = {"account": "DEMO-1", "api_key": "test-key"}


class TestAFactoryFunction(CarrierAdapterContract):
    """The kit takes any callable that builds an adapter from a CarrierConfig."""

    credentials = {"account": "DEMO-1", "api_key": "test-key"}

    @staticmethod
    def adapter_factory(config):
        return DemoExpressAdapter(config)


def _demo(**credentials):
    return DemoExpressAdapter(a.CarrierConfig("demo", "Demo", credentials or {"account": "1", "api_key": "k"},
                                              webhook_secret="s3cret"))


def test_manual_link_template_is_checked():
    assert ManualAdapter.validate_credentials({"tracking_url_template": "ftp://x/{number}"})
    assert ManualAdapter.validate_credentials({"tracking_url_template": "https://x.example/track"})
    assert ManualAdapter.validate_credentials({"tracking_url_template": "https://x.example/t?n={number}"}) == {}
    adapter = ManualAdapter(a.CarrierConfig("m", "M", {"tracking_url_template": "https://x.example/t?n={number}"}))
    assert adapter.tracking_url("AB 12/3") == "https://x.example/t?n=AB%2012%2F3"


def test_demo_numbers_are_deterministic_and_check_digit_protected():
    adapter = _demo()
    number = adapter.number_for("SH-2026-000017", date(2026, 3, 1))
    assert number == adapter.number_for("SH-2026-000017", date(2026, 3, 1))
    assert number.startswith("DEX260301" + "26" + "000017")
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    with pytest.raises(a.TrackingNumberInvalid):
        adapter.validate_tracking_number(wrong)
    assert scenario_of(number) == "delayed"  # serial ...7


def test_demo_refuses_an_invalid_api_key():
    adapter = _demo(account="1", api_key="invalid")
    with pytest.raises(a.AdapterError, match="API key"):
        adapter.create_shipment(TestDemoExpressAdapter().sample_request())


@pytest.mark.parametrize("serial,scenario", [(1, "normal"), (7, "delayed"), (8, "address_problem"), (9, "refused")])
def test_demo_stories_unfold_with_time(serial, scenario, monkeypatch):
    adapter = _demo()
    number = adapter.number_for(f"SH-2026-{serial:06d}", date(2026, 1, 10))
    start = datetime(2026, 1, 10, 2, 0, tzinfo=UTC)
    assert adapter.simulated_events(number, until=start - timedelta(minutes=1)) == []
    everything = adapter.simulated_events(number, until=start + timedelta(days=30))
    assert [e.status for e in everything] == [step[1] for step in SCENARIOS[scenario]]
    halfway = adapter.simulated_events(number, until=start + timedelta(hours=20))
    assert [e.status for e in halfway] == [a.INFO, a.PICKED_UP, a.IN_TRANSIT]
    monkeypatch.setattr(DemoExpressAdapter, "clock", staticmethod(lambda: start + timedelta(hours=20)))
    assert adapter.fetch_tracking(number) == halfway
    if scenario in ("address_problem", "refused"):
        kinds = [e.exception_kind for e in everything if e.status == a.EXCEPTION]
        assert kinds == [scenario]


def test_hmac_verification_is_strict():
    body = b'{"events": []}'
    signature = a.sign_hmac_sha256("k", body)
    assert a.verify_hmac_sha256("k", body, signature)
    assert a.verify_hmac_sha256("k", body, "sha256=" + signature)
    assert not a.verify_hmac_sha256("k", body, signature.upper()[:-1] + "0")
    assert not a.verify_hmac_sha256("k", body, "")
    assert not a.verify_hmac_sha256("", body, a.sign_hmac_sha256("", body))
    assert not a.verify_hmac_sha256("k", body, "sha256=zz\u00e9")


class TestTheKitsNetworkGuard(CarrierAdapterContract):
    """The kit lets an adapter talk to a fake server on 127.0.0.1 with any HTTP client, and
    refuses anything else before a name is resolved."""

    adapter_factory = ManualAdapter

    def test_local_connections_work_through_create_connection(self):
        import socket
        import threading
        import urllib.request
        from http.server import BaseHTTPRequestHandler, HTTPServer

        class Hello(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"hello")

            def log_message(self, *args):
                pass

        server = HTTPServer(("127.0.0.1", 0), Hello)
        threading.Thread(target=server.handle_request, daemon=True).start()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/", timeout=5) as response:
                assert response.read() == b"hello"
        finally:
            server.server_close()
        with pytest.raises(AssertionError, match="network connection"):
            socket.create_connection(("example.com", 80), timeout=1)
