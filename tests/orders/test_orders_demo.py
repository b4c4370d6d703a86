"""Demo data of orders, and orders working with every other module switched off."""

from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import func, select

from erp_core import cli
from erp_core.extensions import db
from erp_core.timeutil import utcnow
from plugins.orders import demo, states
from plugins.orders.models import Customer, Order, OrderLine, Product
from tests.orders import spy_plugin as spy
from tests.orders.conftest import client_with, make_catalogue, order_form


def test_demo_data_fills_every_state_over_four_months(make_app, monkeypatch):
    app = make_app(plugins=["orders"])
    monkeypatch.setattr(cli, "_APP", app)
    captured = {}
    original = demo.load

    def spying_load(ctx):
        original(ctx)
        captured.update(ctx.data)

    monkeypatch.setattr(demo, "load", spying_load)
    result = CliRunner().invoke(cli.main, ["demo", "--seed", "7"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Product)) >= 30
        assert db.session.scalar(select(func.count()).select_from(Customer)) >= 30
        assert all(c.addresses and sum(a.is_default for a in c.addresses) == 1
                   for c in db.session.scalars(select(Customer)))
        counts = dict(db.session.execute(select(Order.status, func.count()).group_by(Order.status)).all())
        assert set(counts) == set(states.STATUSES) - {states.PARTIALLY_SHIPPED}
        assert sum(counts.values()) == 300
        oldest = db.session.scalar(select(func.min(Order.created_at)))
        newest = db.session.scalar(select(func.max(Order.created_at)))
        assert utcnow() - oldest > timedelta(days=100) and utcnow() - newest < timedelta(days=3)
        cancelled = db.session.scalars(select(Order).where(Order.status == states.CANCELLED)).first()
        assert cancelled.cancelled_at and cancelled.cancelled_at >= cancelled.created_at
        # tax: products at 13 % (the default), 9 %, 6 % and exempt; orders computed with it
        rates = {(str(p), bool(e)) for p, e in db.session.execute(
            select(OrderLine.tax_rate_percent, OrderLine.tax_exempt).distinct()).all()}
        assert {("13.00", False), ("9.00", False), ("6.00", False), ("0.00", True)} <= rates
        assert db.session.scalar(select(func.count()).select_from(Order).where(Order.tax_minor > 0)) > 250
        assert db.session.scalar(select(func.count()).select_from(Order).where(
            Order.tax_minor != select(func.sum(OrderLine.tax_minor)).where(OrderLine.order_id == Order.id)
            .scalar_subquery())) == 0
        assert db.session.scalar(select(func.count()).select_from(Product).where(Product.cost_minor.is_(None))) == 2
    assert len(captured["orders"]) == 300 and len(captured["products"]) == len(demo.PRODUCTS)
    assert len(captured["order_targets"]) == 300 and captured["order_targets_pending"] == []


def test_demo_leaves_orders_a_later_plugin_must_stock_as_pending_drafts(make_app, monkeypatch):
    """With a module that refuses confirmation (inventory without stock yet), the refused orders
    stay drafts and are handed on in ctx.data["order_targets_pending"]."""
    spy.reset()
    spy.BEHAVIOUR["validate"] = lambda order, old, new: ["no stock yet"] if new == states.CONFIRMED else []
    app = make_app(plugins=["orders", "spy=tests.orders.spy_plugin"])
    monkeypatch.setattr(cli, "_APP", app)
    captured = {}
    original = demo.load
    monkeypatch.setattr(demo, "load", lambda ctx: (original(ctx), captured.update(ctx.data)))
    result = CliRunner().invoke(cli.main, ["demo", "--seed", "7"])
    spy.reset()
    assert result.exit_code == 0, result.output
    pending = captured["order_targets_pending"]
    assert pending and all(target not in (states.DRAFT, states.CANCELLED) for _id, target in pending)
    with app.app_context():
        statuses = {s for s, in db.session.execute(select(Order.status).distinct())}
        assert statuses == {states.DRAFT, states.CANCELLED}


def test_orders_work_with_every_other_module_loaded_but_switched_off(make_app):
    app = make_app(plugins=None, enabled=["orders"])  # all built-in plugins installed, only orders on
    catalogue = make_catalogue(app)
    client = client_with(app)
    response = client.post("/orders/new", data=order_form(catalogue, {"product_id": catalogue.pen_id, "quantity": 2},
                                                          then="confirm"))
    assert response.status_code == 302
    order_url = response.headers["Location"]
    with app.app_context():
        order = db.session.scalars(select(Order)).one()
        assert order.status == states.CONFIRMED
        version = order.version
    page = client.get(order_url).get_data(as_text=True)
    assert "action-mark_shipped" in page
    client.post(order_url + "/actions/mark_shipped", data={"version": version})
    client.post(order_url + "/actions/mark_delivered", data={"version": version + 1})
    with app.app_context():
        assert db.session.scalars(select(Order)).one().status == states.DELIVERED
    assert client.get("/dashboard").status_code == 200
