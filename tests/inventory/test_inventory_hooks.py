"""The hooks inventory fires (erp_stock_low) and answers (goods shipped / returned, warehouse choices)."""

import pytest

from erp_core import settings
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.i18n import render_system_text
from plugins.inventory import services as inv
from plugins.inventory.models import LowStockAlert, Move
from plugins.orders import services as orders
from plugins.orders import states
from tests.inventory import spy_stock
from tests.inventory.common import PLUGINS, catalogue, level, make_order, receive

SPY = "stockspy=tests.inventory.spy_stock"


class _Sent:
    """(recipients, subject, text) of what the test's SMTP server received."""

    def __init__(self, server):
        self.server = server

    def _items(self):
        return [(m.rcpt_tos, m["Subject"], m.text().rstrip("\n")) for m in self.server.messages]

    def __eq__(self, other):
        return self._items() == other

    def __len__(self):
        return len(self.server.messages)

    def __repr__(self):
        return repr(self._items())


@pytest.fixture
def spy_app(make_app, smtp_server):
    spy_stock.CALLS.clear()
    yield make_app(plugins=[*PLUGINS, SPY], **smtp_server.app_config())
    spy_stock.CALLS.clear()


def test_hook_erp_stock_low(spy_app, smtp_server):
    sent = _Sent(smtp_server)
    with spy_app.test_request_context():
        settings.set_many({"inventory.low_stock_emails": "buyer@example.com, boss@example.com"})
        customer, (pen, ink, _pad) = catalogue()
        wh = inv.default_warehouse()
        receive(wh, {pen: 10, ink: 10})
        inv.set_rule(pen, 5, 20)
        db.session.commit()
        assert spy_stock.CALLS == []  # 10 available, threshold 5
        first = make_order(customer, [(pen, 6)])
        orders.transition(first, states.CONFIRMED)  # available 4 < 5: the crossing
        db.session.commit()
        assert spy_stock.CALLS == [(pen.id, wh.id, 4, 5)]
        assert sent == [(["buyer@example.com", "boss@example.com"],
                         "Low stock: P-001 Product 1 in Main warehouse: 4 available, threshold 5",
                         "These products fell below their low-stock threshold:\n\n"
                         "- P-001 Product 1 in Main warehouse: 4 available, threshold 5")]
        second = make_order(customer, [(pen, 1), (ink, 1)])
        orders.transition(second, states.CONFIRMED)  # still low: no second alert
        db.session.commit()
        assert len(spy_stock.CALLS) == 1 and len(sent) == 1
        orders.transition(first, states.CANCELLED, note="x")  # back to 9 >= 5: re-armed
        db.session.commit()
        alert = db.session.query(LowStockAlert).one()
        assert alert.resolved_at is not None
        orders.transition(first, states.DRAFT)
        orders.transition(first, states.CONFIRMED)  # 3 available: a new crossing
        db.session.commit()
        assert spy_stock.CALLS == [(pen.id, wh.id, 4, 5), (pen.id, wh.id, 3, 5)]
        assert db.session.query(LowStockAlert).filter(LowStockAlert.resolved_at.is_(None)).count() == 1
        # raising the threshold is a crossing too; a refused operation fires nothing that stays
        inv.set_rule(ink, 20, 0)
        db.session.commit()
        assert spy_stock.CALLS[-1] == (ink.id, wh.id, 9, 20)
        assert len(sent) == 3


def test_no_mail_without_recipients_or_mail_server(make_app, smtp_server):
    from erp_core.mail import MailMessage

    app = make_app(plugins=PLUGINS)  # mail not set up
    with app.test_request_context():
        _customer, (pen, _ink, _pad) = catalogue()
        receive(inv.default_warehouse(), {pen: 1})
        inv.set_rule(pen, 5, 0)  # no recipients: nothing recorded
        db.session.commit()
        assert db.session.query(MailMessage).count() == 0
        settings.set_many({"inventory.low_stock_emails": "buyer@example.com"})
        inv.set_rule(pen, 1, 0)
        inv.set_rule(pen, 5, 0)  # recipients but no mail server: kept as not sent
        db.session.commit()
        assert db.session.query(LowStockAlert).count() == 2
        assert [m.status for m in db.session.query(MailMessage)] == ["not_configured"]
        assert smtp_server.messages == []


def test_hook_erp_order_goods_shipped(make_app):
    app = make_app(plugins=PLUGINS)
    with app.test_request_context():
        customer, (pen, ink, _pad) = catalogue()
        wh = inv.default_warehouse()
        receive(wh, {pen: 5, ink: 5})
        order = make_order(customer, [(pen, 3), (ink, 1)])
        orders.transition(order, states.CONFIRMED)
        db.session.commit()
        hook = app.extensions["erp_plugins"].hook
        hook.erp_order_goods_shipped(order=order, quantities={pen.id: 2}, reference="SH-2026-000001")
        db.session.commit()
        assert level(pen, wh) == (3, 1)
        move = db.session.query(Move).filter_by(type="shipment").one()
        assert (move.reference, move.order_id, move.on_hand_delta, move.reserved_delta) == \
            ("SH-2026-000001", order.id, -2, -2)
        # a replacement beyond the reservation comes out of available stock, never below zero
        with pytest.raises(DomainError, match="P-002 Product 2 in Main warehouse: 9 needed, 4 available"):
            hook.erp_order_goods_shipped(order=order, quantities={ink.id: 10}, reference="SH-2")
        db.session.rollback()
        assert level(ink, wh) == (5, 1)
        # orders' manual "mark shipped" fires it with everything ordered
        other = make_order(customer, [(ink, 2)])
        orders.transition(other, states.CONFIRMED)
        orders.perform_action(other, "mark_shipped", None, None)
        db.session.commit()
        assert level(ink, wh) == (3, 1)
        assert inv.check_ledger() == []


def test_hook_erp_order_goods_returned(make_app):
    app = make_app(plugins=PLUGINS)
    with app.test_request_context():
        customer, (pen, _ink, _pad) = catalogue()
        wh = inv.default_warehouse()
        receive(wh, {pen: 5})
        order = make_order(customer, [(pen, 3)])
        orders.transition(order, states.CONFIRMED)
        orders.perform_action(order, "mark_shipped", None, None)
        db.session.commit()
        hook = app.extensions["erp_plugins"].hook
        links = [l for group in hook.erp_order_goods_returned(order=order, quantities={pen.id: 1}, restock=True,
                                                              reference="RMA-2026-000001") for l in group]
        db.session.commit()
        move = db.session.query(Move).filter_by(type="return").one()
        assert [{**l, "label": render_system_text(l["label"])} for l in links] == [
            {"label": f"Stock move #{move.id}: Return of 1", "url": f"/inventory/products/{pen.id}?reference=RMA-2026-000001"}]
        assert level(pen, wh) == (3, 0)
        links = [l for group in hook.erp_order_goods_returned(order=order, quantities={pen.id: 1}, restock=False,
                                                              reference="RMA-2026-000002") for l in group]
        db.session.commit()
        assert "Write-off of 1" in render_system_text(links[0]["label"]) and level(pen, wh) == (3, 0)
        with pytest.raises(DomainError, match="only 1 were shipped and not yet returned"):
            hook.erp_order_goods_returned(order=order, quantities={pen.id: 2}, restock=True, reference="RMA-3")
        db.session.rollback()
        assert inv.check_ledger() == []


def test_hook_erp_warehouse_choices(make_app):
    app = make_app(plugins=PLUGINS)
    with app.test_request_context():
        main = inv.default_warehouse()
        north = inv.save_warehouse(None, "N", "North")
        gone = inv.save_warehouse(None, "G", "Closed")
        inv.set_warehouse_active(gone, False)
        db.session.commit()
        hook = app.extensions["erp_plugins"].hook
        assert hook.erp_warehouse_choices() == [(main.id, "Main warehouse"), (north.id, "North")]
    off = make_app(plugins=PLUGINS, enabled=["orders"])
    with off.test_request_context():
        assert off.extensions["erp_plugins"].hook.erp_warehouse_choices() is None  # nobody answers
