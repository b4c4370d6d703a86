"""The carrier adapters logistics ships with.

* :class:`ManualAdapter` -- a catch-all "other carrier" without an integration: staff type the
  name of the company carrying each parcel and the tracking number; an optional link template
  gives the customer a tracking link.
* :class:`NamedManualAdapter` -- one named company without an integration (e.g. "SF Express"):
  like the manual adapter, but the carrier's own name is the company, so nobody types it again.
* :class:`DemoExpressAdapter` -- "Demo Express", an offline simulated carrier for demo data and
  tests: deterministic tracking numbers, simulated events (exceptions included), a label and a
  signed webhook. It never opens a network connection.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import quote
from xml.sax.saxutils import escape

from flask_babel import lazy_gettext as _l

from erp_core.i18n import system_text
from erp_core.timeutil import utcnow

from .adapters import (
    CREATE,
    DELIVERED,
    EVENT_STATUSES,
    EXCEPTION,
    EXCEPTION_KINDS,
    IN_TRANSIT,
    INFO,
    LABEL,
    LINK,
    OUT_FOR_DELIVERY,
    PICKED_UP,
    RETURNED,
    TRACK,
    WEBHOOK,
    AdapterError,
    CarrierAdapter,
    CarrierConfig,
    CreatedShipment,
    CredentialField,
    Label,
    ShipmentRequest,
    TrackingEvent,
    TrackingNumberInvalid,
    WebhookMalformed,
    WebhookRejected,
    sign_hmac_sha256,
    verify_hmac_sha256,
)


class ManualAdapter(CarrierAdapter):
    """Staff type the carrier's name and the tracking number; no carrier system is called."""

    key = "manual"
    title = _l("Manual entry")
    description = _l("Staff type the carrier's name and tracking number; events are typed in by hand.")
    supports = frozenset({LINK})
    asks_carrier_name = True
    credential_fields = (
        CredentialField("tracking_url_template", _l("Tracking link template"),
                        help=_l("Optional. A web address with {number} where the tracking number goes, "
                                "e.g. https://carrier.example/track?no={number}")),
    )
    example_tracking_number = "SF1234567890"

    def __init__(self, config: CarrierConfig):
        super().__init__(config)
        if not self.credential("tracking_url_template"):
            self.supports = frozenset()  # no template, no link to offer

    @classmethod
    def validate_credentials(cls, values: Mapping[str, str]) -> dict[str, str]:
        problems = super().validate_credentials(values)
        template = (values.get("tracking_url_template") or "").strip()
        if template and (not re.match(r"^https?://[^\s]+$", template) or "{number}" not in template):
            problems["tracking_url_template"] = str(_l("Give a web address starting with http:// or https:// "
                                                       "that contains {number}."))
        return problems

    def tracking_url(self, tracking_number: str) -> str | None:
        template = self.credential("tracking_url_template")
        if not template or not tracking_number:
            return None
        return template.replace("{number}", quote(tracking_number, safe=""))


class NamedManualAdapter(ManualAdapter):
    """One named company without an integration: staff type only the tracking number."""

    key = "manual_named"
    title = _l("Manual entry, one company")
    description = _l("For one company without an integration (the carrier's name is the company): staff type "
                     "the tracking number; events are typed in by hand.")
    asks_carrier_name = False


# ----------------------------------------------------------------------------- Demo Express

def _demo(name: str) -> str:
    """A simulated event's description: a system text (plugins/logistics/history.py), shown in the
    reader's language."""
    return system_text("logistics.demo." + name)


# Hours after the ship date's 10:00 (China time) at which each simulated event happens.
_START = [(0, INFO, _demo("info_received"), "Shanghai"),
          (3, PICKED_UP, _demo("picked_up"), "Shanghai"),
          (14, IN_TRANSIT, _demo("sorting_centre"), "Hangzhou hub")]
SCENARIOS = {
    "normal": _START + [(26, OUT_FOR_DELIVERY, _demo("out_for_delivery"), "Destination depot"),
                        (30, DELIVERED, _demo("delivered_signed"), "Destination")],
    "delayed": _START + [(40, IN_TRANSIT, _demo("held_weather"), "Hangzhou hub"),
                         (150, OUT_FOR_DELIVERY, _demo("out_for_delivery"), "Destination depot"),
                         (154, DELIVERED, _demo("delivered_signed"), "Destination")],
    "address_problem": _START + [(26, OUT_FOR_DELIVERY, _demo("out_for_delivery"), "Destination depot"),
                                 (29, EXCEPTION, _demo("address_incomplete"), "Destination depot",
                                  "address_problem"),
                                 (52, OUT_FOR_DELIVERY, _demo("second_attempt"), "Destination depot"),
                                 (55, DELIVERED, _demo("delivered_signed"), "Destination")],
    "refused": _START + [(26, OUT_FOR_DELIVERY, _demo("out_for_delivery"), "Destination depot"),
                         (30, EXCEPTION, _demo("refused"), "Destination", "refused"),
                         (80, RETURNED, _demo("returned"), "Shanghai")],
}
_TRANSIT_DAYS = 2
_NUMBER = re.compile(r"^DEX(\d{6})(\d{2})(\d{6})(\d)$")
_ANCHOR = time(2, 0, tzinfo=UTC)  # 10:00 in China


def _check_digit(digits: str) -> str:
    return str(sum((i % 3 + 1) * int(d) for i, d in enumerate(digits)) % 10)


def scenario_of(tracking_number: str) -> str:
    """Which simulated story a Demo Express parcel follows (from the last serial digit):
    0-6 delivered on time, 7 delayed, 8 an address problem then delivered, 9 refused and returned."""
    match = _NUMBER.match(tracking_number or "")
    if not match:
        raise TrackingNumberInvalid("not a Demo Express tracking number")
    return {7: "delayed", 8: "address_problem", 9: "refused"}.get(int(match.group(3)) % 10, "normal")


def _serial_of(reference: str, ship_date: date) -> tuple[int, int]:
    match = re.fullmatch(r"[A-Z]+-(\d{4})-(\d{1,6})", reference or "")
    if match:
        return int(match.group(1)) % 100, int(match.group(2))
    digest = int(hashlib.sha256((reference or "").encode("utf-8")).hexdigest(), 16)
    return ship_date.year % 100, digest % 1_000_000


class DemoExpressAdapter(CarrierAdapter):
    """A simulated express carrier that needs no network: for the demo and the tests.

    The tracking number encodes the ship date and the shipment's serial number, so tracking is
    computed rather than stored: ``fetch_tracking`` returns the events whose time has come (see
    :data:`SCENARIOS` and :func:`scenario_of`). Webhooks carry JSON signed with HMAC-SHA256 of
    the body in the ``X-DemoExpress-Signature`` header (``sha256=<hex>``).
    """

    key = "demo_express"
    title = _l("Demo Express (simulated)")
    description = _l("An offline simulated carrier with tracking, labels and signed webhooks, for trying things out.")
    supports = frozenset({CREATE, LABEL, TRACK, WEBHOOK, LINK})
    asks_carrier_name = False
    credential_fields = (
        CredentialField("account", _l("Account number"), required=True),
        CredentialField("api_key", _l("API key"), secret=True, required=True,
                        help=_l("Any value works with the simulator except \"invalid\", which it refuses.")),
    )
    example_tracking_number = "DEX260115260000018"
    SIGNATURE_HEADER = "X-DemoExpress-Signature"
    TRACK_PATH = "/logistics/track/demo-express/"

    @staticmethod
    def clock() -> datetime:
        """The simulator's "now" (tests move it)."""
        return utcnow()

    @staticmethod
    def number_for(reference: str, ship_date: date) -> str:
        year, serial = _serial_of(reference, ship_date)
        digits = f"{ship_date:%y%m%d}{year:02d}{serial:06d}"
        return "DEX" + digits + _check_digit(digits)

    def validate_tracking_number(self, number: str) -> str:
        cleaned = (number or "").strip().upper().replace(" ", "")
        match = _NUMBER.match(cleaned)
        if not match or _check_digit(cleaned[3:-1]) != cleaned[-1]:
            raise TrackingNumberInvalid("a Demo Express number is DEX followed by 15 digits with a valid check digit")
        try:
            datetime.strptime(match.group(1), "%y%m%d")
        except ValueError:
            raise TrackingNumberInvalid("a Demo Express number starts with the ship date (YYMMDD)") from None
        return cleaned

    def create_shipment(self, request: ShipmentRequest) -> CreatedShipment:
        if self.credential("api_key").strip().lower() == "invalid":
            raise AdapterError("Demo Express refused the API key")
        if not request.address.line1:
            raise AdapterError("Demo Express needs a street address")
        number = self.number_for(request.reference, request.ship_date)
        return CreatedShipment(tracking_number=number, label=self._label(request, number),
                               expected_delivery=request.ship_date + timedelta(days=_TRANSIT_DAYS))

    def _label(self, request: ShipmentRequest, number: str) -> Label:
        address = request.address
        lines = [address.recipient, address.line1, address.line2,
                 " ".join(p for p in (address.postcode, address.city, address.region) if p), address.country]
        text = "".join(f'<text x="20" y="{120 + 22 * i}" font-size="16">{escape(line)}</text>'
                       for i, line in enumerate(line for line in lines if line))
        svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300" viewBox="0 0 400 300">'
               '<rect width="400" height="300" fill="#fff" stroke="#000"/>'
               '<text x="20" y="40" font-size="22" font-weight="bold">DEMO EXPRESS</text>'
               f'<text x="20" y="75" font-size="20" font-family="monospace">{escape(number)}</text>'
               f'<text x="20" y="98" font-size="13">{escape(request.reference)} / {escape(request.order_number)}</text>'
               f'{text}</svg>')
        return Label(svg.encode("utf-8"), "image/svg+xml", f"{request.reference}-label.svg")

    def simulated_events(self, tracking_number: str, until: datetime | None = None) -> list[TrackingEvent]:
        """Every event of the parcel's story up to ``until`` (default: the clock)."""
        number = self.validate_tracking_number(tracking_number)
        until = until or self.clock()
        start = datetime.combine(datetime.strptime(number[3:9], "%y%m%d").date(), _ANCHOR)
        events = []
        for index, step in enumerate(SCENARIOS[scenario_of(number)]):
            hours, status, description, location = step[:4]
            at = start + timedelta(hours=hours)
            if at > until:
                break
            events.append(TrackingEvent(tracking_number=number, occurred_at=at, status=status,
                                        description=description, location=location,
                                        event_id=f"{number}-{index}",
                                        exception_kind=step[4] if len(step) > 4 else None))
        return events

    def fetch_tracking(self, tracking_number: str) -> list[TrackingEvent]:
        return self.simulated_events(tracking_number)

    def tracking_url(self, tracking_number: str) -> str | None:
        return self.TRACK_PATH + quote(tracking_number, safe="") if tracking_number else None

    # -- webhooks

    def build_test_webhook(self, events: list[TrackingEvent]) -> tuple[dict[str, str], bytes]:
        body = json.dumps({"events": [
            {"id": e.event_id, "tracking_number": e.tracking_number, "status": e.status,
             "time": e.occurred_at.isoformat(), "description": e.description, "location": e.location,
             "exception": e.exception_kind} for e in events]}, ensure_ascii=False).encode("utf-8")
        return self.sign_test_webhook(body), body

    def sign_test_webhook(self, body: bytes) -> dict[str, str]:
        """Headers of a push of ``body`` signed like Demo Express does (``sha256=<hex>``)."""
        signature = "sha256=" + sign_hmac_sha256(self.config.webhook_secret, body)
        return {self.SIGNATURE_HEADER: signature, "Content-Type": "application/json"}

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[TrackingEvent]:
        signature = _header(headers, self.SIGNATURE_HEADER)
        if not verify_hmac_sha256(self.config.webhook_secret, body, signature):
            raise WebhookRejected("missing or wrong signature")
        try:
            payload = json.loads(body.decode("utf-8"))
            items = payload["events"]
            if not isinstance(items, list) or len(items) > 500:
                raise ValueError("events must be a list of at most 500")
            return [self._event(item) for item in items]
        except (ValueError, KeyError, TypeError, AttributeError, TrackingNumberInvalid) as exc:
            raise WebhookMalformed(f"unreadable webhook body: {exc}") from None

    def _event(self, item: dict) -> TrackingEvent:
        status = item["status"]
        if status not in EVENT_STATUSES:
            raise ValueError(f"unknown status {status!r}")
        kind = item.get("exception") or None
        if status == EXCEPTION and kind not in EXCEPTION_KINDS:
            raise ValueError(f"unknown exception kind {kind!r}")
        occurred = datetime.fromisoformat(str(item["time"]))
        if occurred.tzinfo is None:
            raise ValueError("event time without a time zone")
        return TrackingEvent(tracking_number=self.validate_tracking_number(str(item["tracking_number"])),
                             occurred_at=occurred.astimezone(UTC), status=status,
                             description=str(item.get("description") or "")[:300],
                             location=str(item.get("location") or "")[:120],
                             event_id=str(item.get("id") or "")[:120],
                             exception_kind=kind if status == EXCEPTION else None)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, candidate in headers.items():
            if key.lower() == lowered:
                return candidate
    return value


BUILTIN = (ManualAdapter, NamedManualAdapter, DemoExpressAdapter)
