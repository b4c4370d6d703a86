"""Helpers shared by the inventory service modules (not part of the public surface)."""

from __future__ import annotations

from flask_babel import gettext as _

from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.timeutil import utcnow
from plugins.orders.public import states as order_states

from ..models import Level

# Order states in which the order holds a reservation for what it has not shipped yet.
HOLDING = frozenset({order_states.CONFIRMED, order_states.PARTIALLY_SHIPPED})
# Order states after which nothing more ships: leftover reservations are released.
FINISHED = frozenset({order_states.SHIPPED, order_states.DELIVERED, order_states.COMPLETED,
                      order_states.CANCELLED, order_states.DRAFT})


def _clean(text, limit: int) -> str:
    """Text stripped and cut to ``limit`` characters (None is empty)."""
    return (text or "").strip()[:limit]


def _dialect() -> str:
    """The database dialect of the session (``postgresql`` or ``sqlite``)."""
    return db.session.get_bind().dialect.name


def _ensure_levels(warehouse_id: int, product_ids) -> None:
    """Create missing level rows (0, 0) in one INSERT ... ON CONFLICT DO NOTHING."""
    product_ids = sorted(set(product_ids))
    if not product_ids:
        return
    if _dialect() == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    now = utcnow()
    rows = [{"product_id": p, "warehouse_id": warehouse_id, "on_hand": 0, "reserved": 0, "low_alerted": False,
             "updated_at": now} for p in product_ids]
    db.session.execute(dialect_insert(Level).values(rows).on_conflict_do_nothing(
        index_elements=["product_id", "warehouse_id"]))


def _check_quantities(quantities: dict) -> dict[int, int]:
    """``{product_id: quantity}`` as ints, zeros dropped; a negative quantity is refused."""
    clean = {}
    for p, q in (quantities or {}).items():
        q = int(q)
        if q < 0:
            raise DomainError(_("Quantities must not be negative."))
        if q:
            clean[int(p)] = clean.get(int(p), 0) + q
    return clean
