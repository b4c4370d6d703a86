"""Demo data of orders: a catalogue, customers with addresses, and a few hundred orders spread
over the last ~120 days.

Contract with the plugins whose demo runs later (documented in docs/orders.md):

* ``ctx.data["products"]``, ``ctx.data["customers"]``, ``ctx.data["orders"]``: the objects made here.
* ``ctx.data["order_targets"]``: ``[(order_id, target_status), ...]``, oldest first. Every order is
  created as a draft; the target says where it should end up.
* This demo then tries to advance every order to its target through the ordinary transitions
  (every hook fires), each in a savepoint. Where an enabled plugin refuses (inventory has no stock
  yet: its demo runs after this one) the order stays a draft and ``(order_id, target)`` goes into
  ``ctx.data["order_targets_pending"]``. Inventory's demo receives stock, then calls
  ``services.advance_order(order, target, note=...)`` for each pending pair (a cancel needs a note).
  With inventory switched off nothing is pending.
* When an enabled plugin ships orders through its own documents (logistics: no manual "mark
  shipped"), orders whose target is shipped, delivered or completed stop at ``confirmed``; that
  plugin's demo ships them (it reads ``ctx.data["order_targets"]``).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from erp_core import audit
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.models import AuditLog
from erp_core.money import format_plain, round_half_up
from erp_core.timeutil import utcnow

from . import demo_channels, services, states, tax
from .barcode import check_digit
from .demo_customers import add_sales_details
from .demo_invoicing import add_invoicing_details
from .demo_pricing import add_pricing
from .models import Order
from .services import LineInput, OrderInput

PRODUCTS = [
    ("TEA-LJ-250", "西湖龙井", "250 g 罐装, 明前特级", "罐", "268.00"),
    ("TEA-BLC-100", "碧螺春", "100 g 袋装", "袋", "98.00"),
    ("TEA-TGY-500", "安溪铁观音", "500 g 礼盒", "盒", "356.00"),
    ("TEA-PE-357", "云南普洱饼茶", "357 g 熟茶", "饼", "188.00"),
    ("TEA-DHP-200", "武夷大红袍", "200 g 罐装", "罐", "226.00"),
    ("TEA-MJ-50", "茉莉花茶", "50 g 袋装", "袋", "32.50"),
    ("TEA-BC-100", "白毫银针", "100 g 罐装", "罐", "315.00"),
    ("TEA-HC-50", "金骏眉红茶", "50 g 袋装", "袋", "75.00"),
    ("CUP-GW-01", "盖碗", "青花瓷 150 ml", "个", "68.00"),
    ("CUP-GL-02", "玻璃公道杯", "耐热 300 ml", "个", "39.90"),
    ("CUP-PC-06", "品茗杯", "六只装, 白瓷", "套", "58.00"),
    ("POT-ZS-01", "宜兴紫砂壶", "西施壶 220 ml", "把", "680.00"),
    ("POT-TJ-02", "铁壶", "日式 1.2 L", "把", "420.00"),
    ("SET-TR-01", "竹制茶盘", "60 × 40 cm", "个", "159.00"),
    ("SET-TJ-06", "茶道六君子", "黑檀木", "套", "88.00"),
    ("SET-GIFT-01", "商务茶具礼盒", "含茶壶与四杯", "盒", "499.00"),
    ("KET-EL-01", "电热烧水壶", "1.0 L, 自动断电", "台", "199.00"),
    ("KET-EL-02", "恒温电茶炉", "四档温控", "台", "329.00"),
    ("FLT-SS-01", "不锈钢茶滤", "细网", "个", "15.80"),
    ("FLT-PP-100", "一次性茶包袋", "100 只装", "包", "9.90"),
    ("CAN-TN-01", "马口铁茶叶罐", "250 g 容量", "个", "25.00"),
    ("CAN-CR-01", "陶瓷茶叶罐", "密封, 500 g", "个", "49.00"),
    ("BOX-GF-01", "礼品包装盒", "红色, 可放两罐", "个", "18.00"),
    ("BAG-KR-10", "牛皮纸手提袋", "10 只装", "包", "12.00"),
    ("SNK-ML-01", "绿豆糕", "12 块装", "盒", "36.00"),
    ("SNK-MC-01", "桂花糕", "8 块装", "盒", "42.00"),
    ("SNK-NT-01", "核桃仁", "500 g", "袋", "55.00"),
    ("SNK-DT-01", "红枣", "新疆若羌, 1 kg", "袋", "48.00"),
    ("HNY-AC-500", "洋槐蜂蜜", "500 g 玻璃瓶", "瓶", "68.00"),
    ("HNY-LY-500", "荔枝蜂蜜", "500 g 玻璃瓶", "瓶", "72.00"),
    ("BK-TEA-01", "《茶经》注释本", "精装", "本", "59.00"),
    ("CRD-GIFT-100", "礼品卡", "面值 100 元", "张", "100.00"),
    ("CRD-GIFT-500", "礼品卡", "面值 500 元", "张", "500.00"),
    ("CLT-TW-01", "茶巾", "棉麻, 两条装", "包", "22.00"),
    ("INC-SD-01", "檀香线香", "50 支", "盒", "45.00"),
    ("INC-BR-01", "铜香炉", "小号", "个", "128.00"),
    ("TEA-OLD-01", "老白茶 (停售)", "2015 年", "饼", "420.00"),
    ("SRV-CLASS-01", "茶艺体验课", "两小时, 含茶品", "次", "128.00"),
]

# VAT of the demo catalogue: most goods at the default 13 %; primary farm products and books at
# 9 %; the tea class (a service) at 6 %; gift cards (a prepayment, taxed when used) exempt.
DEMO_RATES = {"SNK-NT-01": "9", "SNK-DT-01": "9", "BK-TEA-01": "9", "SRV-CLASS-01": "6",
              "CRD-GIFT-100": "exempt", "CRD-GIFT-500": "exempt"}

FAMILY = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英",
         "霞", "平", "刚", "桂英", "晓东", "雪梅", "志强", "海燕", "建华", "文博", "思远", "子涵"]
COMPANIES = ["上海青叶贸易有限公司", "杭州山水茶社", "北京和光文化", "深圳南山茶空间", "成都宽窄茶馆", "广州荔湾茶行",
             "苏州平江小筑", "南京秦淮礼品", "武汉江城茶业", "西安长安书院"]
CITIES = [("上海", "上海", "200", "浦东新区世纪大道", "号"), ("北京", "北京", "100", "朝阳区建国路", "号"),
          ("杭州", "浙江", "310", "西湖区文三路", "号"), ("广州", "广东", "510", "天河区体育西路", "号"),
          ("深圳", "广东", "518", "南山区科技园南路", "号"), ("成都", "四川", "610", "锦江区春熙路", "号"),
          ("南京", "江苏", "210", "鼓楼区中山北路", "号"), ("苏州", "江苏", "215", "姑苏区人民路", "号"),
          ("武汉", "湖北", "430", "江汉区解放大道", "号"), ("西安", "陕西", "710", "雁塔区长安南路", "号"),
          ("重庆", "重庆", "400", "渝中区解放碑步行街", "号"), ("厦门", "福建", "361", "思明区中山路", "号")]
NOTES = ["", "", "", "请下午送货", "周末不在家, 请放快递柜", "发票抬头同收件人", "礼品包装, 不放价格单", "请电话联系后再送"]
CANCEL_REASONS = ["客户改变主意", "重复下单", "客户要求更换商品, 已重新下单", "地址无法送达", "付款超时未到账"]


def _backdate(when) -> None:
    """Give the audit entries not yet written the demo's point in time."""
    for obj in db.session.new:
        if isinstance(obj, AuditLog):
            obj.at = when


def _address(rng, recipient: str, phone: str, label: str) -> dict:
    city, region, post, street, suffix = rng.choice(CITIES)
    return {"label": label, "recipient": recipient, "phone": phone, "line1": f"{street}{rng.randint(1, 999)}{suffix}",
            "line2": rng.choice(["", "", f"{rng.randint(1, 30)}栋{rng.randint(101, 2505)}室", "B 座前台"]),
            "city": city, "region": region, "postcode": f"{post}{rng.randint(0, 999):03d}", "country": "CN"}


def _target(rng, age_days: float) -> str:
    roll = rng.random()
    if roll < 0.07:
        return states.CANCELLED
    if age_days < 2:
        return rng.choice([states.DRAFT, states.DRAFT, states.CONFIRMED])
    if age_days < 6:
        return rng.choice([states.DRAFT, states.CONFIRMED, states.CONFIRMED, states.SHIPPED])
    if age_days < 14:
        return rng.choice([states.CONFIRMED, states.SHIPPED, states.SHIPPED, states.DELIVERED])
    if age_days < 30:
        return rng.choice([states.SHIPPED, states.DELIVERED, states.DELIVERED, states.COMPLETED])
    return rng.choice([states.DELIVERED, states.COMPLETED, states.COMPLETED, states.COMPLETED])


def _order_discount(index: int) -> str:
    """Every ninth demo order has a 2 % order discount (no draw of the generator, so the rest
    of the demo stays as it was)."""
    return "2" if index % 9 == 4 else ""


def load(ctx) -> None:
    rng = ctx.rng
    now = utcnow()
    products = []
    tax.seed_rates()  # a database made without the migrations has none yet
    for index, (sku, name, spec, unit, price) in enumerate(PRODUCTS):
        rate = tax.find_rate(DEMO_RATES[sku]) if sku in DEMO_RATES else None
        body = f"6901234{index + 1:05d}"  # an EAN-13 on every demo product, for the scanner
        barcode = body + str(check_digit(body))
        cost = None if sku.startswith("CRD-") else format_plain(round_half_up(Decimal(price) * 55), "CNY")
        product = services.create_product(sku, name, price, "CNY", spec=spec, unit=unit,
                                          active=not sku.startswith("TEA-OLD"),
                                          tax_rate_id=rate.id if rate is not None else None, cost=cost,
                                          barcode=barcode)
        products.append(product)
    _backdate(now - timedelta(days=130))
    ctx.data["products"] = products
    sold = [p for p in products if p.active]

    customers = []
    for index in range(40 * ctx.scale):
        person = rng.choice(FAMILY) + rng.choice(GIVEN)
        name = COMPANIES[index] if index < len(COMPANIES) else person
        phone = f"1{rng.choice('3589')}{rng.randint(0, 9)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
        email = f"c{index + 1}@example.com" if rng.random() < 0.6 else ""
        customer = services.create_customer(name, phone, email,
                                            notes=rng.choice(["", "", "老客户, 优先发货", "只收顺丰"]),
                                            address=_address(rng, person, phone, "公司" if index < len(COMPANIES) else "家"))
        for extra in range(rng.choice([0, 0, 1, 2])):
            services.add_address(customer, _address(rng, person, phone, ["办公室", "仓库", "父母家"][extra]))
        customers.append(customer)
    add_invoicing_details(rng, customers, companies=len(COMPANIES))
    add_sales_details(ctx, customers, companies=len(COMPANIES))
    add_pricing(products, customers, companies=len(COMPANIES))
    db.session.flush()
    _backdate(now - timedelta(days=125))
    ctx.data["customers"] = customers

    count = 300 * ctx.scale
    ages = sorted((rng.uniform(0, 120) for _ in range(count)), reverse=True)
    orders, targets = [], []
    origins = demo_channels.origins(len(ages))
    for age, (channel, external_ref) in zip(ages, origins):
        customer = rng.choice(customers)
        address = rng.choice(customer.addresses)
        picked = rng.sample(sold, rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 6]))
        lines = [LineInput(p.id, rng.choice([1, 1, 1, 2, 2, 3, 5, 10]),
                           discount=rng.choice(["", "", "", "", "5", "10", "12.5"])) for p in picked]
        order = services.create_order(OrderInput(
            customer_id=customer.id, contact_name=address.recipient or customer.name, contact_phone=customer.phone,
            contact_email=customer.email or "", ship_recipient=address.recipient, ship_line1=address.line1,
            ship_line2=address.line2, ship_city=address.city, ship_region=address.region,
            ship_postcode=address.postcode, ship_country=address.country, currency="CNY",
            notes=rng.choice(NOTES), lines=lines, channel=channel, external_ref=external_ref,
            discount_percent=_order_discount(len(orders))))
        created = now - timedelta(days=age)
        order.created_at = order.updated_at = created
        _backdate(created)
        orders.append(order)
        targets.append((order.id, _target(rng, age)))
    db.session.flush()
    demo_channels.tag_some(orders)
    ctx.data["orders"] = orders
    ctx.data["order_targets"] = targets

    by_id = {o.id: o for o in orders}
    pending = []
    for order_id, target in targets:
        try:
            with db.session.begin_nested():
                advance(by_id[order_id], target, rng)
        except DomainError:
            db.session.refresh(by_id[order_id])
            pending.append((order_id, target))
    ctx.data["order_targets_pending"] = pending
    ctx.log(f"  {len(orders)} orders entered")


def advance(order: Order, target: str, rng) -> None:
    """Walk a demo order to ``target``, each step some hours after the previous one; stop at
    ``confirmed`` when a plugin ships orders itself. Raises DomainError when a plugin refuses a
    step (the caller rolls the savepoint back)."""
    when = order.created_at
    note = rng.choice(CANCEL_REASONS) if target == states.CANCELLED else None
    for status in services.path_to(target):
        when = min(when + timedelta(hours=rng.uniform(1, 40)), utcnow())
        with audit.recorded_at(when):  # every entry of the step, whichever plugin writes it
            if status == states.SHIPPED:
                if not services.manual_shipping_allowed(order):
                    return  # a shipping plugin ships it with real shipments in its own demo
                services.ship_everything(order)
            else:
                services.transition(order, status, note=note if status == states.CANCELLED else None)
        order.updated_at = when
        if status == states.CONFIRMED:
            order.confirmed_at = when
        elif status == states.CANCELLED:
            order.cancelled_at = when
        _backdate(when)
