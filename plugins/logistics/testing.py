"""The carrier adapter contract kit: the same tests for every adapter, built in or third-party.

Use it in your adapter package's own test suite (it needs pytest, not the ERP's database)::

    from plugins.logistics.testing import CarrierAdapterContract

    class TestAcmeExpress(CarrierAdapterContract):
        adapter_factory = AcmeExpressAdapter          # called with a CarrierConfig
        credentials = {"account": "A-1", "api_key": "test-key"}

Each ``test_*`` method checks one promise of :class:`plugins.logistics.adapters.CarrierAdapter`;
those about a capability the adapter does not declare check that it says "not supported"
instead. The network is switched off for the whole class (only 127.0.0.1 is reachable): an
adapter that needs the internet in its tests fails here. Override :meth:`sample_request` or
:meth:`signed_webhook` when your carrier needs something else.

An adapter that ``supports`` ``WEBHOOK`` must implement
:meth:`~plugins.logistics.adapters.CarrierAdapter.sign_test_webhook` (the headers of a correctly
signed push of any body): the kit signs every webhook case with it, and fails when it is missing
or when the adapter rejects a push it signed itself, so that the "signed but unreadable body"
cases really reach the adapter's body parsing. A carrier whose push carries its signature in the
body (a form field) implements ``signed_test_push(body)`` and ``unsigned_test_push(headers,
body)`` instead; the kit then signs and strips with those. (Overriding the kit's old ``_resign`` still works
for one release, with a DeprecationWarning.)
"""

from __future__ import annotations

import socket
import warnings
from datetime import UTC, date, datetime

import pytest

from . import adapters as a

_LOCAL = ("127.0.0.1", "::1", "localhost")


class CarrierAdapterContract:
    """Subclass with ``adapter_factory`` (and ``credentials`` when the adapter needs some)."""

    adapter_factory = None  # a class or callable taking a CarrierConfig
    credentials: dict = {}
    webhook_secret = "contract-kit-webhook-secret"

    # ------------------------------------------------------------------ set-up

    @pytest.fixture(autouse=True)
    def _no_network(self, monkeypatch):
        real_connect = socket.socket.connect

        def guarded(sock, address, *args, **kwargs):
            host = address[0] if isinstance(address, tuple) else address
            if host not in _LOCAL and sock.family in (socket.AF_INET, socket.AF_INET6):
                raise AssertionError(f"the adapter opened a network connection to {address!r} in a test")
            return real_connect(sock, address, *args, **kwargs)

        real_create_connection = socket.create_connection

        def create_connection(address, *args, **kwargs):
            if address[0] not in _LOCAL:  # refuse before resolving the name (no DNS query either)
                raise AssertionError(f"the adapter opened a network connection to {address!r} in a test")
            return real_create_connection(address, *args, **kwargs)

        monkeypatch.setattr(socket.socket, "connect", guarded)
        monkeypatch.setattr(socket, "create_connection", create_connection)

    def config(self, **changes) -> a.CarrierConfig:
        """The carrier configuration the kit builds adapters with (``credentials`` and
        ``webhook_secret`` of the test class), with ``changes`` applied."""
        values = {"code": "contract", "name": "Contract carrier", "credentials": dict(self.credentials),
                  "webhook_secret": self.webhook_secret}
        values.update(changes)
        return a.CarrierConfig(**values)

    def make_adapter(self, **config_changes) -> a.CarrierAdapter:
        """An adapter from the class's ``adapter_factory`` with :meth:`config` (``config_changes``
        applied, e.g. ``webhook_secret="other"``)."""
        factory = None
        for klass in type(self).__mro__:  # the attribute itself, not a method bound to the test
            if klass.__dict__.get("adapter_factory") is not None:
                factory = klass.__dict__["adapter_factory"]
                factory = factory.__func__ if isinstance(factory, staticmethod) else factory
                break
        if factory is None:
            pytest.fail("set adapter_factory on your CarrierAdapterContract subclass")
        adapter = factory(self.config(**config_changes))
        assert isinstance(adapter, a.CarrierAdapter), "adapters derive from plugins.logistics.adapters.CarrierAdapter"
        return adapter

    @property
    def adapter(self) -> a.CarrierAdapter:
        """A fresh adapter with the test configuration."""
        return self.make_adapter()

    def sample_request(self) -> a.ShipmentRequest:
        """The shipment request the kit's ``create_shipment`` cases send (override to change it)."""
        return a.ShipmentRequest(
            reference="SH-2026-000123", order_number="SO-2026-000045", ship_date=date(2026, 1, 15),
            address=a.Address(recipient="Li Lei", phone="138 0013 8000", line1="1 Main Road", city="Shanghai",
                              postcode="200000", country="CN"),
            lines=(a.ParcelLine("PEN-1", "Pen", 2),), packages=1, weight_grams=1200)

    def known_tracking_number(self) -> str:
        """A number this carrier could have issued: its own (CREATE) or the declared example."""
        adapter = self.adapter
        if adapter.can(a.CREATE):
            return adapter.create_shipment(self.sample_request()).tracking_number
        assert adapter.example_tracking_number, "declare example_tracking_number on the adapter"
        return adapter.example_tracking_number

    def sample_events(self, number: str) -> list[a.TrackingEvent]:
        """Two events of ``number`` (a pick-up and an address exception) the webhook cases push."""
        return [a.TrackingEvent(tracking_number=number, occurred_at=datetime(2026, 1, 15, 8, 0, tzinfo=UTC),
                                status=a.PICKED_UP, description="Picked up", location="Shanghai", event_id="kit-1"),
                a.TrackingEvent(tracking_number=number, occurred_at=datetime(2026, 1, 16, 9, 30, tzinfo=UTC),
                                status=a.EXCEPTION, description="Address incomplete", location="Hangzhou",
                                event_id="kit-2", exception_kind=a.ADDRESS_PROBLEM)]

    def signed_webhook(self, adapter: a.CarrierAdapter, events: list[a.TrackingEvent]) -> tuple[dict, bytes]:
        """Headers and body the carrier would push; by default the adapter's own test helper."""
        return adapter.build_test_webhook(events)

    # ------------------------------------------------------------------ identity and configuration

    def test_declares_a_key_a_title_and_known_capabilities(self):
        cls = type(self.adapter)
        assert a.is_valid_key(cls.key), f"key {cls.key!r} must match [a-z][a-z0-9_]+"
        assert str(cls.title).strip(), "give the adapter a title"
        assert set(cls.supports) <= a.CAPABILITIES, f"unknown capabilities: {set(cls.supports) - a.CAPABILITIES}"
        assert set(self.adapter.supports) <= set(cls.supports) | a.CAPABILITIES
        if a.LABEL in cls.supports:
            assert a.CREATE in cls.supports, "labels come from create_shipment: LABEL needs CREATE"

    def test_credential_fields_are_well_formed(self):
        fields = type(self.adapter).credential_fields
        keys = [f.key for f in fields]
        assert len(keys) == len(set(keys)), "credential keys must be unique"
        for f in fields:
            assert isinstance(f, a.CredentialField) and a.is_valid_key(f.key) and str(f.label).strip()

    def test_validate_credentials_accepts_the_test_credentials_and_reports_missing_ones(self):
        cls = type(self.adapter)
        assert cls.validate_credentials(dict(self.credentials)) == {}
        required = [f.key for f in cls.credential_fields if f.required]
        if required:
            problems = cls.validate_credentials({})
            assert set(required) <= set(problems), "a missing required credential is reported under its key"

    # ------------------------------------------------------------------ tracking numbers

    @pytest.mark.parametrize("garbage", ["", "   ", "<script>alert(1)</script>", "x" * 500, "../../etc/passwd"])
    def test_validate_tracking_number_refuses_garbage(self, garbage):
        with pytest.raises(a.TrackingNumberInvalid):
            self.adapter.validate_tracking_number(garbage)

    def test_validate_tracking_number_accepts_its_own_numbers_and_is_idempotent(self):
        number = self.known_tracking_number()
        normal = self.adapter.validate_tracking_number(number)
        assert normal and len(normal) <= 64
        assert self.adapter.validate_tracking_number(normal) == normal
        assert self.adapter.validate_tracking_number(f"  {normal.lower()}  ") == normal, \
            "surrounding spaces and letter case typed by staff are normalised"

    # ------------------------------------------------------------------ creating shipments

    def test_create_shipment(self):
        adapter = self.adapter
        if not adapter.can(a.CREATE):
            with pytest.raises(a.NotSupported):
                adapter.create_shipment(self.sample_request())
            return
        created = adapter.create_shipment(self.sample_request())
        assert isinstance(created, a.CreatedShipment)
        assert adapter.validate_tracking_number(created.tracking_number) == created.tracking_number
        if created.expected_delivery is not None:
            assert isinstance(created.expected_delivery, date) and created.expected_delivery >= date(2026, 1, 15)
        if adapter.can(a.LABEL):
            assert isinstance(created.label, a.Label) and created.label.data and created.label.content_type
            assert "/" not in created.label.filename and "\\" not in created.label.filename

    def test_create_shipment_gives_different_numbers_to_different_shipments(self):
        adapter = self.adapter
        if not adapter.can(a.CREATE):
            pytest.skip("the adapter does not create shipments")
        first = adapter.create_shipment(self.sample_request()).tracking_number
        other = self.sample_request()
        other = a.ShipmentRequest(**{**other.__dict__, "reference": "SH-2026-000124"})
        assert adapter.create_shipment(other).tracking_number != first

    # ------------------------------------------------------------------ tracking

    def test_fetch_tracking_returns_well_formed_stable_events(self):
        adapter = self.adapter
        number = self.known_tracking_number()
        if not adapter.can(a.TRACK):
            with pytest.raises(a.NotSupported):
                adapter.fetch_tracking(number)
            return
        first = adapter.fetch_tracking(number)
        for event in first:
            self._check_event(event)
            assert event.tracking_number == number
        second = adapter.fetch_tracking(number)
        assert {e.key() for e in first} <= {e.key() for e in second}, \
            "the same event must keep its identity between two pulls (it is stored once)"

    def _check_event(self, event):
        assert isinstance(event, a.TrackingEvent)
        assert event.occurred_at.tzinfo is not None, "event times are timezone-aware"
        assert event.status in a.EVENT_STATUSES
        if event.status == a.EXCEPTION:
            assert event.exception_kind in a.EXCEPTION_KINDS
        assert len(event.key()) <= 120

    # ------------------------------------------------------------------ webhooks

    def test_parse_webhook_reads_a_signed_push(self):
        adapter = self.adapter
        number = self.known_tracking_number()
        if not adapter.can(a.WEBHOOK):
            with pytest.raises(a.NotSupported):
                adapter.parse_webhook({}, b"{}")
            return
        events = self.sample_events(number)
        headers, body = self.signed_webhook(adapter, events)
        parsed = adapter.parse_webhook(headers, body)
        for event in parsed:
            self._check_event(event)
        assert [(e.tracking_number, e.status, e.occurred_at, e.exception_kind) for e in parsed] == \
            [(e.tracking_number, e.status, e.occurred_at, e.exception_kind) for e in events]
        assert [e.key() for e in parsed] == [e.key() for e in adapter.parse_webhook(headers, body)]

    def test_parse_webhook_rejects_a_tampered_body(self):
        adapter = self.adapter
        if not adapter.can(a.WEBHOOK):
            pytest.skip("the adapter does not read webhooks")
        headers, body = self.signed_webhook(adapter, self.sample_events(self.known_tracking_number()))
        tampered = body.replace(b"Picked up", b"Picked uq") if b"Picked up" in body else body + b" "
        with pytest.raises(a.WebhookRejected):
            adapter.parse_webhook(headers, tampered)

    def test_parse_webhook_rejects_another_secret_and_a_missing_signature(self):
        adapter = self.adapter
        if not adapter.can(a.WEBHOOK):
            pytest.skip("the adapter does not read webhooks")
        events = self.sample_events(self.known_tracking_number())
        headers, body = self.signed_webhook(self.make_adapter(webhook_secret="someone-else"), events)
        with pytest.raises(a.WebhookRejected):
            adapter.parse_webhook(headers, body)
        own_headers, own_body = self.signed_webhook(adapter, events)
        with pytest.raises(a.WebhookRejected):
            adapter.parse_webhook(*adapter.unsigned_test_push(own_headers, own_body))
        with pytest.raises(a.WebhookRejected):
            self.make_adapter(webhook_secret="").parse_webhook(*self.signed_webhook(self.make_adapter(webhook_secret=""),
                                                                                    events))

    @pytest.mark.parametrize("junk", [b"", b"not json", b"{\"events\": 5}", b"\xff\xfe", b"[]"])
    def test_parse_webhook_refuses_a_signed_but_unreadable_body(self, junk):
        adapter = self.adapter
        if not adapter.can(a.WEBHOOK):
            pytest.skip("the adapter does not read webhooks")
        signed, signed_body = self.sign_push(adapter, junk)
        try:
            adapter.parse_webhook(signed, signed_body)
        except a.WebhookRejected as exc:
            pytest.fail(f"{type(adapter).__name__}.parse_webhook rejected the signature of a push signed by its own "
                        f"sign_test_webhook ({exc}); the body parsing was never tested. Make sign_test_webhook(body) "
                        "return the headers of a correctly signed push.")
        except a.AdapterError:
            return
        pytest.fail(f"{type(adapter).__name__}.parse_webhook accepted the unreadable body {junk!r}: "
                    "raise WebhookMalformed")

    def test_sign_test_webhook_signs_a_push_the_adapter_accepts(self):
        adapter = self.adapter
        if not adapter.can(a.WEBHOOK):
            pytest.skip("the adapter does not read webhooks")
        events = self.sample_events(self.known_tracking_number())
        _headers, body = self.signed_webhook(adapter, events)
        try:
            parsed = adapter.parse_webhook(*self.sign_push(adapter, body))
        except a.WebhookRejected as exc:
            pytest.fail(f"{type(adapter).__name__}.parse_webhook rejected a push signed by its own "
                        f"sign_test_webhook: {exc}")
        assert [(e.tracking_number, e.status) for e in parsed] == [(e.tracking_number, e.status) for e in events]
        foreign = self.make_adapter(webhook_secret="someone-else")
        with pytest.raises(a.WebhookRejected):
            adapter.parse_webhook(*self.sign_push(foreign, body))

    def sign_push(self, adapter: a.CarrierAdapter, body: bytes) -> tuple[dict, bytes]:
        """Headers and body of a correctly signed push carrying ``body``: the adapter's
        ``signed_test_push`` when it signs inside the body, else :meth:`sign` (headers only)."""
        overridden = type(adapter).signed_test_push is not a.CarrierAdapter.signed_test_push
        if overridden and type(self)._resign is CarrierAdapterContract._resign:
            headers, signed_body = adapter.signed_test_push(body)
            assert isinstance(headers, dict) and isinstance(signed_body, bytes), \
                "signed_test_push returns (headers as a dict, body as bytes)"
            return headers, signed_body
        return self.sign(adapter, body), body

    def sign(self, adapter: a.CarrierAdapter, body: bytes) -> dict:
        """Headers of a correctly signed push of ``body``: the adapter's ``sign_test_webhook``.

        Fails the test, naming the method to implement, when the adapter does not have it.
        """
        if type(self)._resign is not CarrierAdapterContract._resign:  # the hook of the previous release
            warnings.warn(f"{type(self).__name__}._resign is deprecated and will be removed in the next release: "
                          "implement sign_test_webhook(body) on the adapter instead", DeprecationWarning, stacklevel=2)
            headers, _body = self.signed_webhook(adapter, [])
            return self._resign(adapter, headers, body)
        if type(adapter).sign_test_webhook is a.CarrierAdapter.sign_test_webhook \
                and type(adapter).signed_test_push is a.CarrierAdapter.signed_test_push:
            pytest.fail(f"{type(adapter).__name__} supports WEBHOOK but does not implement "
                        "sign_test_webhook(self, body: bytes) -> dict[str, str] (the headers of a correctly signed "
                        "push of body): the contract kit needs it to sign its webhook cases")
        headers = adapter.sign_test_webhook(body)
        assert isinstance(headers, dict) and headers, "sign_test_webhook returns the headers as a dict"
        return headers

    def _resign(self, adapter, headers: dict, body: bytes) -> dict:
        """Deprecated (implement the adapter's ``sign_test_webhook``; removed in the next release).

        The previous release's hook, called (with a DeprecationWarning) only when a subclass
        overrides it: headers signing ``body``, assuming a ``sha256=<hex>`` header.
        """
        resigned = {}
        for key, value in headers.items():
            if isinstance(value, str) and value.startswith("sha256="):
                value = "sha256=" + a.sign_hmac_sha256(adapter.config.webhook_secret, body)
            resigned[key] = value
        return resigned

    # ------------------------------------------------------------------ subscriptions

    def test_subscribe_is_declared_or_refused(self):
        adapter = self.adapter
        if adapter.can(a.SUBSCRIBE):
            assert type(adapter).subscribe is not a.CarrierAdapter.subscribe, "SUBSCRIBE needs subscribe()"
            assert adapter.can(a.WEBHOOK), "a subscription pushes events: SUBSCRIBE needs WEBHOOK"
            return
        with pytest.raises(a.NotSupported):
            adapter.subscribe(self.known_tracking_number(), "https://shop.example/logistics/webhooks/x")

    # ------------------------------------------------------------------ links

    def test_tracking_url(self):
        adapter = self.adapter
        number = self.known_tracking_number()
        url = adapter.tracking_url(number)
        if not adapter.can(a.LINK):
            assert url is None
            return
        assert isinstance(url, str) and (url.startswith(("https://", "http://")) or url.startswith("/"))
        assert not url.startswith("//"), "a site path starts with a single slash"
        assert number in url
        assert adapter.tracking_url("") is None
