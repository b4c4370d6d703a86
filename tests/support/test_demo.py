"""Demo data of support: teams in two time zones, tickets in every state, surveys and returns."""

from click.testing import CliRunner
from sqlalchemy import func, select

from erp_core import cli
from erp_core.extensions import db
from plugins.support import states
from plugins.support.models import ReturnRequest, Survey, Team, Ticket


def test_demo_data_covers_every_state(make_app, monkeypatch):
    app = make_app(plugins=None)  # every built-in plugin, as `erp init --demo` runs
    monkeypatch.setattr(cli, "_APP", app)
    result = CliRunner().invoke(cli.main, ["demo", "--seed", "5"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert sorted(t.timezone for t in db.session.scalars(select(Team))) == ["Asia/Shanghai", "Europe/London"]
        ticket_states = set(db.session.scalars(select(Ticket.status).distinct()))
        assert ticket_states == set(states.TICKET_STATUSES)
        assert db.session.scalar(select(func.count()).select_from(Survey).where(Survey.answered_at.is_not(None))) > 5
        answered = db.session.scalars(select(Survey).where(Survey.answered_at.is_not(None))).all()
        assert all(s.issued_at <= s.answered_at < s.expires_at for s in answered)


def test_demo_uses_the_orders_it_is_given(full_app):
    """With the orders of the orders demo in ctx.data, returns go through every state."""
    import random

    from erp_core.contrib import DemoContext
    from plugins.support import demo
    from tests.support.helpers import make_order

    with full_app.test_request_context():
        orders = [make_order(status=s) for s in ["delivered"] * 8 + ["completed"] * 2 + ["shipped", "confirmed"]]
        ctx = DemoContext(rng=random.Random(3), data={"orders": orders, "customers": [o.customer for o in orders]},
                          log=lambda line: None)
        demo.load(ctx)
        db.session.commit()
        statuses = set(db.session.scalars(select(ReturnRequest.status)))
        assert statuses == {"requested", "approved", "rejected", "received", "refunded", "exchanged", "closed"}
        assert db.session.scalar(select(func.count()).select_from(Ticket).where(Ticket.order_id.is_not(None))) > 10
        order_surveys = db.session.scalars(select(Survey).where(Survey.kind == "order")).all()
        assert len(order_surveys) == 10 and any(s.answered_at for s in order_surveys)
