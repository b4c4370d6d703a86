"""The demo data: carriers, and shipments of the confirmed demo orders in every state."""

import random

from sqlalchemy import func, select

from erp_core.contrib import DemoContext
from erp_core.extensions import db
from plugins.logistics import demo, jobs, states
from plugins.logistics.models import Carrier, DeliveryException, Shipment
from plugins.orders import states as order_states
from plugins.orders.models import Order
from tests.logistics.conftest import make_order


def test_demo_ships_confirmed_orders_into_every_state(app):
    with app.test_request_context():
        orders = [make_order(lines=((2, "TEA"), (1, "CUP"))) for _ in range(18)]
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
