"""support_0004_return_refund_state: existing returns learn their refunds' state once, from
finance's refunds of each return (or "by hand" from the manual refund link); a downgrade drops it."""

import pytest
from alembic import command
from sqlalchemy import text

from erp_core.app import create_app
from erp_core.extensions import db
from erp_core.migrate import alembic_config, upgrade
from tests.conftest import base_config
from tests.support.helpers import make_order

finance_services = pytest.importorskip("plugins.finance.services")


def _received_return(amount):
    from plugins.support import returns

    order = make_order(lines=((2, "100.00"),))
    finance_services.record_payment(order, "cash", "200")
    request = returns.create_return(order, "refund", "damaged", "", {order.lines[0].id: 1})
    returns.decide(request, True, "")
    returns.receive(request, True, "Back on the shelf")
    if amount:
        returns.refund(request, amount)
    return request


def test_existing_returns_learn_their_refund_state(empty_database_url, tmp_path):
    from plugins.finance.models import Refund

    app = create_app(base_config(empty_database_url, ["orders", "finance", "support"]), instance=tmp_path)
    with app.app_context():
        upgrade()
    with app.test_request_context():
        paid = _received_return("60")
        finance_services.approve_refund(db.session.query(Refund).filter_by(source_id=str(paid.id)).one())
        waiting = _received_return("100")
        by_hand = _received_return(None)
        db.session.commit()
        ids = (paid.id, waiting.id, by_hand.id)
        db.session.remove()
    with app.app_context():
        with db.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "support_0003")
            conn.execute(text("UPDATE support_return SET status = 'refunded', refund_amount_minor = 5000 WHERE id = :i"),
                         {"i": ids[2]})
            conn.execute(text("INSERT INTO support_return_link (return_id, kind, manual, label, url, external_id, note, "
                              "actor_name, created_at) VALUES (:i, 'refund', :t, 'x', '', '', 'Bank', 'a', "
                              "CURRENT_TIMESTAMP)"), {"i": ids[2], "t": True})
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, refund_state, refund_paid_minor FROM support_return ORDER BY id")).all()
            learnt = conn.execute(text("SELECT return_id, status, amount_minor FROM support_return_refund "
                                       "ORDER BY return_id")).all()
        db.session.remove()
        db.engine.dispose()
    assert [tuple(r) for r in rows] == [(ids[0], "paid", 6000), (ids[1], "requested", 0), (ids[2], "manual", 5000)]
    assert [tuple(r) for r in learnt] == [(ids[0], "paid", 6000), (ids[1], "requested", 10000)]
