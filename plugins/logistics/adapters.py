"""The carrier adapter interface: what a carrier integration implements.

A carrier adapter is a small class, registered through the ``erp_carrier_adapters`` hook, that
knows how to talk to one carrier. It is plain Python: it never touches the database or Flask, so
the same adapter runs in a web request, a background job and the contract test kit
(:mod:`plugins.logistics.testing`). Logistics calls it only outside database transactions
(jobs and the webhook endpoint), and never in tests over the internet.

An adapter declares what it can do in :attr:`CarrierAdapter.supports`; the pages offer only
that:

``CREATE``   the carrier issues the tracking number (``create_shipment``); otherwise staff type it
``LABEL``    ``create_shipment`` also returns a shipping label to print
``TRACK``    ``fetch_tracking`` pulls the events of a tracking number (periodic sync, "sync now")
``WEBHOOK``  ``parse_webhook`` reads a signed push from the carrier (public endpoint)
``LINK``     ``tracking_url`` builds a link the customer can open
``SUBSCRIBE``  ``subscribe`` tells the carrier (or a tracking aggregator) about a tracking number
             staff typed, so that it pushes that parcel's events to the carrier's webhook

Optional extras, all with a default that keeps older adapters working unchanged:

- ``test_connection()`` -> ``(ok, message)``: the carrier page offers "Test the connection" only
  for adapters that override it (:func:`offers_connection_test`);
- ``webhook_answer(error)``: the body the carrier expects in answer to a push (default: the
  logistics JSON answer);
- ``signed_test_push(body)`` / ``unsigned_test_push(headers, body)``: for carriers whose push
  carries its signature in the body rather than in a header (the contract kit uses them);
- ``CredentialField(choices=...)``: a value picked from a list (a select on the carrier form).

The webhook endpoint is ``POST /logistics/webhooks/<carrier code>`` (public, no CSRF). It
calls :meth:`CarrierAdapter.parse_webhook` with the request's headers and its raw body, then
answers the carrier in JSON: ``200 {"new": n, "duplicate": n, "unknown": n}`` (events stored,
events seen before, events of tracking numbers it does not know), ``401 {"error": "invalid
signature"}`` for :class:`WebhookRejected`, ``400 {"error": "<message>"}`` for
:class:`WebhookMalformed` (also for an event dated further ahead than the
``logistics.future_event_hours`` setting, 24 by default), ``404 {"error": "unknown carrier"}``
(also for a carrier that is switched off or whose adapter does not support ``WEBHOOK``), and ``409 {"error": "<message>"}`` when another plugin refused the change
(the carrier should retry later). Nothing is stored unless the answer is 200.

See docs/logistics.md for a walk-through of writing one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

CREATE = "create"
LABEL = "label"
TRACK = "track"
WEBHOOK = "webhook"
LINK = "link"
SUBSCRIBE = "subscribe"
CAPABILITIES = frozenset({CREATE, LABEL, TRACK, WEBHOOK, LINK, SUBSCRIBE})

# What a tracking event says happened. Logistics maps them onto shipment states.
INFO = "info_received"          # the carrier knows about the parcel (no state change)
PICKED_UP = "picked_up"
IN_TRANSIT = "in_transit"
OUT_FOR_DELIVERY = "out_for_delivery"
DELIVERED = "delivered"
EXCEPTION = "exception"         # with ``exception_kind``
RETURNED = "returned"           # back at the sender (an exception of kind returned_to_sender)
EVENT_STATUSES = (INFO, PICKED_UP, IN_TRANSIT, OUT_FOR_DELIVERY, DELIVERED, EXCEPTION, RETURNED)

# Kinds of delivery exception (配送异常) an event or a member of staff can report.
DELAYED = "delayed"
LOST = "lost"
DAMAGED = "damaged"
ADDRESS_PROBLEM = "address_problem"
REFUSED = "refused"
RETURNED_TO_SENDER = "returned_to_sender"
EXCEPTION_KINDS = (DELAYED, LOST, DAMAGED, ADDRESS_PROBLEM, REFUSED, RETURNED_TO_SENDER)

_SLUG = re.compile(r"^[a-z][a-z0-9_]{1,39}$")

__all__ = [
    "ADDRESS_PROBLEM", "CAPABILITIES", "CREATE", "DAMAGED", "DELAYED", "DELIVERED", "EVENT_STATUSES", "EXCEPTION",
    "EXCEPTION_KINDS", "INFO", "IN_TRANSIT", "LABEL", "LINK", "LOST", "OUT_FOR_DELIVERY", "PICKED_UP", "REFUSED",
    "RETURNED", "RETURNED_TO_SENDER", "TRACK", "WEBHOOK", "Address", "AdapterError", "CarrierAdapter", "CarrierConfig",
    "CreatedShipment", "CredentialField", "Label", "NotSupported", "ParcelLine", "ShipmentRequest", "TrackingEvent",
    "TrackingNumberInvalid", "WebhookMalformed", "WebhookRejected", "is_valid_key", "sign_hmac_sha256",
    "verify_hmac_sha256",
]


class AdapterError(Exception):
    """The carrier refused or could not do what was asked; ``str()`` says why, in plain words."""


class NotSupported(AdapterError):
    """The adapter does not offer this capability (see ``supports``)."""


class TrackingNumberInvalid(AdapterError):
    """A tracking number that this carrier cannot have issued."""


class WebhookRejected(AdapterError):
    """A webhook whose signature is missing or wrong: answer 401 and store nothing."""


class WebhookMalformed(AdapterError):
    """A correctly signed webhook whose body cannot be read: answer 400 and store nothing."""


@dataclass(frozen=True)
class CredentialField:
    """One value a carrier needs (an account, an API key, a link template).

    ``secret`` values are stored but never shown back in full on any page. ``choices`` (pairs of
    value and label) make the field a choice from that list: any other value is refused.
    """

    key: str  # the name the adapter reads with self.credential(key), e.g. "api_key"
    label: Any  # shown on the carrier form (a lazy translation)
    secret: bool = False  # stored, never shown back in full
    required: bool = False  # validate_credentials refuses an empty value
    help: Any = ""  # a line of help under the field
    choices: tuple[tuple[str, Any], ...] = ()  # (value, label) pairs: the form shows a select


@dataclass(frozen=True)
class CarrierConfig:
    """What a configured carrier gives its adapter: its credentials and webhook secret."""

    code: str  # the carrier's code, also in its webhook URL /logistics/webhooks/<code>
    name: str  # the carrier's name for people
    credentials: Mapping[str, str] = field(default_factory=dict)  # {CredentialField.key: value}
    webhook_secret: str = ""  # the secret the carrier signs pushes with (shown on the carrier page)


@dataclass(frozen=True)
class Address:
    """Where the parcel goes: the order's shipping address, as typed (no field is checked)."""

    recipient: str = ""  # the person who receives it
    phone: str = ""  # the recipient's phone, as typed
    line1: str = ""  # street and number
    line2: str = ""  # building, floor, room
    city: str = ""
    region: str = ""  # province or state
    postcode: str = ""
    country: str = "CN"  # ISO 3166-1 alpha-2


@dataclass(frozen=True)
class ParcelLine:
    """One product in the parcel (for carriers that want a content list or customs data)."""

    sku: str  # the product's code
    name: str  # the product's name
    quantity: int  # how many, at least 1


@dataclass(frozen=True)
class ShipmentRequest:
    """What logistics asks the carrier to carry. ``reference`` is the shipment number."""

    reference: str  # the shipment's number, e.g. "SH-2026-000007": unique, use it as your idempotency key
    order_number: str  # e.g. "SO-2026-000001"
    ship_date: date  # the day it is handed over (company time zone)
    address: Address
    lines: tuple[ParcelLine, ...] = ()
    packages: int | None = None  # number of boxes, when staff typed it
    weight_grams: int | None = None  # total weight, when staff typed it


@dataclass(frozen=True)
class Label:
    """A printable label: the bytes, their media type and a file name."""

    data: bytes
    content_type: str  # e.g. "application/pdf"
    filename: str  # e.g. "SH-2026-000007.pdf"


@dataclass(frozen=True)
class CreatedShipment:
    """The carrier's answer to ``create_shipment``."""

    tracking_number: str  # passes validate_tracking_number
    label: Label | None = None  # with LABEL
    expected_delivery: date | None = None  # when the carrier says


@dataclass(frozen=True)
class TrackingEvent:
    """One scan or status report of a parcel.

    ``occurred_at`` is timezone-aware. ``event_id`` identifies the event at the carrier; when
    it is empty logistics derives one from the other fields, so the same event read twice (by a
    pull and a webhook, or a webhook delivered twice) is stored once.
    """

    tracking_number: str
    occurred_at: datetime  # timezone-aware
    status: str  # one of EVENT_STATUSES
    description: str = ""  # the carrier's words, shown on the shipment's timeline
    location: str = ""
    event_id: str = ""  # the carrier's id of the event, when it has one
    exception_kind: str | None = None  # one of EXCEPTION_KINDS, with status EXCEPTION

    def key(self) -> str:
        """A stable identifier: the carrier's id, or a digest of what the event says."""
        if self.event_id:
            return self.event_id[:120]
        raw = "|".join([self.tracking_number, self.occurred_at.isoformat(), self.status,
                        self.exception_kind or "", self.description, self.location])
        return "sha256:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:64]


class CarrierAdapter:
    """Base class of carrier adapters. Override what ``supports`` announces, nothing else.

    Declare the class attributes below (``key``, ``title``, ``supports``, ``credential_fields``
    and, for the contract kit, ``example_tracking_number``). An adapter that ``supports``
    ``WEBHOOK`` implements :meth:`parse_webhook` and, for the contract kit and tests,
    :meth:`build_test_webhook` and :meth:`sign_test_webhook`.
    """

    key: str = ""  # a stable identifier stored with each carrier ([a-z][a-z0-9_]+)
    title: Any = ""  # a human name for the adapter list (may be a lazy translation)
    description: Any = ""  # a line about it on the Add carrier page
    supports: frozenset = frozenset()  # of CREATE, LABEL, TRACK, WEBHOOK, LINK
    credential_fields: tuple[CredentialField, ...] = ()  # what a carrier using it is configured with
    example_tracking_number: str = ""  # a number validate_tracking_number accepts (for the contract kit)
    asks_carrier_name: bool = False  # catch-all adapters ("other carrier"): the shipment form asks which company carries it

    def __init__(self, config: CarrierConfig):
        """Built by logistics for one configured carrier (``config``), per use: keep no state."""
        self.config = config

    # -- configuration

    @classmethod
    def validate_credentials(cls, values: Mapping[str, str]) -> dict[str, str]:
        """Problems with the configured values, as ``{field_key: message}`` (empty when fine).

        The default checks that required fields are filled in and that a field with ``choices``
        holds one of them.
        """
        problems = {f.key: "required" for f in cls.credential_fields
                    if f.required and not (values.get(f.key) or "").strip()}
        for f in cls.credential_fields:
            value = (values.get(f.key) or "").strip()
            if f.choices and value and f.key not in problems and value not in {c for c, _label in f.choices}:
                problems[f.key] = "choice"
        return problems

    def credential(self, key: str) -> str:
        """The configured value of credential ``key`` ('' when not set)."""
        return str(self.config.credentials.get(key) or "")

    # -- tracking numbers

    def validate_tracking_number(self, number: str) -> str:
        """The number in its normal form (e.g. upper case), or :class:`TrackingNumberInvalid`.

        The default accepts 4 to 40 letters, digits and dashes.
        """
        cleaned = (number or "").strip().upper().replace(" ", "")
        if not re.fullmatch(r"[A-Z0-9-]{4,40}", cleaned):
            raise TrackingNumberInvalid("a tracking number has 4 to 40 letters, digits or dashes")
        return cleaned

    # -- capabilities

    def create_shipment(self, request: ShipmentRequest) -> CreatedShipment:
        """Register a parcel with the carrier (``CREATE``); may return a label (``LABEL``)."""
        raise NotSupported(f"{self.key} does not create shipments")

    def fetch_tracking(self, tracking_number: str) -> list[TrackingEvent]:
        """Every event the carrier knows for ``tracking_number`` (``TRACK``), in any order."""
        raise NotSupported(f"{self.key} does not offer tracking")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[TrackingEvent]:
        """Verify the signature of a push from the carrier and read its events (``WEBHOOK``).

        Raise :class:`WebhookRejected` for a missing or bad signature (compare in constant
        time: :func:`verify_hmac_sha256`), :class:`WebhookMalformed` for an unreadable body.
        """
        raise NotSupported(f"{self.key} does not send webhooks")

    def build_test_webhook(self, events: list[TrackingEvent]) -> tuple[dict[str, str], bytes]:
        """(For the contract kit and tests) headers and body the carrier would push for ``events``."""
        raise NotSupported(f"{self.key} does not send webhooks")

    def sign_test_webhook(self, body: bytes) -> dict[str, str]:
        """(Test support, required with ``WEBHOOK``) the headers of a correctly signed push of ``body``.

        ``body`` is any bytes, also ones that are not a valid push: the contract kit signs
        unreadable bodies with it to check that :meth:`parse_webhook` then raises
        :class:`WebhookMalformed` (the signature passed, the body did not). Sign the way the
        carrier does, with ``self.config.webhook_secret`` (an adapter with another secret must
        produce headers this one rejects). For ``X-Sig: sha256=<hex>``::

            return {"X-Sig": "sha256=" + sign_hmac_sha256(self.config.webhook_secret, body)}
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement sign_test_webhook(body)")

    def signed_test_push(self, body: bytes) -> tuple[dict[str, str], bytes]:
        """(Test support) headers and body of a correctly signed push carrying ``body``.

        The default signs with :meth:`sign_test_webhook` and leaves the body as it is. A carrier
        whose signature travels inside the body (a form field, as Kuaidi100's ``sign``) overrides
        it and returns the body with the signature added; ``body`` may then be a push built by
        :meth:`build_test_webhook` (re-signed) or any bytes (taken as the pushed payload).
        """
        return self.sign_test_webhook(body), body

    def unsigned_test_push(self, headers: Mapping[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
        """(Test support) the push ``headers``/``body`` with its signature taken away.

        The default drops every header; a carrier signing inside the body removes it there.
        """
        return {}, body

    def subscribe(self, tracking_number: str, callback_url: str) -> None:
        """Ask the carrier to push the events of ``tracking_number`` to ``callback_url`` (``SUBSCRIBE``).

        Called by a job once a shipment has its tracking number; raise :class:`AdapterError`
        with the carrier's answer when it refuses (staff see it and can ask again).
        """
        raise NotSupported(f"{self.key} does not take subscriptions")

    def webhook_answer(self, error: AdapterError | None) -> tuple[str | bytes, str] | None:
        """The body and media type of the answer to a push, in the form the carrier expects.

        ``error`` is None when the push was stored, else why it was refused (the status code
        stays logistics's: 401 bad signature, 400 unreadable, 409 refused for now). None (the
        default) answers with logistics's own JSON.
        """
        return None

    def test_connection(self) -> tuple[bool, str]:
        """Ask the carrier whether the configured credentials work: ``(ok, what it answered)``.

        Optional: the carrier page shows "Test the connection" only for adapters overriding it.
        Never raises for a refusal; the message says what the carrier answered.
        """
        raise NotSupported(f"{self.key} cannot test its connection")

    def tracking_url(self, tracking_number: str) -> str | None:
        """A link (absolute, or a path on this site) where the customer can follow the parcel."""
        return None

    # -- helpers

    def can(self, capability: str) -> bool:
        """True when ``capability`` (``CREATE``, ``TRACK``...) is in ``supports``."""
        return capability in self.supports


def offers_connection_test(cls: type[CarrierAdapter]) -> bool:
    """True when the adapter class implements :meth:`CarrierAdapter.test_connection`."""
    return getattr(cls, "test_connection", None) is not CarrierAdapter.test_connection


def is_valid_key(key: str) -> bool:
    """True for an adapter key logistics accepts: ``[a-z][a-z0-9_]``, 2 to 40 characters."""
    return bool(isinstance(key, str) and _SLUG.match(key))


def sign_hmac_sha256(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``body`` with ``secret``."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_hmac_sha256(secret: str, body: bytes, signature: str | None) -> bool:
    """True when ``signature`` is the HMAC-SHA256 of ``body`` with ``secret``.

    ``secret`` is the carrier's webhook secret (``self.config.webhook_secret``); ``body`` the raw
    request body exactly as received (the bytes ``parse_webhook`` gets, before any decoding or
    JSON parsing); ``signature`` the header's value as sent: lowercase hex digits, optionally
    prefixed ``sha256=`` (``None`` or '' when the header is missing). A carrier that signs
    something else (a timestamp plus the body, base64, another hash) needs its own check with
    :func:`hmac.compare_digest`. Compared in constant time; an empty secret never verifies.
    """
    if not secret or not signature:
        return False
    signature = signature.strip()
    if signature.startswith("sha256="):
        signature = signature[len("sha256="):]
    expected = sign_hmac_sha256(secret, body)
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace"))
