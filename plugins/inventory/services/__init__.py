"""Business rules of inventory: the ledger, reservations for orders, receipts, stocktakes,
transfers, warehouses, thresholds and replenishment.

Every function works in the caller's transaction and raises a DomainError with a translated
message; the caller rolls back or commits.

Every change of stock goes through :func:`apply_changes`: for one warehouse and any number of
products it runs ONE conditional UPDATE of the level rows (a ``CASE`` per product)::

    UPDATE inventory_level SET on_hand = on_hand + CASE product_id WHEN .. END,
                               reserved = reserved + CASE product_id WHEN .. END
     WHERE warehouse_id = :w AND product_id IN (..)
       AND on_hand - reserved >= CASE product_id WHEN .. END   -- what must be available
       AND reserved + CASE product_id WHEN .. END >= 0
    RETURNING product_id, on_hand, reserved

and compares the rows it returns with the number of products; a shortfall is refused with one
extra SELECT naming each short product. On PostgreSQL the rows are first locked in
(product_id, warehouse_id) order, so two multi-product operations never deadlock. The moves are
written with one multi-row INSERT, and one more UPDATE flips the low-stock flags. The number of
statements is therefore the same for 5 products and for 500.
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import and_, case, func, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from erp_core import audit, settings
from erp_core.db import next_counter
from erp_core.errors import Conflict, DomainError, NotFound, ValidationProblems
from erp_core.extensions import db
from erp_core.ui import path_for
from erp_core.mail import queue_mail
from erp_core.timeutil import to_zone, utcnow
from plugins.orders import states as order_states
from plugins.orders.models import Order, Product
from plugins.orders.services import parse_quantity, quantities_by_product

from ..models import (ADJUSTMENT, RECEIPT, RELEASE, RESERVATION, RETURN, SHIPMENT, TRANSFER, WRITE_OFF, Document,
                     ExpectedReceipt, Level, LowStockAlert, Move, StockRule, Warehouse)

log = logging.getLogger(__name__)

from ._common import HOLDING, FINISHED, _clean, _dialect, _ensure_levels, _check_quantities  # noqa: F401
from .warehouses import find_default_warehouse, default_warehouse, warehouses, get_warehouse, save_warehouse, set_default_warehouse, set_warehouse_active  # noqa: F401
from .low_stock import EMAIL_SETTING, sync_low_flags, low_stock_recipients, _mail_low_stock, set_rule, open_alert_count  # noqa: F401
from .ledger import MAX_LIST, InsufficientStock, Change, _case, lock_levels, MoveSpec, apply_changes, _shortage, Difference, check_ledger, MOVE_LABELS, move_links  # noqa: F401
from .reservations import OrderStock, order_stock, _per_product, lock_order, order_warehouse_id, sync_order_reservation, on_status_changed, on_order_changed, ship_goods, return_goods, change_order_warehouse, order_panel  # noqa: F401
from .documents import parse_lines, lines_by_product_id, _new_document, new_form_token, receive_goods, count_stock, transfer  # noqa: F401





# ----------------------------------------------------------------------------- warehouses







# ----------------------------------------------------------------------------- the engine


















# ----------------------------------------------------------------------------- low stock




# ----------------------------------------------------------------------------- orders







# ----------------------------------------------------------------------------- documents




# ----------------------------------------------------------------------------- expected receipts


def parse_date(raw, field_name: str = "expected_date") -> date | None:
    text = str(raw or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DomainError(_("Dates are written YYYY-MM-DD."), field=field_name) from None


def expect_receipt(product: Product, warehouse_id, quantity, supplier: str = "", expected_date=None,
                   note: str = "") -> ExpectedReceipt:
    """Record goods on their way from a supplier (counted as incoming for replenishment)."""
    wh = get_warehouse(warehouse_id)
    try:
        qty = parse_quantity(quantity)
    except DomainError as exc:
        raise DomainError(str(exc), field="quantity") from None
    when = expected_date if isinstance(expected_date, date) or expected_date is None else parse_date(expected_date)
    _uid, actor_name = audit.current_actor()
    er = ExpectedReceipt(product_id=product.id, warehouse_id=wh.id, quantity=qty, supplier=_clean(supplier, 200),
                         expected_date=when, note=_clean(note, 2000), created_by=actor_name)
    db.session.add(er)
    db.session.flush()
    audit.record("expected_receipt", er.id, "created", after={"sku": product.sku, "quantity": qty,
                                                             "warehouse": wh.name, "supplier": er.supplier})
    return er


def _close_expected(er: ExpectedReceipt, status: str) -> None:
    """Conditional UPDATE: only an open expected receipt can be closed (a double post is refused)."""
    done = db.session.execute(update(ExpectedReceipt).where(ExpectedReceipt.id == er.id,
                                                            ExpectedReceipt.status == "open")
                              .values(status=status, closed_at=utcnow())
                              .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict(_("This expected receipt is no longer open; nothing was changed."))
    db.session.refresh(er)


def receive_expected(er: ExpectedReceipt, quantity=None) -> Document:
    """The expected goods arrived (possibly a different quantity): make the receipt."""
    qty = er.quantity if quantity in (None, "") else None
    if qty is None:
        try:
            qty = parse_quantity(quantity)
        except DomainError as exc:
            raise DomainError(str(exc), field="quantity") from None
    _close_expected(er, "received")
    doc = receive_goods(er.warehouse_id, {er.product_id: qty}, supplier=er.supplier,
                        note=_("Expected receipt #%(id)s", id=er.id))
    er.received_quantity, er.document_id = qty, doc.id
    audit.record("expected_receipt", er.id, "received", before={"status": "open"},
                 after={"status": "received", "quantity": qty, "receipt": doc.number})
    return doc


def cancel_expected(er: ExpectedReceipt) -> None:
    _close_expected(er, "cancelled")
    audit.record("expected_receipt", er.id, "cancelled", before={"status": "open"}, after={"status": "cancelled"})


# ----------------------------------------------------------------------------- reading


def incoming_subquery():
    return (select(ExpectedReceipt.product_id, ExpectedReceipt.warehouse_id,
                   func.sum(ExpectedReceipt.quantity).label("incoming"))
            .where(ExpectedReceipt.status == "open")
            .group_by(ExpectedReceipt.product_id, ExpectedReceipt.warehouse_id).subquery())


def replenishment_query(warehouse_id: int):
    """Products with a threshold whose available plus incoming in the warehouse is below it."""
    inc = incoming_subquery()
    available = func.coalesce(Level.on_hand, 0) - func.coalesce(Level.reserved, 0)
    incoming = func.coalesce(inc.c.incoming, 0)
    return (select(Product, StockRule, func.coalesce(Level.on_hand, 0).label("on_hand"),
                   func.coalesce(Level.reserved, 0).label("reserved"), incoming.label("incoming"))
            .join(StockRule, and_(StockRule.product_id == Product.id, StockRule.low_threshold > 0))
            .outerjoin(Level, and_(Level.product_id == Product.id, Level.warehouse_id == warehouse_id))
            .outerjoin(inc, and_(inc.c.product_id == Product.id, inc.c.warehouse_id == warehouse_id))
            .where(Product.active.is_(True), available + incoming < StockRule.low_threshold))


@dataclass
class Suggestion:
    quantity: int
    reason: str


def suggest(on_hand: int, reserved: int, incoming: int, threshold: int, reorder: int) -> Suggestion:
    """How much to order and why: at least the shortfall to the threshold, at least the reorder quantity."""
    available = on_hand - reserved
    projected = available + incoming
    shortfall = max(0, threshold - projected)
    quantity = max(shortfall, reorder)
    if reorder >= shortfall:
        reason = _("Available %(available)s + incoming %(incoming)s = %(projected)s is below the threshold of %(threshold)s; the reorder quantity %(reorder)s covers the shortfall of %(shortfall)s and brings it to %(after)s.",
                   available=available, incoming=incoming, projected=projected, threshold=threshold,
                   reorder=reorder, shortfall=shortfall, after=projected + quantity)
    else:
        reason = _("Available %(available)s + incoming %(incoming)s = %(projected)s is below the threshold of %(threshold)s; the shortfall of %(shortfall)s is more than the reorder quantity %(reorder)s, so the shortfall is suggested.",
                   available=available, incoming=incoming, projected=projected, threshold=threshold,
                   reorder=reorder, shortfall=shortfall)
    return Suggestion(quantity, reason)




# ----------------------------------------------------------------------------- the check








