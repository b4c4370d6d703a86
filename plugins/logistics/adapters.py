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

    key: str
    label: Any
    secret: bool = False
    required: bool = False
    help: Any = ""
    choices: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class CarrierConfig:
    """What a configured carrier gives its adapter: its credentials and webhook secret."""

    code: str
    name: str
    credentials: Mapping[str, str] = field(default_factory=dict)
    webhook_secret: str = ""


@dataclass(frozen=True)
class Address:
    recipient: str = ""
    phone: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postcode: str = ""
    country: str = "CN"


@dataclass(frozen=True)
class ParcelLine:
    sku: str
    name: str
    quantity: int


@dataclass(frozen=True)
class ShipmentRequest:
    """What logistics asks the carrier to carry. ``reference`` is the shipment number."""

    reference: str
    order_number: str
    ship_date: date
    address: Address
    lines: tuple[ParcelLine, ...] = ()
    packages: int | None = None
    weight_grams: int | None = None


@dataclass(frozen=True)
class Label:
    """A printable label: the bytes, their media type and a file name."""

    data: bytes
    content_type: str
    filename: str


@dataclass(frozen=True)
class CreatedShipment:
    """The carrier's answer to ``create_shipment``."""

    tracking_number: str
    label: Label | None = None
    expected_delivery: date | None = None


@dataclass(frozen=True)
class TrackingEvent:
    """One scan or status report of a parcel.

    ``occurred_at`` is timezone-aware. ``event_id`` identifies the event at the carrier; when
    it is empty logistics derives one from the other fields, so the same event read twice (by a
    pull and a webhook, or a webhook delivered twice) is stored once.
    """

    tracking_number: str
    occurred_at: datetime
    status: str
    description: str = ""
    location: str = ""
    event_id: str = ""
    exception_kind: str | None = None

    def key(self) -> str:
        """A stable identifier: the carrier's id, or a digest of what the event says."""
        if self.event_id:
            return self.event_id[:120]
        raw = "|".join([self.tracking_number, self.occurred_at.isoformat(), self.status,
                        self.exception_kind or "", self.description, self.location])
        return "sha256:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:64]


class CarrierAdapter:
    """Base class of carrier adapters. Override what ``supports`` announces, nothing else.

    Class attributes:

    ``key``                a stable identifier stored with each carrier (``[a-z][a-z0-9_]+``)
    ``title``              a human name for the adapter list (may be a lazy translation)
    ``supports``           a frozenset of ``CREATE``, ``LABEL``, ``TRACK``, ``WEBHOOK``, ``LINK``
    ``credential_fields``  the values a carrier using this adapter is configured with
    ``example_tracking_number``  a number ``validate_tracking_number`` accepts (for the contract kit)

    An adapter that ``supports`` ``WEBHOOK`` implements :meth:`parse_webhook` and, for the
    contract kit and tests, :meth:`build_test_webhook` and :meth:`sign_test_webhook`.
    """

    key: str = ""
    title: Any = ""
    description: Any = ""
    supports: frozenset = frozenset()
    credential_fields: tuple[CredentialField, ...] = ()
    example_tracking_number: str = ""

    def __init__(self, config: CarrierConfig):
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
        return capability in self.supports


def offers_connection_test(cls: type[CarrierAdapter]) -> bool:
    """True when the adapter class implements :meth:`CarrierAdapter.test_connection`."""
    return getattr(cls, "test_connection", None) is not CarrierAdapter.test_connection


def is_valid_key(key: str) -> bool:
    return bool(isinstance(key, str) and _SLUG.match(key))


def sign_hmac_sha256(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``body`` with ``secret``."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_hmac_sha256(secret: str, body: bytes, signature: str | None) -> bool:
    """True when ``signature`` (hex, optionally prefixed ``sha256=``) signs ``body``.

    Compared in constant time; an empty secret never verifies anything.
    """
    if not secret or not signature:
        return False
    signature = signature.strip()
    if signature.startswith("sha256="):
        signature = signature[len("sha256="):]
    expected = sign_hmac_sha256(secret, body)
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace"))
