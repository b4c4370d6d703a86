"""Demo data of inventory: two warehouses, stock for the demo products (some low, a couple out
of stock), receipts, a stocktake, a transfer, expected goods, and then the orders that the
orders demo left as drafts are advanced to their targets, so their reservations are real.

Contract with the orders demo (which runs first): ``ctx.data["products"]`` and
``ctx.data["order_targets_pending"]`` (or ``ctx.data["order_targets"]``), ``[(order_id, target)]``.
Without them the demo stocks whatever products the catalogue has.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from sqlalchemy import select

from erp_core.errors import DomainError
from erp_core.extensions import db
from plugins.orders import public as order_services
from plugins.orders.public import Order, Product, states

from . import services
from .models import Level

log = logging.getLogger(__name__)

SUPPLIERS = ["华东供应链有限公司", "义乌小商品批发", "杭州茶业合作社", "深圳电子配件厂"]
HOLDS_STOCK = {states.CONFIRMED, states.PARTIALLY_SHIPPED, states.SHIPPED, states.DELIVERED, states.COMPLETED}


def _pending_targets(ctx) -> list[tuple[int, str]]:
    """The draft orders of the orders demo with the state each should reach, ``[(order_id, target)]``."""
    if "order_targets_pending" in ctx.data:
        return list(ctx.data["order_targets_pending"])
    targets = ctx.data.get("order_targets") or []
    drafts = set(db.session.scalars(select(Order.id).where(Order.status == states.DRAFT)))
    return [(oid, target) for oid, target in targets if oid in drafts and target != states.DRAFT]


def _demand(targets) -> dict[int, int]:
    """What the orders to advance will take out of stock, per product."""
    wanted = {oid for oid, target in targets if target in HOLDS_STOCK}
    need: dict[int, int] = defaultdict(int)
    for order in db.session.scalars(select(Order).where(Order.id.in_(wanted))) if wanted else []:
        for product_id, qty in order_services.quantities_by_product(order).items():
            need[product_id] += qty
    return need


def load(ctx) -> None:
    """Stock the demo catalogue, then advance the orders the orders demo left as drafts."""
    rng = ctx.rng
    main, north = _warehouses()
    products = [p for p in (ctx.data.get("products") or db.session.scalars(select(Product).order_by(Product.id)))
                if p.active]
    if not products:
        ctx.log("  no products to stock")
        return
    targets = _pending_targets(ctx)
    out_of_stock, low, quantities = _stock_plan(products, _demand(targets), rng)
    # thresholds first, so that crossings during the demo raise real alerts
    _set_rules(products, out_of_stock, low, rng)
    regular = [p for p in products if p not in out_of_stock and p not in low]
    _receive_stock(main, north, quantities, regular[:6], rng)
    db.session.flush()
    advanced, refused = _advance_orders(ctx, targets, rng)
    # a stocktake with a small difference, and goods on their way for the low products
    _count_some(main, regular[6:8], rng)
    for product in low + out_of_stock[:1]:
        services.expect_receipt(product, main.id, rng.choice([30, 50]), rng.choice(SUPPLIERS),
                                note=f"采购单 PO-{rng.randint(1, 9999):04d}")
    ctx.data["warehouses"] = [main, north]
    ctx.log(f"  2 warehouses, {len(products)} products stocked; {advanced} orders confirmed or cancelled"
            + (f", {refused} kept as drafts" if refused else ""))


def _warehouses():
    """The Shanghai main warehouse (the default one, renamed) and a Beijing one."""
    main = services.default_warehouse()
    main.code, main.name, main.address = "SH", "上海主仓", "上海市闵行区莘庄工业区春东路 88 号"
    north = services.save_warehouse(None, "BJ", "北京仓", "北京市大兴区亦庄经济开发区科创十三街 6 号")
    db.session.flush()
    return main, north


def _stock_plan(products, need: dict[int, int], rng):
    """Pick two products to run out and three to run low; what each one receives.

    Out of stock: exactly what the orders take, nothing left available. Low: a little more than
    the orders take, below the threshold afterwards. Returns ``(out_of_stock, low, quantities)``.
    """
    shuffled = products[:]
    rng.shuffle(shuffled)
    out_of_stock, low = shuffled[:2], shuffled[2:5]
    quantities = {}
    for product in products:
        base = need.get(product.id, 0)
        if product in out_of_stock:
            quantities[product.id] = base
        elif product in low:
            quantities[product.id] = base + rng.randint(1, 3)
        else:
            quantities[product.id] = base + rng.randint(25, 90)
    return out_of_stock, low, quantities


def _set_rules(products, out_of_stock, low, rng) -> None:
    """Thresholds for the short products, and for most of the others."""
    for product in products:
        if product in out_of_stock or product in low:
            services.set_rule(product, rng.choice([8, 10, 12]), rng.choice([30, 50]))
        elif rng.random() < 0.7:
            services.set_rule(product, rng.choice([3, 5, 8]), rng.choice([20, 30, 40]))


def _receive_stock(main, north, quantities: dict[int, int], movable, rng) -> None:
    """Receipts into the main warehouse, split over a few suppliers' deliveries; the Beijing
    warehouse gets part of the stock of some products by transfer, and a delivery of its own."""
    batches: dict[int, dict[int, int]] = defaultdict(dict)
    for product_id, qty in quantities.items():
        if qty:
            batches[rng.randrange(len(SUPPLIERS))][product_id] = qty
    for index, batch in sorted(batches.items()):
        services.receive_goods(main.id, batch, supplier=SUPPLIERS[index], note=f"送货单 DN-{rng.randint(1, 99999):05d}")
    if movable:
        services.transfer(main.id, north.id, {p.id: rng.randint(3, 10) for p in movable[:4]}, note="北方客户备货")
        services.receive_goods(north.id, {p.id: rng.randint(10, 30) for p in movable[2:]}, supplier=SUPPLIERS[0])


def _advance_orders(ctx, targets, rng) -> tuple[int, int]:
    """Advance each pending order to its target; one that stock cannot serve stays where it is.

    Orders to cancel go first: they reserve and release, leaving the stock to the others.
    Returns ``(advanced, refused)``.
    """
    advanced = refused = 0
    for order_id, target in sorted(targets, key=lambda t: t[1] != states.CANCELLED):
        order = db.session.get(Order, order_id)
        try:
            with db.session.begin_nested():
                _advance(order, target, rng)
            advanced += 1
        except DomainError as exc:
            db.session.refresh(order)
            refused += 1
            log.debug("demo: order %s stays %s: %s", order.number, order.status, exc)
    return advanced, refused


def _count_some(main, products, rng) -> None:
    """A stocktake in the main warehouse that finds one or two units fewer (breakage)."""
    for product in products:
        level = db.session.scalar(select(Level).where(Level.product_id == product.id, Level.warehouse_id == main.id))
        if level is not None and level.on_hand > level.reserved + 2:
            services.count_stock(main.id, product, level.on_hand - rng.randint(1, 2), "月度盘点：破损")


def _advance(order: Order, target: str, rng) -> None:
    """Walk a draft order to ``target`` through the orders services (every hook fires), each step
    dated some hours after the previous one as the orders demo does."""
    from plugins.orders.public import advance_demo_order as advance

    advance(order, target, rng)
