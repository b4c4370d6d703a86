"""Replenishment: goods expected from suppliers (incoming), the products below their threshold,
and how much to order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import and_, func, select, update

from erp_core import audit
from erp_core.errors import Conflict, DomainError
from erp_core.extensions import db
from erp_core.i18n import system_text
from erp_core.timeutil import utcnow
from plugins.orders.public import Product, parse_quantity

from ..models import Document, ExpectedReceipt, Level, StockRule
from ._common import _clean
from .documents import receive_goods
from .warehousing import get_warehouse


def parse_date(raw, field_name: str = "expected_date") -> date | None:
    """A ``YYYY-MM-DD`` date as typed; blank is None, anything else a DomainError on ``field_name``."""
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
                        note=system_text("inventory.expected_receipt", id=er.id))
    er.received_quantity, er.document_id = qty, doc.id
    audit.record("expected_receipt", er.id, "received", before={"status": "open"},
                 after={"status": "received", "quantity": qty, "receipt": doc.number})
    return doc


def cancel_expected(er: ExpectedReceipt) -> None:
    """The expected goods will not come: close the expected receipt as cancelled."""
    _close_expected(er, "cancelled")
    audit.record("expected_receipt", er.id, "cancelled", before={"status": "open"}, after={"status": "cancelled"})


def incoming_subquery():
    """Open expected receipts summed per (product, warehouse), as ``incoming``."""
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
    """How much to order (:func:`suggest`) and the sentence that explains it."""

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
