"""Support together with the real modules that have landed (inventory): a received return puts
the goods back through inventory's ledger and links its stock moves."""

import pytest

from erp_core.extensions import db
from plugins.support import returns

inventory_services = pytest.importorskip("plugins.inventory.services")


def test_received_return_goes_back_on_hand_through_inventory(make_app):
    app = make_app(plugins=["orders", "inventory", "support"])
    with app.test_request_context():
        from plugins.inventory.models import Move
        from plugins.orders import services as order_services

        warehouse = inventory_services.default_warehouse()
        product = order_services.create_product("TEA-1", "Tea", "50.00", "CNY")
        inventory_services.receive_goods(warehouse.id, {product.id: 10})
        db.session.commit()
        customer = order_services.create_customer("Mei", "13912345678", "mei@example.com")
        order = order_services.create_order(order_services.OrderInput(
            customer_id=customer.id, ship_line1="1 Main Road", currency="CNY",
            lines=[order_services.LineInput(product.id, 3)]))
        for step in ("confirmed", "shipped", "delivered"):
            order_services.transition(order, step)
        db.session.commit()
        rr = returns.create_return(order, "refund", "damaged", "", {order.lines[0].id: 2})
        returns.decide(rr, True, "")
        assert returns.automatic("stock") and not returns.automatic("refund")
        links = returns.receive(rr, restock=True)
        db.session.commit()
        assert links and all(link.url.startswith("/inventory/") and not link.manual for link in links)
        moves = db.session.query(Move).filter_by(reference=rr.number).all()
        assert [(m.type, m.quantity) for m in moves] == [("return", 2)]
