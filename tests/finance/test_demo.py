"""Demo data: payments and refunds on the orders an earlier demo left in ctx.data."""

import random
import re

from erp_core.contrib import DemoContext
from erp_core.extensions import db
from erp_core.models import AuditLog
from plugins.finance import demo, reports, states
from plugins.finance.models import Payment, Refund
from tests.finance.conftest import make_order


def test_demo_pays_and_refunds_the_demo_orders(fin_app):
    with fin_app.test_request_context(method="POST"):
        orders = [make_order((f"{10 + i}", 1 + i % 3, "0")) for i in range(40)]
        draft = make_order(confirm=False)
        logged = []
        ctx = DemoContext(rng=random.Random(5), data={"orders": orders + [draft.id]}, log=logged.append)
        demo.load(ctx)
        db.session.commit()
        payments = db.session.query(Payment).all()
        assert payments and all(p.order_id != draft.id for p in payments)
        assert {p.method for p in payments} == {"cash", "bank_transfer", "demo_gateway"}
        assert all(p.status == states.PAID for p in payments)
        refunds = db.session.query(Refund).all()
        assert {r.status for r in refunds} == {"requested", "refunded", "rejected"}
        assert ctx.data["finance"] == {"payments": len(payments), "refunds": len(refunds)}
        for p in payments:  # never over the order, never refunded beyond the payment
            assert 0 <= p.refunded_minor <= p.amount_minor and p.credit_minor == 0
        entry = db.session.query(AuditLog).filter_by(object_type="payment").order_by(AuditLog.id).first()
        assert entry.at <= min(p.paid_at for p in payments if p.id == int(entry.object_id))  # backdated history
        f = reports.Filters(start=min(p.paid_at for p in payments).date(), end=max(p.paid_at for p in payments).date(),
                            tz="UTC")
        assert reports.run_takings(f).totals[0]["received"] == sum(p.amount_minor for p in payments)
        assert re.fullmatch(r"  \d+ payments, \d+ refunds", logged[-1])  # says what was loaded, no internals


def test_demo_without_orders_does_nothing(fin_app):
    with fin_app.test_request_context(method="POST"):
        demo.load(DemoContext(rng=random.Random(1), log=lambda _m: None))
        assert db.session.query(Payment).count() == 0
