"""The demo makes a draft, a sent and an accepted quotation (which became an order)."""

import random

from erp_core.contrib import DemoContext
from erp_core.extensions import db
from plugins.orders import services as orders
from plugins.quotations import states
from plugins.quotations.models import Quotation
from tests.quotations.common import PLUGINS


def test_demo_makes_quotations_in_several_states(make_app):
    app = make_app(plugins=PLUGINS)
    with app.test_request_context():
        for i in range(3):
            orders.create_product(f"D-{i:03d}", f"Demo {i}", "12.80", "CNY")
        orders.create_customer("Demo customer", "138 0013 8000", "demo@example.com")
        db.session.commit()
        ctx = DemoContext(rng=random.Random(3), log=lambda *_: None)
        impl = next(i for i in app.extensions["erp_plugins"].pm.hook.erp_demo_data.get_hookimpls()
                    if i.plugin_name == "quotations")
        impl.function(ctx=ctx)
        db.session.commit()
        statuses = sorted(q.status for q in db.session.query(Quotation))
        assert statuses == sorted([states.DRAFT, states.SENT, states.ACCEPTED])
        assert db.session.query(Quotation).filter(Quotation.order_id.is_not(None)).count() == 1


def test_hook_schedule_expires_quotations(make_app):
    """The scheduled job is declared with a title and runs the expiry."""
    app = make_app(plugins=PLUGINS)
    with app.app_context():
        schedules = [s for answer in app.extensions["erp_plugins"].pm.hook.erp_schedules() for s in answer]
        quotes = next(s for s in schedules if s.name == "quotations.expire")
        assert str(quotes.title) and quotes.job == "plugins.quotations.jobs:expire_quotations"
        from plugins.quotations.jobs import expire_quotations

        assert expire_quotations() == 0
