"""The demo stocks the catalogue and advances the orders the orders demo left as drafts."""

import random

from erp_core.contrib import DemoContext
from erp_core.extensions import db
from plugins.inventory import services as inv
from plugins.inventory.models import Document, ExpectedReceipt, Level, LowStockAlert
from plugins.orders import states
from plugins.orders.models import Order
from tests.inventory.common import PLUGINS, catalogue, make_order


def test_demo_stocks_products_and_advances_orders(make_app):
    app = make_app(plugins=PLUGINS)
    with app.app_context():
        customer, products = catalogue(12)
        rng = random.Random(5)
        targets = []
        for i in range(30):
            order = make_order(customer, [(p, rng.randint(1, 3)) for p in rng.sample(products, 3)])
            targets.append((order.id, [states.CONFIRMED, states.SHIPPED, states.COMPLETED, states.CANCELLED,
                                       states.DRAFT][i % 5]))
        ctx = DemoContext(rng=random.Random(1), data={"products": products, "order_targets": targets},
                          log=lambda *_: None)
        impl = next(i for i in app.extensions["erp_plugins"].pm.hook.erp_demo_data.get_hookimpls()
                    if i.plugin_name == "inventory")
        impl.function(ctx=ctx)
        db.session.commit()
        assert [w.code for w in inv.warehouses()] == ["SH", "BJ"]
        statuses = {oid: db.session.get(Order, oid).status for oid, _t in targets}
        assert all(statuses[oid] == target for oid, target in targets), statuses
        confirmed = [oid for oid, t in targets if t == states.CONFIRMED]
        assert confirmed and db.session.query(Level).filter(Level.reserved > 0).count() > 0
        assert db.session.query(Level).filter(Level.on_hand == Level.reserved).count() >= 1  # out of stock
        assert db.session.query(LowStockAlert).filter(LowStockAlert.resolved_at.is_(None)).count() >= 2
        assert db.session.query(Document).filter_by(kind="receipt").count() >= 2
        assert db.session.query(Document).filter_by(kind="transfer").count() == 1
        assert db.session.query(ExpectedReceipt).count() >= 3
        assert inv.check_ledger() == []
