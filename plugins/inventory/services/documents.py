"""Stock documents: receipts, stocktakes and transfers (numbered, sent once per form token), and
the parsing of their lines."""

from __future__ import annotations

import secrets
from collections import defaultdict

from flask_babel import gettext as _
from sqlalchemy import select

from erp_core import audit
from erp_core.db import next_counter
from erp_core.errors import Conflict, DomainError, NotFound
from erp_core.extensions import db
from erp_core.timeutil import to_zone, utcnow
from plugins.orders.public import Product, parse_quantity

from ..models import ADJUSTMENT, RECEIPT, TRANSFER, Document, Level
from ._common import _check_quantities, _clean, _ensure_levels
from .ledger import Change, MoveSpec, apply_changes, lock_levels
from .warehousing import get_warehouse


def parse_lines(rows) -> dict[int, int]:
    """``[(sku_or_product_id, quantity), ...]`` as typed in a form -> ``{product_id: quantity}``.

    Blank rows are skipped; an unknown SKU or a bad quantity raises a DomainError whose
    ``field`` is ``lines-<index>-sku`` or ``lines-<index>-quantity``.
    """
    typed = [(i, str(s or "").strip(), q) for i, (s, q) in enumerate(rows)]
    typed = [(i, s, q) for i, s, q in typed if s or str(q or "").strip()]
    if not typed:
        raise DomainError(_("Add at least one line."), field="lines")
    skus = {s.upper() for _i, s, _q in typed}
    found = {p.sku: p for p in db.session.scalars(select(Product).where(Product.sku.in_(skus)))}
    result: dict[int, int] = defaultdict(int)
    for i, sku, raw in typed:
        product = found.get(sku.upper())
        if product is None:
            raise DomainError(_("Line %(n)d: unknown product code %(sku)s.", n=i + 1, sku=sku or "—"),
                              field=f"lines-{i}-sku")
        try:
            result[product.id] += parse_quantity(raw)
        except DomainError as exc:
            raise DomainError(_("Line %(n)d: %(reason)s", n=i + 1, reason=exc), field=f"lines-{i}-quantity") from None
    return dict(result)


def lines_by_product_id(rows) -> dict[int, int]:
    """``[(product_id, quantity), ...]`` (the API's receipt lines) -> ``{product_id: quantity}``.

    One SELECT checks every product; an unknown product or a bad quantity raises a DomainError
    whose ``field`` is ``lines-<index>-product_id`` or ``lines-<index>-quantity``.
    """
    rows = list(rows)
    if not rows:
        raise DomainError(_("Add at least one line."), field="lines", status=422)
    ids = {int(p) for p, _q in rows if str(p).isdigit()}
    known = set(db.session.scalars(select(Product.id).where(Product.id.in_(ids)))) if ids else set()
    result: dict[int, int] = defaultdict(int)
    for i, (product_id, raw) in enumerate(rows):
        if not str(product_id).isdigit() or int(product_id) not in known:
            raise NotFound(_("Line %(n)d: unknown product.", n=i + 1), field=f"lines-{i}-product_id")
        try:
            result[int(product_id)] += parse_quantity(raw)
        except DomainError as exc:
            raise DomainError(_("Line %(n)d: %(reason)s", n=i + 1, reason=exc), field=f"lines-{i}-quantity",
                              status=422) from None
    return dict(result)


def _new_document(kind: str, prefix: str, warehouse_id: int, token: str | None, **fields) -> Document:
    """A numbered document (``GR-2026-000001``); refused when its form token was already used."""
    if token:
        existing = db.session.scalar(select(Document).where(Document.form_token == token[:64]))
        if existing is not None:
            raise Conflict(_("This form was already sent: %(number)s was recorded. Nothing was recorded twice.",
                             number=existing.number))
    from erp_core.settings import company_timezone

    year = to_zone(utcnow(), company_timezone()).year
    number = f"{prefix}-{year}-{next_counter(db.session, f'inventory.{kind}.{year}'):06d}"
    actor_id, actor_name = audit.current_actor()
    doc = Document(number=number, kind=kind, warehouse_id=warehouse_id, form_token=(token or None) and token[:64],
                   actor_id=actor_id, actor_name=actor_name, **fields)
    db.session.add(doc)
    db.session.flush()
    return doc


def new_form_token() -> str:
    """A fresh token for a document form, so that sending it twice records it once."""
    return secrets.token_urlsafe(24)


def receive_goods(warehouse_id, quantities: dict[int, int], supplier: str = "", note: str = "",
                  token: str | None = None) -> Document:
    """Goods arrived: one receipt document and a "receipt" move per product (on hand goes up)."""
    wh = get_warehouse(warehouse_id)
    quantities = _check_quantities(quantities)
    if not quantities:
        raise DomainError(_("Add at least one line."), field="lines")
    doc = _new_document("receipt", "GR", wh.id, token, supplier=_clean(supplier, 200), note=_clean(note, 2000))
    apply_changes(wh.id, {p: Change(on_hand=q) for p, q in quantities.items()},
                  MoveSpec(RECEIPT, document_id=doc.id, reference=doc.number, note=doc.supplier), create_rows=True)
    return doc


def count_stock(warehouse_id, product: Product, counted, reason: str, seen=None,
                token: str | None = None) -> Document | None:
    """A stocktake: the counted quantity replaces on hand through an "adjustment" move.

    ``seen`` is the on hand the counter was shown; if stock moved since, the count is refused
    (recount). Counting below what is reserved is refused. Nothing to adjust: returns None.
    """
    wh = get_warehouse(warehouse_id)
    reason = _clean(reason, 1000)
    text = str(counted if counted is not None else "").strip()
    if not text.isdigit():
        raise DomainError(_("Enter the counted quantity as a whole number of 0 or more."), field="counted")
    counted = int(text)
    if counted > 10_000_000:
        raise DomainError(_("Quantity cannot exceed %(max)s.", max=10_000_000), field="counted")
    if not reason:
        raise DomainError(_("Give a reason for the adjustment."), field="reason")
    lock_levels([(product.id, wh.id)])
    level = db.session.execute(select(Level.on_hand, Level.reserved).where(
        Level.product_id == product.id, Level.warehouse_id == wh.id)).first()
    on_hand = level.on_hand if level else 0
    if seen not in (None, "") and str(seen).strip().lstrip("-").isdigit() and int(seen) != on_hand:
        raise Conflict(_("Stock of %(sku)s in %(warehouse)s moved while you counted: the books said %(seen)s, now %(now)s. Check the count and send it again.",
                         sku=product.sku, warehouse=wh.name, seen=seen, now=on_hand), field="counted")
    diff = counted - on_hand
    if diff == 0:
        return None
    doc = _new_document("stocktake", "ST", wh.id, token, note=reason)
    apply_changes(wh.id, {product.id: Change(on_hand=diff)},
                  MoveSpec(ADJUSTMENT, document_id=doc.id, reference=doc.number, note=reason),
                  create_rows=True, shortage="count", locked=True)
    return doc


def transfer(from_id, to_id, quantities: dict[int, int], note: str = "", token: str | None = None) -> Document:
    """Move stock between warehouses: available must cover it in the source."""
    source = get_warehouse(from_id, field_name="from_warehouse_id")
    target = get_warehouse(to_id, field_name="to_warehouse_id")
    if source.id == target.id:
        raise DomainError(_("Choose two different warehouses."), field="to_warehouse_id")
    quantities = _check_quantities(quantities)
    if not quantities:
        raise DomainError(_("Add at least one line."), field="lines")
    doc = _new_document("transfer", "TR", source.id, token, to_warehouse_id=target.id, note=_clean(note, 2000))
    _ensure_levels(target.id, quantities)
    lock_levels([(p, w) for p in quantities for w in (source.id, target.id)])
    spec = {"document_id": doc.id, "reference": doc.number, "note": doc.note}
    apply_changes(source.id, {p: Change(on_hand=-q) for p, q in quantities.items()}, MoveSpec(TRANSFER, **spec),
                  locked=True)
    apply_changes(target.id, {p: Change(on_hand=q) for p, q in quantities.items()}, MoveSpec(TRANSFER, **spec),
                  locked=True)
    return doc
