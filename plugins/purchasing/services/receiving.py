"""Receiving goods against a purchase order, in parts: each receipt is one inventory goods
receipt (its "receipt" moves put the goods on hand) and a conditional UPDATE per line, so two
people receiving the same line at once never receive more than they meant to."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select, update

from erp_core import audit, webhooks
from erp_core.errors import Conflict, DomainError
from erp_core.extensions import db
from plugins.inventory import services as inventory
from plugins.orders.public import Product

from .. import states
from ..models import PurchaseOrder, PurchaseOrderLine
from ._common import MAX_COUNT
from .purchase_orders import lock_po, move


class OverReceipt(Conflict):
    """Receiving this much would bring a line above what was ordered; the user must confirm."""

    code = "over_receipt"


def _quantity(line: PurchaseOrderLine, raw) -> int:
    text = str(raw if raw is not None else "").strip()
    if text and (not text.isdigit() or int(text) > MAX_COUNT):
        raise DomainError(_("Enter whole numbers of 0 or more."), field=f"line-{line.id}")
    return int(text or 0)


def _quantities(po: PurchaseOrder, quantities: dict) -> dict[PurchaseOrderLine, int]:
    lines = {line.id: line for line in po.lines}
    wanted: dict[PurchaseOrderLine, int] = {}
    for raw_id, raw in (quantities or {}).items():
        line = lines.get(int(raw_id)) if str(raw_id).isdigit() else None
        if line is None:
            raise DomainError(_("This line is not on the purchase order."), field="lines")
        if _quantity(line, raw):
            wanted[line] = _quantity(line, raw)
    if not wanted:
        raise DomainError(_("Enter the quantity received on at least one line."), field="lines")
    return wanted


def _seen(seen: dict | None) -> dict[int, int]:
    return {int(k): int(v) for k, v in (seen or {}).items() if str(k).isdigit() and str(v).lstrip("-").isdigit()}


def _over_message(over: list[tuple[str, int, int]]) -> str:
    return _("More than ordered: %(lines)s. Confirm to receive it anyway.",
             lines=", ".join(_("%(sku)s %(after)s of %(ordered)s", sku=s, after=a, ordered=o) for s, a, o in over))


def _add_received(wanted: dict[PurchaseOrderLine, int], seen: dict[int, int], confirm_over: bool, skus: dict) -> None:
    """One conditional UPDATE per line: within what was ordered (unless confirmed) and, when the
    user's view is known, only if nobody received on the line since."""
    for line, q in wanted.items():
        stmt = update(PurchaseOrderLine).where(PurchaseOrderLine.id == line.id)
        if line.id in seen:
            stmt = stmt.where(PurchaseOrderLine.received == seen[line.id])
        if not confirm_over:
            stmt = stmt.where(PurchaseOrderLine.received + q <= PurchaseOrderLine.quantity)
        done = db.session.execute(stmt.values(received=PurchaseOrderLine.received + q)
                                  .execution_options(synchronize_session=False))
        if done.rowcount != 1:
            raise Conflict(_("Goods were received on %(sku)s meanwhile; nothing was recorded. Look at the order again.",
                             sku=skus[line.product_id]))


def receive(po: PurchaseOrder, quantities: dict, *, confirm_over: bool = False, seen: dict | None = None):
    """Receive ``{line_id: quantity}`` now; returns inventory's goods receipt document.

    More than ordered on a line is refused with :class:`OverReceipt` unless ``confirm_over``.
    ``seen`` (``{line_id: received}`` as the user saw it) makes the receipt apply only if no
    one received on those lines meanwhile (else Conflict), so a confirmation is never applied twice.
    """
    status = lock_po(po)
    if status not in states.RECEIVABLE:
        raise Conflict(_("Goods can be received only on a sent or partly received purchase order."))
    wanted = _quantities(po, quantities)
    seen = _seen(seen)
    skus = dict(db.session.execute(select(Product.id, Product.sku).where(
        Product.id.in_({line.product_id for line in wanted}))).all())
    over = [(skus[line.product_id], line.received + q, line.quantity) for line, q in wanted.items()
            if line.received + q > line.quantity]
    if over and not confirm_over:
        raise OverReceipt(_over_message(over))
    _add_received(wanted, seen, confirm_over, skus)
    return _post(po, wanted, skus, status)


def _post(po: PurchaseOrder, wanted: dict[PurchaseOrderLine, int], skus: dict, status: str):
    """The goods receipt in inventory, the order's new state and its history line."""
    for line in po.lines:
        db.session.refresh(line)
    products: dict[int, int] = {}
    for line, q in wanted.items():
        products[line.product_id] = products.get(line.product_id, 0) + q
    document = inventory.receive_goods(po.warehouse_id, products, supplier=po.supplier.name, note=po.number)
    target = states.RECEIVED if all(line.received >= line.quantity for line in po.lines) else states.PARTIALLY_RECEIVED
    if target != status:
        move(po, target)
    goods = ", ".join(f"{skus[line.product_id]} × {q}" for line, q in wanted.items())
    audit.record("purchase_order", po.id, "received", after={"receipt": document.number, "goods": goods})
    webhooks.emit("purchase_order.goods_received", po, receipt=document.number,
                  received={line.id: q for line, q in wanted.items()})
    return document
