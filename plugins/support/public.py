"""The customer side: tracking links of orders, the order lookup, and the public forms' rate limit.

A tracking link is ``/support/t/<order id>/<token>`` where the token is
HMAC(SECRET_KEY, order id + a random nonce kept in ``support_order_access``): the database alone
does not reveal links, and a new nonce (or none) revokes the old link.

The rate limit counts hits per form and client address in fixed windows in the database, so it
holds across worker processes and hosts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from erp_core import audit
from erp_core.extensions import db
from erp_core.i18n import system_text
from erp_core.timeutil import utcnow
from plugins.orders import public as order_services
from plugins.orders.public import Order

from . import tokens
from .models import OrderAccess, RateLimit

# form -> (hits allowed, window in seconds); a site may override with SUPPORT_RATE_LIMITS.
RATE_LIMITS = {
    "contact": (5, 600),
    "return": (5, 600),
    "reply": (10, 600),
    "survey": (10, 600),
}


# ----------------------------------------------------------------------------- tracking links


def access_of(order_id: int) -> OrderAccess | None:
    """The order's access row (its link nonce), or ``None`` when no link was made yet."""
    return db.session.get(OrderAccess, order_id)


def ensure_access(order: Order) -> OrderAccess:
    """The order's access row, created with a fresh nonce when missing."""
    row = db.session.get(OrderAccess, order.id)
    if row is None:
        try:
            with db.session.begin_nested():
                row = OrderAccess(order_id=order.id, nonce=tokens.new_nonce(), created_at=utcnow())
                db.session.add(row)
                db.session.flush()
        except IntegrityError:  # made meanwhile by another transaction
            row = db.session.get(OrderAccess, order.id)
    return row


def create_access(order: Order) -> OrderAccess:
    """The access row of an order created in this transaction (``erp_order_created``).

    No other transaction can know the new order yet, and the row goes with it (cascade), so a
    plain insert suffices: no lookup first and no savepoint, as :func:`ensure_access` needs."""
    row = OrderAccess(order_id=order.id, nonce=tokens.new_nonce(), created_at=utcnow())
    db.session.add(row)
    return row


def tracking_token(order_id: int, nonce: str | None) -> str | None:
    """The token of the order's customer link for ``nonce`` (``None`` when revoked)."""
    return tokens.derive("order", order_id, nonce)


def tracking_url(order: Order, access: OrderAccess | None = None) -> str | None:
    """The customer's link of the order, or None when it is revoked or not made yet."""
    from .services import public_url

    access = access or access_of(order.id)
    token = tracking_token(order.id, access.nonce) if access is not None else None
    if token is None:
        return None
    return public_url("support_public.track", order_id=order.id, token=token)


def find_order(order_id: int, token: str) -> Order | None:
    """The order a customer link opens, or ``None`` when the token does not match (compared in
    constant time) or the link was revoked."""
    access = db.session.get(OrderAccess, order_id)
    if access is None or not tokens.matches("order", order_id, access.nonce, token):
        return None
    return db.session.get(Order, order_id)


def rotate(order: Order) -> OrderAccess:
    """Give the order a new link; the old one stops working."""
    access = ensure_access(order)
    access.nonce = tokens.new_nonce()
    access.rotated_at = utcnow()
    audit.record("order", order.id, "tracking_link_renewed", note=system_text("support.link_renewed"))
    return access


def revoke(order: Order) -> None:
    """Switch the order's customer link off (audited); a renewed link is a new one."""
    access = ensure_access(order)
    access.nonce = None
    access.rotated_at = utcnow()
    audit.record("order", order.id, "tracking_link_revoked", note=system_text("support.link_revoked"))


def lock_for_returns(order: Order) -> None:
    """Serialise return requests of one order: an UPDATE row-locks its access row until commit."""
    ensure_access(order)
    db.session.execute(update(OrderAccess).where(OrderAccess.order_id == order.id)
                       .values(lock_count=OrderAccess.lock_count + 1).execution_options(synchronize_session=False))


def lookup(number: str, contact: str) -> Order | None:
    """The order with this number whose phone or e-mail (on the order or its customer) matches."""
    number = (number or "").strip().upper()
    contact = (contact or "").strip()
    if not number or not contact:
        return None
    order = db.session.scalar(select(Order).where(func.upper(Order.number) == number))
    if order is None:
        return None
    if "@" in contact:
        wanted = contact.lower()
        emails = {(order.contact_email or "").lower(), (order.customer.email or "").lower()}
        return order if wanted in emails - {""} else None
    key = order_services.phone_key(contact)
    digits = key.lstrip("+")
    if len(digits) < 5:
        return None
    keys = {order.contact_phone_key, order.customer.phone_key or ""} - {""}
    return order if any(k.lstrip("+").endswith(digits) and len(digits) >= min(8, len(k.lstrip("+")))
                        for k in keys) else None


# ----------------------------------------------------------------------------- rate limit


def limits(scope: str) -> tuple[int, int]:
    """``(hits allowed, window in seconds)`` of a public form (``SUPPORT_RATE_LIMITS`` overrides)."""
    configured = current_app.config.get("SUPPORT_RATE_LIMITS") or {}
    value = configured.get(scope) or RATE_LIMITS[scope]
    return int(value[0]), int(value[1])


def hit(scope: str, client: str, now: datetime | None = None) -> tuple[bool, int]:
    """Count one hit of ``client`` on form ``scope``; returns (allowed, seconds until the window ends).

    The count is one conditional UPDATE ... RETURNING (an INSERT the first time in a window), so
    concurrent processes never lose a hit. The caller commits at once, before handling the form.
    """
    now = now or utcnow()
    allowed, window = limits(scope)
    epoch = int(now.timestamp())
    window_start = datetime.fromtimestamp(epoch - epoch % window, tz=UTC)
    client = (client or "unknown")[:120]
    stmt = (update(RateLimit).where(RateLimit.scope == scope, RateLimit.client == client,
                                    RateLimit.window_start == window_start)
            .values(hits=RateLimit.hits + 1).returning(RateLimit.hits))
    hits = db.session.execute(stmt).scalar()
    if hits is None:
        try:
            with db.session.begin_nested():
                db.session.add(RateLimit(scope=scope, client=client, window_start=window_start, hits=1))
                db.session.flush()
            hits = 1
        except IntegrityError:
            hits = db.session.execute(stmt).scalar_one()
    retry_after = int((window_start + timedelta(seconds=window) - now).total_seconds()) + 1
    return hits <= allowed, retry_after


def purge_rate_limits(now: datetime | None = None) -> int:
    """Job: forget windows older than a day."""
    now = now or utcnow()
    result = db.session.execute(delete(RateLimit).where(RateLimit.window_start < now - timedelta(days=1)))
    return result.rowcount or 0
