"""The demo makes suppliers with their products and purchase orders in several states."""

import random

from erp_core.contrib import DemoContext
from erp_core.extensions import db
from plugins.inventory import services as inv
from plugins.orders import services as orders
from plugins.purchasing import states
from plugins.purchasing.models import PurchaseOrder, Supplier, SupplierBill, SupplierProduct
from tests.purchasing.common import PLUGINS


def test_demo_makes_suppliers_and_purchase_orders(make_app):
    app = make_app(plugins=PLUGINS)
    with app.app_context():
        for i in range(6):
            orders.create_product(f"D-{i:03d}", f"Demo {i}", "12.80", "CNY")
        inv.default_warehouse()
        db.session.commit()
        ctx = DemoContext(rng=random.Random(3), log=lambda *_: None)
        impl = next(i for i in app.extensions["erp_plugins"].pm.hook.erp_demo_data.get_hookimpls()
                    if i.plugin_name == "purchasing")
        impl.function(ctx=ctx)
        db.session.commit()
        assert db.session.query(Supplier).count() == 4
        assert db.session.query(SupplierProduct).filter_by(preferred=True).count() == 6
        statuses = sorted(po.status for po in db.session.query(PurchaseOrder))
        assert statuses == sorted([states.PARTIALLY_RECEIVED, states.SENT, states.DRAFT])
        assert inv.check_ledger() == []
        assert sorted(b.status for b in db.session.query(SupplierBill)) == ["open", "partly_paid"]
