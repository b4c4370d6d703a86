"""The demo data: carriers, and shipments of the confirmed demo orders in every state."""

import random
from datetime import timedelta

from sqlalchemy import func, select

from erp_core.contrib import DemoContext
from erp_core.extensions import db
from erp_core.timeutil import utcnow
from plugins.logistics import demo, jobs, states
from plugins.logistics.models import Carrier, DeliveryException, Shipment
from plugins.orders import states as order_states
from plugins.orders.models import Order
from tests.logistics.conftest import make_order


def test_demo_ships_confirmed_orders_into_every_state(app):
    with app.test_request_context():
        orders = [make_order(lines=((2, "TEA"), (1, "CUP"))) for _ in range(18)]
        for order in orders:  # demo orders are days old: the demo ships none before its order was taken
            order.created_at = order.confirmed_at = utcnow() - timedelta(days=10)
        drafts = [make_order(status=order_states.DRAFT) for _ in range(2)]
        ctx = DemoContext(rng=random.Random(7), data={"orders": orders + drafts}, log=lambda text: None)
        demo.load(ctx)
        db.session.commit()
        statuses = set(db.session.scalars(select(Shipment.status)))
        assert statuses == set(states.STATUSES)
        assert {c.code: c.enabled for c in db.session.scalars(select(Carrier))} == {
            "demo-express": True, "sf-express": True, "china-post": False}
        assert set(db.session.scalars(select(DeliveryException.status))) == {states.OPEN, states.RESOLVED}
        shipped = set(ctx.data["shipped_orders"])
        assert shipped and not shipped & {o.id for o in drafts}
        assert all(db.session.get(Order, d.id).status == order_states.DRAFT for d in drafts)
        waiting = db.session.scalar(select(func.count()).select_from(Order).where(
            Order.status == order_states.CONFIRMED, Order.promised_date.is_not(None)))
        assert waiting >= 1  # some confirmed orders wait past their promised date
        before = db.session.scalar(select(func.count()).select_from(Shipment))
    with app.app_context():
        summary = jobs.sync_tracking()  # the periodic pull tells the same stories
        assert summary["failed"] == 0
        assert db.session.scalar(select(func.count()).select_from(Shipment)) == before


def test_demo_without_confirmed_orders_still_sets_up_carriers(app):
    with app.test_request_context():
        demo.load(DemoContext(rng=random.Random(1), data={}, log=lambda text: None))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Carrier)) == 3
        assert db.session.scalar(select(func.count()).select_from(Shipment)) == 0


def test_demo_ships_the_orders_of_the_past_with_real_shipments(app):
    """Orders the orders demo meant as shipped, delivered or completed (left confirmed, since
    with logistics on orders ship only through shipments) get shipments that tell that story."""
    from datetime import timedelta

    from erp_core.timeutil import utcnow

    with app.test_request_context():
        targets = {order_states.SHIPPED: 3, order_states.DELIVERED: 6, order_states.COMPLETED: 6}
        made = []
        for target, count in targets.items():
            for _ in range(count):
                order = make_order()
                order.confirmed_at = utcnow() - timedelta(days=20)
                made.append((order.id, target))
        db.session.commit()
        ctx = DemoContext(rng=random.Random(3), data={"orders": [oid for oid, _ in made], "order_targets": made},
                          log=lambda text: None)
        demo.load(ctx)
        db.session.commit()
        for order_id, target in made:
            order = db.session.get(Order, order_id)
            assert order.status == target, (order.number, target, order.status)
            shipments = list(db.session.scalars(select(Shipment).where(Shipment.order_id == order_id)))
            assert len(shipments) == 1
            expected = states.IN_TRANSIT if target == order_states.SHIPPED else states.DELIVERED
            assert shipments[0].status == expected, (order.number, shipments[0].status)
        carriers = set(db.session.scalars(select(Carrier.code).join(Shipment, Shipment.carrier_id == Carrier.id)))
        assert carriers == {"demo-express", "sf-express"}  # the simulator where its story ends delivered


def test_orders_demo_leaves_shipping_to_logistics(make_app):
    """With logistics on, the orders demo never marks an order shipped without a shipment."""
    from erp_core.contrib import DemoContext as Ctx
    from plugins.orders import demo as orders_demo

    app = make_app(plugins=["orders", "logistics"])
    with app.test_request_context():
        ctx = Ctx(rng=random.Random(5), data={}, log=lambda text: None)
        orders_demo.load(ctx)
        db.session.commit()
        beyond = db.session.scalar(select(func.count()).select_from(Order).where(
            Order.status.in_([order_states.SHIPPED, order_states.DELIVERED, order_states.COMPLETED])))
        assert beyond == 0
        meant = [oid for oid, target in ctx.data["order_targets"] if target == order_states.DELIVERED]
        assert meant and all(db.session.get(Order, oid).status == order_states.CONFIRMED for oid in meant)
