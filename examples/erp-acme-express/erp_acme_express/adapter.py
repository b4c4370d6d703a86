"""The ACME Express adapter: logistics' carrier interface over ACME's JSON web API.

ACME Express (a fictional carrier with a typical parcel API) answers at a base address the site
configures (its production or sandbox address):

``POST /v1/shipments``                       register a parcel; answers its tracking number, a
                                             PDF label (base64) and the estimated delivery date
``GET  /v1/shipments/<number>/events``       the scans of a parcel
``<base>/track/<number>``                    the public tracking page for the customer

Requests carry ``Authorization: Bearer <api key>`` and ``X-Acme-Account: <account>``; a
registration carries ``Idempotency-Key: <shipment number>`` so that asking again after a lost
answer returns the same parcel instead of a second one. ACME pushes tracking updates as JSON
signed with HMAC-SHA256 of the body in ``X-Acme-Signature: sha256=<hex>``.

Every failure of the carrier or the network (refused credentials, a refused request, a server
error, a timeout, an unreachable address, an unreadable answer) becomes an
:class:`~plugins.logistics.adapters.AdapterError` whose message says what happened in plain
words; logistics shows it to staff and keeps the shipment.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import requests
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from plugins.logistics.adapters import (
    ADDRESS_PROBLEM,
    CREATE,
    DAMAGED,
    DELAYED,
    DELIVERED,
    EXCEPTION,
    IN_TRANSIT,
    INFO,
    LABEL,
    LINK,
    LOST,
    OUT_FOR_DELIVERY,
    PICKED_UP,
    REFUSED,
    RETURNED,
    RETURNED_TO_SENDER,
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

log = logging.getLogger(__name__)

_NUMBER = re.compile(r"^AE\d{9}CN$")
_BASE_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")

# ACME's event codes -> what logistics understands. Exceptions carry a reason code.
STATUS_OF = {
    "MANIFESTED": INFO,
    "PICKED_UP": PICKED_UP,
    "IN_TRANSIT": IN_TRANSIT,
    "ARRIVED_AT_HUB": IN_TRANSIT,
    "OUT_FOR_DELIVERY": OUT_FOR_DELIVERY,
    "DELIVERED": DELIVERED,
    "EXCEPTION": EXCEPTION,
    "RETURNED": RETURNED,
}
EXCEPTION_OF = {
    "DELAY": DELAYED,
    "LOST": LOST,
    "DAMAGED": DAMAGED,
    "BAD_ADDRESS": ADDRESS_PROBLEM,
    "REFUSED": REFUSED,
    "RETURN_TO_SENDER": RETURNED_TO_SENDER,
}
CODE_OF = {INFO: "MANIFESTED", PICKED_UP: "PICKED_UP", IN_TRANSIT: "IN_TRANSIT", OUT_FOR_DELIVERY: "OUT_FOR_DELIVERY",
           DELIVERED: "DELIVERED", EXCEPTION: "EXCEPTION", RETURNED: "RETURNED"}
REASON_OF = {kind: code for code, kind in EXCEPTION_OF.items()}
LABEL_TYPES = {"pdf": "application/pdf", "png": "image/png", "zpl": "application/x-zpl"}
MAX_WEBHOOK_EVENTS = 500


class AcmeExpressAdapter(CarrierAdapter):
    """Talks to the ACME Express web API at the carrier's configured address.

    ``timeout`` (seconds) bounds every request; ``session`` may be a ``requests.Session`` to
    reuse connections (one is made per request otherwise).
    """

    key = "acme_express"
    title = _l("ACME Express")
    description = _l("Tracking numbers and PDF labels from the ACME Express web API, tracking updates "
                     "pulled and pushed (signed), and a public tracking link.")
    supports = frozenset({CREATE, LABEL, TRACK, WEBHOOK, LINK})
    asks_carrier_name = False
    credential_fields = (
        CredentialField("api_url", _l("API address"), required=True,
                        help=_l("The ACME Express web API, e.g. https://api.acme-express.example "
                                "(or their sandbox address while you try it out).")),
        CredentialField("account", _l("Account number"), required=True),
        CredentialField("api_key", _l("API key"), secret=True, required=True),
    )
    example_tracking_number = "AE123456789CN"
    SIGNATURE_HEADER = "X-Acme-Signature"
    TIMEOUT = 10.0

    def __init__(self, config: CarrierConfig, *, timeout: float | None = None,
                 session: requests.Session | None = None):
        super().__init__(config)
        self.timeout = float(timeout or self.TIMEOUT)
        self.session = session

    # ------------------------------------------------------------------ configuration

    @classmethod
    def validate_credentials(cls, values: Mapping[str, str]) -> dict[str, str]:
        """Required fields filled in, and an API address that is a plain http(s) address."""
        problems = super().validate_credentials(values)
        url = (values.get("api_url") or "").strip()
        if url and not _BASE_URL.match(url):
            problems["api_url"] = _("Give the address starting with http:// or https://, without ? or #.")
        return problems

    @property
    def base_url(self) -> str:
        """The configured API address without a trailing slash."""
        return self.credential("api_url").strip().rstrip("/")

    def validate_tracking_number(self, number: str) -> str:
        """ACME numbers are AE, nine digits and CN (e.g. AE123456789CN)."""
        cleaned = (number or "").strip().upper().replace(" ", "")
        if not _NUMBER.match(cleaned):
            raise TrackingNumberInvalid(_("An ACME Express tracking number is AE, nine digits and CN, "
                                          "e.g. AE123456789CN."))
        return cleaned

    # ------------------------------------------------------------------ the web API

    def _request(self, method: str, path: str, *, body: dict | None = None,
                 headers: Mapping[str, str] | None = None, not_found: str | None = None) -> dict:
        """One call to the API: the decoded JSON object, or an AdapterError saying what went wrong."""
        base = self.base_url
        if not _BASE_URL.match(base):
            raise AdapterError(_("The ACME Express API address is not set up correctly: edit the carrier."))
        sent = {"Authorization": f"Bearer {self.credential('api_key')}", "X-Acme-Account": self.credential("account"),
                "Accept": "application/json", "User-Agent": "erp-acme-express/0.1"}
        sent.update(headers or {})
        call = self.session.request if self.session is not None else requests.request
        try:
            response = call(method, base + path, json=body, headers=sent, timeout=self.timeout,
                            allow_redirects=False)
        except requests.Timeout:
            raise AdapterError(_("ACME Express did not answer within %(seconds)s seconds; try again later.",
                                 seconds=format(self.timeout, "g"))) from None
        except requests.ConnectionError:
            raise AdapterError(_("ACME Express could not be reached at %(url)s; check the API address or try "
                                 "again later.", url=base)) from None
        except requests.RequestException as exc:
            raise AdapterError(_("The request to ACME Express failed (%(error)s).",
                                 error=type(exc).__name__)) from None
        status = response.status_code
        if status in (401, 403):
            raise AdapterError(_("ACME Express refused the account number or API key (HTTP %(status)s): "
                                 "check the carrier's settings.", status=status))
        if status == 404 and not_found:
            raise AdapterError(not_found)
        if 400 <= status < 500:
            raise AdapterError(_("ACME Express refused the request (HTTP %(status)s): %(reason)s",
                                 status=status, reason=_carrier_message(response)))
        if status >= 500:
            raise AdapterError(_("ACME Express had a server error (HTTP %(status)s); try again later.",
                                 status=status))
        if not 200 <= status < 300:
            raise AdapterError(_("ACME Express answered with an unexpected HTTP status %(status)s.", status=status))
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise AdapterError(_("ACME Express answered with something that is not a JSON object."))
        return payload

    def create_shipment(self, request: ShipmentRequest) -> CreatedShipment:
        """Register the parcel; the shipment number is the idempotency key of the request."""
        address = request.address
        body = {
            "reference": request.reference,
            "order_number": request.order_number,
            "ship_date": request.ship_date.isoformat(),
            "recipient": {"name": address.recipient, "phone": address.phone, "address1": address.line1,
                          "address2": address.line2, "city": address.city, "province": address.region,
                          "postcode": address.postcode, "country": address.country},
            "parcels": request.packages or 1,
            "weight_grams": request.weight_grams,
            "contents": [{"sku": line.sku, "description": line.name, "quantity": line.quantity}
                         for line in request.lines],
            "label_format": "pdf",
        }
        payload = self._request("POST", "/v1/shipments", body=body, headers={"Idempotency-Key": request.reference})
        try:
            number = self.validate_tracking_number(str(payload.get("tracking_number") or ""))
        except TrackingNumberInvalid:
            raise AdapterError(_("ACME Express answered with a malformed tracking number.")) from None
        return CreatedShipment(tracking_number=number, label=self._label(payload.get("label"), request.reference),
                               expected_delivery=_date_or_none(payload.get("estimated_delivery")))

    def _label(self, label: Any, reference: str) -> Label:
        if not isinstance(label, dict) or label.get("format") not in LABEL_TYPES:
            raise AdapterError(_("ACME Express answered without a label we can print."))
        try:
            data = base64.b64decode(str(label.get("data") or ""), validate=True)
        except (binascii.Error, ValueError):
            data = b""
        if not data:
            raise AdapterError(_("ACME Express answered without a label we can print."))
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", reference or "shipment")[:80]
        return Label(data, LABEL_TYPES[label["format"]], f"{safe}-acme-label.{label['format']}")

    def fetch_tracking(self, tracking_number: str) -> list[TrackingEvent]:
        """The parcel's scans. An event ACME sends that cannot be read is skipped (and logged)."""
        number = self.validate_tracking_number(tracking_number)
        payload = self._request("GET", f"/v1/shipments/{quote(number, safe='')}/events", not_found=_(
            "ACME Express does not know the tracking number %(number)s.", number=number))
        items = payload.get("events")
        if not isinstance(items, list):
            raise AdapterError(_("ACME Express answered with something that is not a list of tracking events."))
        events = []
        for item in items:
            try:
                events.append(self._event(item, default_number=number))
            except (ValueError, KeyError, TypeError, AttributeError, TrackingNumberInvalid) as exc:
                log.warning("ignoring an unreadable ACME Express event of %s: %s (%r)", number, exc, item)
        return [e for e in events if e.tracking_number == number]

    def tracking_url(self, tracking_number: str) -> str | None:
        """ACME's public tracking page of the parcel."""
        if not tracking_number or not _BASE_URL.match(self.base_url):
            return None
        return f"{self.base_url}/track/{quote(tracking_number, safe='')}"

    # ------------------------------------------------------------------ webhooks

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[TrackingEvent]:
        """Check ``X-Acme-Signature`` (HMAC-SHA256 of the body) and read every event of the push."""
        if not verify_hmac_sha256(self.config.webhook_secret, body, _header(headers, self.SIGNATURE_HEADER)):
            raise WebhookRejected("missing or wrong X-Acme-Signature")
        try:
            payload = json.loads(body.decode("utf-8"))
            items = payload["events"]
            if not isinstance(items, list) or len(items) > MAX_WEBHOOK_EVENTS:
                raise ValueError(f"events must be a list of at most {MAX_WEBHOOK_EVENTS}")
            return [self._event(item) for item in items]
        except (ValueError, KeyError, TypeError, AttributeError, TrackingNumberInvalid) as exc:
            raise WebhookMalformed(f"unreadable ACME Express push: {exc}") from None

    def build_test_webhook(self, events: list[TrackingEvent]) -> tuple[dict[str, str], bytes]:
        """The push ACME would send for ``events``, signed with this carrier's webhook secret."""
        body = json.dumps({"type": "tracking.updated", "events": [
            {"id": e.event_id, "tracking_number": e.tracking_number, "code": CODE_OF[e.status],
             "reason": REASON_OF.get(e.exception_kind) if e.status == EXCEPTION else None,
             "time": e.occurred_at.isoformat(), "description": e.description, "location": e.location}
            for e in events]}, ensure_ascii=False).encode("utf-8")
        return self.sign_test_webhook(body), body

    def sign_test_webhook(self, body: bytes) -> dict[str, str]:
        """Headers of a push of ``body`` signed like ACME Express does (``sha256=<hex>``)."""
        signature = "sha256=" + sign_hmac_sha256(self.config.webhook_secret, body)
        return {self.SIGNATURE_HEADER: signature, "Content-Type": "application/json"}

    # ------------------------------------------------------------------ reading events

    def _event(self, item: dict, default_number: str = "") -> TrackingEvent:
        """One ACME event as a TrackingEvent; ValueError/KeyError/TypeError when unreadable."""
        code = str(item["code"])
        if code not in STATUS_OF:
            raise ValueError(f"unknown event code {code!r}")
        status = STATUS_OF[code]
        kind = None
        if status == EXCEPTION:
            reason = item.get("reason")
            if reason not in EXCEPTION_OF:
                raise ValueError(f"unknown exception reason {reason!r}")
            kind = EXCEPTION_OF[reason]
        occurred = datetime.fromisoformat(str(item["time"]))
        if occurred.tzinfo is None:
            raise ValueError("event time without a time zone")
        number = self.validate_tracking_number(str(item.get("tracking_number") or default_number))
        return TrackingEvent(tracking_number=number, occurred_at=occurred.astimezone(UTC), status=status,
                             description=str(item.get("description") or "")[:300],
                             location=str(item.get("location") or "")[:120],
                             event_id=str(item.get("id") or "")[:120], exception_kind=kind)


def _carrier_message(response: requests.Response) -> str:
    """The carrier's own explanation of a refusal (``{"error": {"message": ...}}``), shortened."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    message = ""
    if isinstance(payload, dict):
        error = payload.get("error")
        message = error.get("message") if isinstance(error, dict) else error
    message = " ".join(str(message or "").split())[:300]
    return message or response.reason or str(response.status_code)


def _date_or_none(value) -> date | None:
    """An ISO date (``2026-03-04``), or None when missing or unreadable (it is only a hint)."""
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, candidate in headers.items():
            if key.lower() == lowered:
                return candidate
    return value

