"""Replenishment: reorder point and target level per product and warehouse, what to order
(target - (available + on order), rounded up to the minimum order and the pack size) and draft
purchase orders made from the chosen suggestions, one per preferred supplier."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from erp_core import audit
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.timeutil import utcnow
from plugins.inventory import services as inventory
from plugins.inventory.models import Level, StockRule
from plugins.orders.public import Product

from ..models import ReorderRule, SupplierProduct
from ._common import whole
from .purchase_orders import LineInput, create_po, on_order_by_product
from .suppliers import terms_of_products


@dataclass
class Suggestion:
    """What to order of one product in one warehouse, and why."""

    product: Product
    reorder_point: int
    target: int
    available: int
    on_order: int
    quantity: int
    reason: str
    terms: SupplierProduct | None


def _defaults(product_ids) -> dict[int, tuple[int, int]]:
    """``{product_id: (reorder point, target)}`` from inventory's low-stock rule: the threshold
    is the point, threshold + reorder quantity the target."""
    rows = db.session.execute(select(StockRule.product_id, StockRule.low_threshold, StockRule.reorder_quantity)
                              .where(StockRule.product_id.in_(product_ids), StockRule.low_threshold > 0))
    return {pid: (low, low + reorder) for pid, low, reorder in rows}


def rules_for(warehouse_id: int, product_ids) -> dict[int, tuple[int, int, bool]]:
    """``{product_id: (point, target, own rule?)}``: the warehouse's own rule, else the default."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    found = {pid: (p, t, False) for pid, (p, t) in _defaults(ids).items()}
    for rule in db.session.scalars(select(ReorderRule).where(ReorderRule.warehouse_id == warehouse_id,
                                                             ReorderRule.product_id.in_(ids))):
        found[rule.product_id] = (rule.reorder_point, rule.target_level, True)
    return found


def set_reorder_rule(product: Product, warehouse_id, point, target) -> ReorderRule:
    """Set the reorder point and target level of ``product`` in a warehouse (target >= point)."""
    warehouse = inventory.get_warehouse(warehouse_id)
    point = whole(point, "reorder_point")
    target = whole(target, "target_level")
    if target < point:
        raise DomainError(_("The target level must be at least the reorder point."), field="target_level")
    rule = db.session.get(ReorderRule, (product.id, warehouse.id))
    before = {"reorder_point": rule.reorder_point, "target_level": rule.target_level} if rule else None
    if rule is None:
        rule = ReorderRule(product_id=product.id, warehouse_id=warehouse.id)
        db.session.add(rule)
    rule.reorder_point, rule.target_level, rule.updated_at = point, target, utcnow()
    db.session.flush()
    audit.record("product", product.id, "reorder_rule_set", before=before,
                 after={"warehouse": warehouse.name, "reorder_point": point, "target_level": target})
    return rule


def round_order(need: int, terms: SupplierProduct | None) -> int:
    """``need`` raised to the minimum order quantity, then up to a whole number of packs."""
    if need <= 0:
        return 0
    moq, pack = (terms.min_quantity, terms.pack_size) if terms else (1, 1)
    quantity = max(need, moq)
    return -(-quantity // pack) * pack


def _reason(s: Suggestion, need: int) -> str:
    text = _("Target %(target)s − (available %(available)s + on order %(on_order)s) = %(need)s.",
             target=s.target, available=s.available, on_order=s.on_order, need=need)
    if s.terms is None:
        return text + " " + _("No supplier sells this product yet.")
    if s.quantity != need:
        text += " " + _("Rounded up to %(quantity)s: minimum order %(moq)s, packs of %(pack)s.",
                        quantity=s.quantity, moq=s.terms.min_quantity, pack=s.terms.pack_size)
    return text


def suggestions(warehouse_id: int) -> list[Suggestion]:
    """Active products whose available plus on order in the warehouse is below the reorder point,
    by product code, with the quantity to order and its explanation (a fixed number of queries)."""
    own = set(db.session.scalars(select(ReorderRule.product_id).where(ReorderRule.warehouse_id == warehouse_id)))
    ids = own | set(db.session.scalars(select(StockRule.product_id).where(StockRule.low_threshold > 0)))
    if not ids:
        return []
    rules = rules_for(warehouse_id, ids)
    levels = {pid: on_hand - reserved for pid, on_hand, reserved in db.session.execute(
        select(Level.product_id, Level.on_hand, Level.reserved).where(Level.warehouse_id == warehouse_id,
                                                                       Level.product_id.in_(ids)))}
    on_order = on_order_by_product(ids, warehouse_id)
    below = [pid for pid, (point, _t, _o) in rules.items() if levels.get(pid, 0) + on_order.get(pid, 0) < point]
    if not below:
        return []
    products = db.session.scalars(select(Product).where(Product.id.in_(below), Product.active.is_(True))
                                  .order_by(Product.sku)).all()
    terms = terms_of_products(p.id for p in products)
    result = []
    for product in products:
        point, target, _own = rules[product.id]
        best = (terms.get(product.id) or [None])[0]
        available, coming = levels.get(product.id, 0), on_order.get(product.id, 0)
        need = max(0, target - available - coming)
        s = Suggestion(product, point, target, available, coming, round_order(need, best), "", best)
        s.reason = _reason(s, need)
        result.append(s)
    return result


def _picked(warehouse_id: int, product_ids) -> list[Suggestion]:
    """The current suggestions of the chosen products; refused when none, or one has no supplier."""
    chosen = {int(p) for p in product_ids if str(p).isdigit()}
    picked = [s for s in suggestions(warehouse_id) if s.product.id in chosen and s.quantity > 0]
    if not picked:
        raise DomainError(_("Choose at least one suggestion to order."), field="product_ids")
    missing = [s.product.sku for s in picked if s.terms is None]
    if missing:
        raise DomainError(_("No supplier sells %(skus)s; add it to a supplier first.", skus=", ".join(missing)),
                          field="product_ids")
    return picked


def create_from_suggestions(warehouse_id, product_ids) -> list:
    """Draft purchase orders for the chosen suggestions, one per preferred (else cheapest) supplier."""
    warehouse = inventory.get_warehouse(warehouse_id)
    picked = _picked(warehouse.id, product_ids)
    groups: dict[int, list[Suggestion]] = {}
    for s in picked:
        groups.setdefault(s.terms.supplier_id, []).append(s)
    today = utcnow().date()
    return [create_po(group[0].terms.supplier, warehouse.id, [_line(s, today) for s in group])
            for group in groups.values()]


def _line(s: Suggestion, today) -> LineInput:
    return LineInput(s.product.id, s.quantity, "", (today + timedelta(days=s.terms.lead_time_days)).isoformat())
