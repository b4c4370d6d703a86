"""Purchase orders: numbering, the draft's lines, the state table's moves, sending, closing."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from erp_core import audit, settings, webhooks
from erp_core.db import next_counter
from erp_core.errors import Conflict, DomainError, NotFound
from erp_core.extensions import db
from erp_core.mail import queue_mail, render_mail
from erp_core.timeutil import to_zone, utcnow
from plugins.inventory import services as inventory
from plugins.orders.public import Product, line_amounts, parse_quantity

from .. import states
from ..models import PurchaseOrder, PurchaseOrderLine, Supplier, SupplierProduct
from ._common import clean, parse_day, price, product_rate

LANGUAGES = ("zh_CN", "en")


@dataclass
class LineInput:
    """One line as typed: the product (code or id), quantity, unit price (blank: the supplier's
    price) and expected date (``YYYY-MM-DD`` or blank)."""

    product: str | int
    quantity: str | int
    unit_price: str = ""
    expected_date: str | None = ""


def next_po_number() -> str:
    """PO-<year>-<000123>: gap-free per year of the company's calendar, safe under concurrency."""
    year = to_zone(utcnow(), settings.company_timezone()).year
    return f"PO-{year}-{next_counter(db.session, f'purchasing.number.{year}'):06d}"


def _product_of(raw, index: int) -> Product:
    text = str(raw or "").strip()
    product = db.session.scalar(select(Product).where(Product.sku == text.upper())) if text else None
    if product is None and text.isdigit():
        product = db.session.get(Product, int(text))
    if product is None:
        raise NotFound(_("Line %(n)d: unknown product code %(sku)s.", n=index + 1, sku=text or "—"),
                       field=f"lines-{index}-product")
    return product


def _line(supplier: Supplier, currency: str, i: int, line: LineInput) -> PurchaseOrderLine:
    product = _product_of(line.product, i)
    try:
        quantity = parse_quantity(line.quantity)
    except DomainError as exc:
        raise DomainError(_("Line %(n)d: %(reason)s", n=i + 1, reason=exc), field=f"lines-{i}-quantity") from None
    if str(line.unit_price or "").strip():
        unit = price(line.unit_price, currency, f"lines-{i}-unit_price")
    else:
        unit = db.session.scalar(select(SupplierProduct.price_minor).where(
            SupplierProduct.supplier_id == supplier.id, SupplierProduct.product_id == product.id)) or 0
    percent, exempt = product_rate(product)
    amounts = line_amounts(quantity, unit, 0, percent, True)
    return PurchaseOrderLine(product_id=product.id, quantity=quantity, unit_price_minor=unit,
                             expected_date=parse_day(line.expected_date, f"lines-{i}-expected_date"),
                             tax_rate_percent=percent, tax_exempt=exempt, net_minor=amounts.net,
                             tax_minor=amounts.tax, gross_minor=amounts.gross)


def _lines(supplier: Supplier, currency: str, lines: list[LineInput]) -> list[PurchaseOrderLine]:
    rows = [(i, line) for i, line in enumerate(lines)
            if str(line.product or "").strip() or str(line.quantity or "").strip()]
    if not rows:
        raise DomainError(_("Add at least one line."), field="lines")
    return [_line(supplier, currency, i, line) for i, line in rows]


def create_po(supplier: Supplier, warehouse_id, lines: list[LineInput], note: str = "") -> PurchaseOrder:
    """A draft purchase order to an active supplier, received into ``warehouse_id``."""
    if not supplier.active:
        raise DomainError(_("This supplier is switched off; switch it on to order from it."), field="supplier_id")
    warehouse = inventory.get_warehouse(warehouse_id)
    made = _lines(supplier, supplier.currency, lines)
    _uid, actor_name = audit.current_actor()
    po = PurchaseOrder(number=next_po_number(), supplier_id=supplier.id, warehouse_id=warehouse.id,
                       status=states.DRAFT, currency=supplier.currency, note=clean(note, 4000, "note"),
                       created_by=actor_name, lines=made)
    db.session.add(po)
    db.session.flush()
    audit.record("purchase_order", po.id, "created", after={"number": po.number, "supplier": supplier.id,
                                                           "total": po.total_minor, "currency": po.currency})
    return po


def update_draft(po: PurchaseOrder, warehouse_id, lines: list[LineInput], note: str = "") -> PurchaseOrder:
    """Replace a draft's warehouse, lines and note (only drafts change; the order's row is locked
    first, so a draft being sent or received at the same moment is not rewritten)."""
    if lock_po(po) not in states.EDITABLE:
        raise Conflict(_("Only a draft purchase order can be changed."))
    warehouse = inventory.get_warehouse(warehouse_id)
    made = _lines(po.supplier, po.currency, lines)
    before = {"total": po.total_minor, "currency": po.currency}
    po.lines.clear()
    db.session.flush()
    po.lines.extend(made)
    po.warehouse_id, po.note = warehouse.id, clean(note, 4000, "note")
    db.session.flush()
    audit.record("purchase_order", po.id, "changed", before=before,
                 after={"total": po.total_minor, "currency": po.currency, "warehouse": warehouse.name})
    return po


def move(po: PurchaseOrder, target: str, note: str = "") -> None:
    """Move ``po`` to ``target`` if the state table allows it, with one conditional UPDATE (a
    concurrent change of state is refused, not overwritten)."""
    current = po.status
    if not states.can_move(current, target):
        raise Conflict(_("A purchase order that is %(status)s cannot become %(target)s.",
                         status=states.LABELS[current], target=states.LABELS[target]))
    values = {"status": target}
    if target == states.SENT:
        values["sent_at"] = utcnow()
    if target in (states.CLOSED, states.CANCELLED, states.RECEIVED):
        values["closed_at"] = utcnow()
    done = db.session.execute(update(PurchaseOrder).where(PurchaseOrder.id == po.id, PurchaseOrder.status == current)
                              .values(**values).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict(_("Someone changed this purchase order meanwhile; nothing was changed. Look again."))
    db.session.refresh(po)
    audit.record("purchase_order", po.id, "status_changed", before={"status": current},
                 after={"status": target}, note=note or None)
    webhooks.emit("purchase_order.status_changed", po, old_status=current, new_status=target)


def lock_po(po: PurchaseOrder) -> str:
    """Take the purchase order's row lock for the rest of the transaction; its current status."""
    status = db.session.execute(update(PurchaseOrder).where(PurchaseOrder.id == po.id)
                                .values(status=PurchaseOrder.status).returning(PurchaseOrder.status)).scalar_one()
    db.session.refresh(po)
    return status


def send_po(po: PurchaseOrder, language: str = "zh_CN") -> bool:
    """Mark a draft sent (an order already sent is sent again) and e-mail it to the supplier in
    ``language``; True when the mail was queued (False: no address or mail not set up)."""
    if po.status == states.DRAFT:
        move(po, states.SENT)
    elif po.status not in states.RECEIVABLE:
        raise Conflict(_("Only a draft or an open purchase order can be sent."))
    if language not in LANGUAGES:
        raise DomainError(_("Choose a language."), field="language")
    email = po.supplier.email
    if not email:
        return False
    mail = render_mail("purchasing/mail/purchase_order",
                       subject=_l("Purchase order %(number)s", number=po.number), language=language,
                       po=po, lines=po_lines(po), warehouse_name=inventory.get_warehouse(po.warehouse_id).name)
    queued = queue_mail(email, mail.subject, mail.text, html=mail.html, language=language)
    audit.record("purchase_order", po.id, "mailed", after={"email": email, "language": language})
    return queued


def cancel_po(po: PurchaseOrder, reason: str) -> None:
    """Cancel a draft or sent purchase order (nothing received yet); a reason is required."""
    reason = clean(reason, 1000, "reason")
    if not reason:
        raise DomainError(_("Give a reason."), field="reason")
    lock_po(po)
    move(po, states.CANCELLED, reason)
    po.close_reason = reason


def close_po(po: PurchaseOrder, reason: str) -> None:
    """The rest of a partly received order will not come: close it with a reason."""
    reason = clean(reason, 1000, "reason")
    if not reason:
        raise DomainError(_("Give a reason."), field="reason")
    lock_po(po)
    move(po, states.CLOSED, reason)
    po.close_reason = reason


def po_lines(po: PurchaseOrder) -> list[tuple[PurchaseOrderLine, Product]]:
    """The order's lines with their products (one query)."""
    return list(db.session.execute(select(PurchaseOrderLine, Product).join(Product, Product.id == PurchaseOrderLine.product_id)
                                   .where(PurchaseOrderLine.order_id == po.id).order_by(PurchaseOrderLine.id)).all())


def get_po(po_id) -> PurchaseOrder:
    """The purchase order with this id, or NotFound."""
    po = db.session.get(PurchaseOrder, int(po_id)) if str(po_id).isdigit() else None
    if po is None:
        raise NotFound(_("Unknown purchase order."))
    return po


def on_order_by_product(product_ids, warehouse_id: int | None = None) -> dict[int, int]:
    """``{product_id: quantity still to come}`` on open purchase orders (one query)."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    stmt = (select(PurchaseOrderLine.product_id, func.sum(PurchaseOrderLine.quantity - PurchaseOrderLine.received))
            .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.order_id)
            .where(PurchaseOrderLine.product_id.in_(ids), PurchaseOrder.status.in_(states.ON_ORDER),
                   PurchaseOrderLine.quantity > PurchaseOrderLine.received)
            .group_by(PurchaseOrderLine.product_id))
    if warehouse_id is not None:
        stmt = stmt.where(PurchaseOrder.warehouse_id == warehouse_id)
    return {pid: int(q or 0) for pid, q in db.session.execute(stmt)}


def totals_of(po_ids) -> dict[int, int]:
    """``{purchase order id: total in minor units}`` of the given orders (one query)."""
    ids = list(po_ids)
    if not ids:
        return {}
    rows = db.session.execute(select(PurchaseOrderLine.order_id,
                                     func.sum(PurchaseOrderLine.gross_minor))
                              .where(PurchaseOrderLine.order_id.in_(ids)).group_by(PurchaseOrderLine.order_id))
    return {oid: int(total or 0) for oid, total in rows}


def late_query(today):
    """Open (sent or partly received) orders with a line still to come expected before ``today``."""
    late_lines = (select(PurchaseOrderLine.order_id).where(PurchaseOrderLine.expected_date < today,
                                                           PurchaseOrderLine.quantity > PurchaseOrderLine.received))
    return select(PurchaseOrder).where(PurchaseOrder.status.in_(states.RECEIVABLE), PurchaseOrder.id.in_(late_lines))
