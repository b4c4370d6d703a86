"""Demo data of purchasing: four suppliers with the products they sell, a few purchase orders in
different states (one partly received with the rest due next week, one late), their suppliers' bills (one partly paid, one
overdue) and the drafts the replenishment page suggests."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from erp_core.money import format_plain
from erp_core.timeutil import utcnow
from plugins.inventory import services as inventory
from plugins.orders.public import Product

from . import services, states

SUPPLIERS = [
    ("SUP-001", "华东供应链有限公司", "王经理", "021-5555 0101", "huadong@example.com", "上海市浦东新区张江路 88 号", "月结30天"),
    ("SUP-002", "义乌小商品批发", "陈小姐", "0579-8555 0202", "", "浙江省义乌市国际商贸城", "款到发货"),
    ("SUP-003", "杭州茶业合作社", "李师傅", "0571-8555 0303", "tea@example.com", "浙江省杭州市西湖区龙井村", "月结60天"),
    ("SUP-004", "Shenzhen Parts Co.", "Mr. Zhou", "0755-8555 0404", "parts@example.com", "Nanshan, Shenzhen", "30 days net"),
]


def load(ctx) -> None:
    """Suppliers, their products and some purchase orders over the demo catalogue."""
    suppliers = _suppliers(ctx.rng)
    warehouse = inventory.find_default_warehouse()
    made = _orders(suppliers, warehouse, ctx.rng) if warehouse is not None else 0
    ctx.log(f"  {len(suppliers)} suppliers, {made} purchase orders")


def _suppliers(rng) -> list:
    from erp_core.extensions import db

    suppliers = [services.save_supplier(None, services.SupplierInput(
        code=code, name=name, contact_name=contact, phone=phone, email=email, address=address, currency="CNY",
        payment_terms=terms)) for code, name, contact, phone, email, address, terms in SUPPLIERS]
    products = db.session.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.id))
    for i, product in enumerate(products):
        for j, supplier in enumerate(rng.sample(suppliers, k=2)):
            price = max(1, product.price_minor * rng.choice((45, 55, 60)) // 100)
            services.set_terms(supplier, product, supplier_sku=f"{supplier.code[-3:]}-{i + 1:04d}",
                               price_raw=f"{price / 100:.2f}", min_quantity=rng.choice((1, 10, 20)),
                               pack_size=rng.choice((1, 6, 12)), lead_time_days=rng.choice((3, 7, 14)),
                               preferred=j == 0)
    return suppliers


def _orders(suppliers, warehouse, rng) -> int:
    """A sent order half received (the first supplier, the rest due next week), a sent one overdue,
    a draft."""
    made = 0
    for index, supplier in enumerate(suppliers[:3]):
        terms = [t for t, _p in services.terms_of_supplier(supplier)][:3]
        if not terms:
            continue
        past = (utcnow() - timedelta(days=rng.randint(2, 10))).date().isoformat()
        # the half-received order's rest is due next week: stock pages show it on order, due then
        soon = (utcnow() + timedelta(days=rng.randint(5, 9))).date().isoformat()
        po = services.create_po(supplier, warehouse.id, [services.LineInput(
            t.product_id, rng.choice((20, 40, 60)), "", soon if index == 0 else past) for t in terms])
        made += 1
        if index < 2:
            services.move(po, states.SENT)  # marked sent: no mail from the demo
        if index == 0:
            first = po.lines[0]
            services.receive(po, {first.id: first.quantity // 2})
        if index < 2:
            _bill(po, index)
    return made


def _bill(po, index: int) -> None:
    """The supplier's bill of a sent order: the first partly paid, due in two weeks; the second
    unpaid and overdue."""
    today = services.company_today()
    billed = today - timedelta(days=5 if index == 0 else 40)
    bill = services.record_bill(po, f"FP{today.year}{po.id:06d}", format_plain(po.total_minor, po.currency), billed,
                                billed + timedelta(days=19 if index == 0 else 30))
    if index == 0 and po.total_minor > 1:
        services.pay_bill(bill, format_plain(po.total_minor // 2, po.currency), today, "bank_transfer", "DEMO-0001")
