"""Outgoing webhooks: subscriptions, signed deliveries queued after commit, retries with back-off.

A domain event (order, shipment, payment, refund, return, ticket) becomes one delivery row per
matching active subscription, inside the event's transaction; the first attempt is a job queued
after commit. Failed attempts are retried by the ``core.webhooks.retry`` schedule with growing
delays (1 min, 5 min, 30 min, 2 h, 6 h), then given up. Every attempt's response code is kept.

A subscription may not target the site's own network (loopback, private, link-local...
addresses; see :mod:`erp_core.outbound`), checked when it is saved and again at each delivery,
unless the site setting ``core.webhooks.allow_internal`` is on.

Each request carries ``X-ERP-Event``, ``X-ERP-Delivery`` and ``X-ERP-Signature: t=<unix>,v1=<hex>``
where ``v1`` is HMAC-SHA256 over ``"<t>." + body`` with the subscription's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, and_, inspect, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import audit
from .db import UTCDateTime
from .errors import DomainError
from .extensions import db
from .jobs import enqueue
from .outbound import check_target, opener
from .timeutil import utcnow

RETRY_DELAYS = (60, 300, 1800, 7200, 21600)


def known_events() -> dict:
    """Every event a subscription may choose: those the enabled plugins declare
    (``erp_webhook_events``), in plugin order."""
    from .plugins import current_manager

    found: dict = {}
    for _plugin, contributed in current_manager().call_each("erp_webhook_events"):
        found.update(contributed or {})
    return found
TIMEOUT = 10


class Webhook(db.Model):
    __tablename__ = "core_webhook"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(500), nullable=False)
    events: Mapped[list] = mapped_column(JSON, nullable=False)
    secret: Mapped[str] = mapped_column(String(100), nullable=False)  # shared with the receiver to sign
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    description: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class WebhookDelivery(db.Model):
    __tablename__ = "core_webhook_delivery"
    __table_args__ = (Index("ix_core_webhook_delivery_due", "status", "next_attempt_at"),
                      Index("ix_core_webhook_delivery_hook", "webhook_id", "id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("core_webhook.id", ondelete="CASCADE"), nullable=False)
    event: Mapped[str] = mapped_column(String(60), nullable=False)
    payload: Mapped[dict] = mapped_column(JSON, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending")  # pending/succeeded/failed
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    response_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    webhook: Mapped[Webhook] = relationship()


# ----------------------------------------------------------------------------- subscriptions


def _check(url: str, events: list[str]) -> tuple[str, list[str]]:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DomainError(_("The URL must start with http:// or https://."), field="url")
    if len(url) > 500:
        raise DomainError(_("The URL is too long."), field="url")
    check_target(url)  # not the site's own network (SSRF), unless allowed
    events = [e for e in events if e]
    known = known_events()
    unknown = [e for e in events if e not in known]
    if unknown or not events:
        raise DomainError(_("Choose at least one event."), field="events")
    return url, sorted(set(events))


def create_webhook(url: str, events: list[str], description: str = "") -> Webhook:
    """Subscribe ``url`` to ``events``; a random signing secret is generated."""
    url, events = _check(url, events)
    hook = Webhook(url=url, events=events, secret="whsec_" + secrets.token_urlsafe(24), active=True,
                   description=(description or "").strip()[:200])
    db.session.add(hook)
    db.session.flush()
    audit.record("webhook", hook.id, "created", after={"url": url, "events": events})
    return hook


def update_webhook(hook: Webhook, url: str, events: list[str], active: bool, description: str = "") -> None:
    url, events = _check(url, events)
    before = {"url": hook.url, "events": hook.events, "active": hook.active, "description": hook.description}
    hook.url, hook.events, hook.active = url, events, bool(active)
    hook.description = (description or "").strip()[:200]
    b, a = audit.diff(before, {"url": url, "events": events, "active": hook.active, "description": hook.description})
    if a:
        audit.record("webhook", hook.id, "changed", before=b, after=a)


def rotate_secret(hook: Webhook) -> str:
    hook.secret = "whsec_" + secrets.token_urlsafe(24)
    audit.record("webhook", hook.id, "secret_rotated")
    return hook.secret


# ----------------------------------------------------------------------------- events


def _jsonable(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# Columns never sent to a subscriber, whatever their table: link nonces, secrets, hashes.
PRIVATE_NAME_PARTS = ("nonce", "secret", "password", "token", "credential")


def _private(attr) -> bool:
    """A column stays home when its name says it is a secret or its ``info`` has ``private``."""
    name = attr.key.lower()
    return any(part in name for part in PRIVATE_NAME_PARTS) or any(
        column.info.get("private") for column in attr.columns)


def serialize(obj) -> dict:
    """Columns of an ORM object (and of its ``lines``, when it has them) as JSON-able values.

    Left out: private columns (see :data:`PRIVATE_NAME_PARTS`; mark others
    ``info={"private": True}``) and binary ones (a shipment's label, uploaded files), which are
    not JSON and not for a receiver of events."""
    if obj is None:
        return {}
    mapper = inspect(obj).mapper
    data = {attr.key: _jsonable(getattr(obj, attr.key)) for attr in mapper.column_attrs
            if not _private(attr) and not any(isinstance(column.type, LargeBinary) for column in attr.columns)}
    lines = getattr(obj, "lines", None)
    if isinstance(lines, list):
        data["lines"] = [serialize(line) for line in lines]
    return data


def emit(event: str, obj, **extra) -> int:
    """Queue a delivery of ``event`` about ``obj`` to every active subscriber; returns how many."""
    # Only the ids and event lists: the subscriptions are not loaded as objects for every event.
    hooks = [hook_id for hook_id, events in db.session.execute(
        select(Webhook.id, Webhook.events).where(Webhook.active.is_(True))) if event in (events or ())]
    if not hooks:
        return 0
    payload = {"event": event, "occurred_at": utcnow().isoformat(), "data": serialize(obj),
               **{k: _jsonable(v) for k, v in extra.items()}}
    for hook_id in hooks:
        delivery = WebhookDelivery(webhook_id=hook_id, event=event, payload=payload, status="pending",
                                   next_attempt_at=utcnow())
        db.session.add(delivery)
        db.session.flush()
        enqueue(deliver, delivery.id)
    return len(hooks)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-ERP-Signature`` header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """For receivers (and tests): check a signature header, refusing stale timestamps."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


def deliver(delivery_id: int) -> None:
    """Job: POST one delivery; record the answer; plan a retry on failure.

    The database is not held while the receiver answers: the read ends (commit) before the
    request and the answer is written in a transaction of its own."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status != "pending":
        return
    hook = delivery.webhook
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    request = urllib.request.Request(hook.url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "erp-webhooks/1",
        "X-ERP-Event": delivery.event, "X-ERP-Delivery": str(delivery.id),
        "X-ERP-Signature": sign(hook.secret, int(time.time()), body)})
    guarded = opener()  # internal addresses refused (outbound), unless the site allows them
    db.session.commit()  # on SQLite a job's transaction holds the write lock: never across the network
    code, text, error = None, None, None
    try:
        with guarded.open(request, timeout=TIMEOUT) as response:
            code, text = response.status, response.read(2000).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        code, text = exc.code, exc.read(2000).decode("utf-8", "replace")
    except Exception as exc:  # connection refused, timeout, DNS...
        error = f"{type(exc).__name__}: {exc}"[:1000]
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status != "pending":
        return  # answered meanwhile by another attempt
    delivery.attempts += 1
    delivery.response_code, delivery.response_body, delivery.last_error = code, text, error
    if code is not None and 200 <= code < 300:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "succeeded", utcnow(), None
    elif delivery.attempts > len(RETRY_DELAYS):
        delivery.status, delivery.next_attempt_at = "failed", None
    else:
        delivery.next_attempt_at = utcnow() + timedelta(seconds=RETRY_DELAYS[delivery.attempts - 1])


def retry_due() -> int:
    """Schedule job: queue the pending deliveries whose retry time has come."""
    now = utcnow()
    # A first attempt normally runs right after commit; one still untried after two minutes
    # (its job was lost with a worker) is picked up here too.
    due = db.session.scalars(select(WebhookDelivery.id).where(
        WebhookDelivery.status == "pending",
        or_(and_(WebhookDelivery.attempts > 0, WebhookDelivery.next_attempt_at <= now),
            WebhookDelivery.next_attempt_at <= now - timedelta(minutes=2))).limit(500)).all()
    for delivery_id in due:
        enqueue(deliver, delivery_id)
    return len(due)


def retry_now(delivery: WebhookDelivery) -> None:
    """Staff asked to try a delivery again at once (failed ones get a fresh round)."""
    if delivery.status == "succeeded":
        raise DomainError(_("This delivery already succeeded."))
    if delivery.status == "failed":
        delivery.attempts = 0
    delivery.status = "pending"
    delivery.next_attempt_at = utcnow()
    enqueue(deliver, delivery.id)


def ping(hook: Webhook) -> WebhookDelivery:
    """Queue a test delivery (event ``ping``) to one subscription."""
    delivery = WebhookDelivery(webhook_id=hook.id, event="ping", payload={"event": "ping", "webhook": hook.id,
                                                                          "occurred_at": utcnow().isoformat()},
                               status="pending", next_attempt_at=utcnow())
    db.session.add(delivery)
    db.session.flush()
    enqueue(deliver, delivery.id)
    return delivery
