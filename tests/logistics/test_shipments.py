"""Creating, dispatching and cancelling shipments; how the order follows."""

import re
from datetime import timedelta

import pytest

from erp_core.errors import Conflict, DomainError
from erp_core.extensions import db
from erp_core.models import AuditLog
from plugins.logistics import services, states
from plugins.logistics.models import Shipment, ShipmentLine
from plugins.orders import states as order_states
from plugins.orders.models import Order
from tests.logistics import spy_plugin as spy
from tests.logistics.conftest import make_carriers, make_order, ship


def _lines(order):
    return {line.sku.split("-")[0]: line.id for line in order.lines}


def test_partial_then_rest_moves_the_order_and_fires_goods_shipped(spy_app):
    with spy_app.test_request_context():
        demo, _manual = make_carriers()
        order = make_order()
        ids = _lines(order)
        pen, ink = order.lines
        first = ship(order, demo, {ids["PEN"]: 3})
        assert re.fullmatch(r"SH-\d{4}-000001", first.number)
        assert db.session.get(Order, order.id).status == order_states.PARTIALLY_SHIPPED
        assert first.status == states.IN_TRANSIT
        assert services.remaining_by_line(order) == {pen.id: 2, ink.id: 2}
        second = ship(order, demo)
        assert second.number.endswith("000002")
        assert db.session.get(Order, order.id).status == order_states.SHIPPED
        assert spy.calls("shipped") == [(order.number, {pen.product_id: 3}, first.number),
                                        (order.number, {pen.product_id: 2, ink.product_id: 2}, second.number)]
        assert spy.calls("status") == [(first.number, "pending", "in_transit"),
                                        (second.number, "pending", "in_transit")]
        history = [(e.before["status"], e.after["status"]) for e in db.session.query(AuditLog).filter_by(
            object_type="order", action="status_changed").order_by(AuditLog.id)]
        assert history[-2:] == [("confirmed", "partially_shipped"), ("partially_shipped", "shipped")]


def test_shipping_everything_at_once_goes_straight_to_shipped(app):
    with app.test_request_context():
        _demo, manual = make_carriers()
        order = make_order()
        shipment = ship(order, manual)
        assert db.session.get(Order, order.id).status == order_states.SHIPPED
        history = [(e.before["status"], e.after["status"]) for e in db.session.query(AuditLog).filter_by(
            object_type="order", action="status_changed").order_by(AuditLog.id)]
        assert history == [("draft", "confirmed"), ("confirmed", "shipped")]
        assert shipment.carrier_display == "SF Express" and shipment.tracking_number.startswith("SF")
        assert shipment.registration == ""


def test_demo_express_issues_tracking_number_and_label_after_commit(app):
    with app.test_request_context():
        demo, _manual = make_carriers()
        order = make_order()
        shipment = ship(order, demo)
        db.session.expire_all()
        shipment = db.session.get(Shipment, shipment.id)
        assert shipment.registration == "done"
        assert shipment.tracking_number.startswith("DEX") and len(shipment.tracking_number) == 18
        assert shipment.label_type == "image/svg+xml" and b"DEMO EXPRESS" in shipment.label_data
        assert shipment.expected_delivery == shipment.ship_date + timedelta(days=2)
        actions = [e.action for e in db.session.query(AuditLog).filter_by(object_type="shipment")]
        assert actions == ["created", "status_changed", "registered"]


def test_a_carrier_refusal_is_kept_and_can_be_retried(app):
    with app.test_request_context():
        demo, _manual = make_carriers()
        services.update_carrier(demo, demo.name, {"account": "DEMO-1", "api_key": "invalid"})
        db.session.commit()
        order = make_order()
        shipment = ship(order, demo)
        db.session.expire_all()
        shipment = db.session.get(Shipment, shipment.id)
        assert shipment.registration == "failed" and "API key" in shipment.registration_error
        assert shipment.tracking_number is None
        assert db.session.get(Order, order.id).status == order_states.SHIPPED  # the goods did leave
        services.update_carrier(demo, demo.name, {"account": "DEMO-1", "api_key": "fixed-key"})
        services.retry_registration(shipment)
        db.session.commit()
        db.session.expire_all()
        shipment = db.session.get(Shipment, shipment.id)
        assert shipment.registration == "done" and shipment.tracking_number.startswith("DEX")
        with pytest.raises(Conflict):
            services.retry_registration(shipment)


def _refused(order, carrier, **kw):
    """Try a shipment that must be refused; return the error after checking nothing changed."""
    before = (db.session.query(Shipment).count(), db.session.query(ShipmentLine).count(),
              db.session.get(Order, order.id).status, db.session.query(AuditLog).count())
    with pytest.raises(DomainError) as refused:
        services.create_shipment(order, services.ShipmentInput(carrier_id=carrier.id, **kw))
    db.session.rollback()
    after = (db.session.query(Shipment).count(), db.session.query(ShipmentLine).count(),
             db.session.get(Order, order.id).status, db.session.query(AuditLog).count())
    assert after == before
    return refused.value


def test_more_than_remains_is_refused_and_changes_nothing(spy_app):
    with spy_app.test_request_context():
        _demo, manual = make_carriers()
        order = make_order()
        ids = _lines(order)
        error = _refused(order, manual, quantities={ids["PEN"]: 6}, carrier_name="SF", tracking_number="SF1")
        assert "only 5 left" in str(error.errors[f"qty-{ids['PEN']}"])
        ship(order, manual, {ids["PEN"]: 5})
        spy.reset()
        error = _refused(order, manual, quantities={ids["PEN"]: 1}, carrier_name="SF", tracking_number="SF999999")
        assert "only 0 left" in str(error)
        for bad in ("-1", "1.5", "abc", "99999999999"):
            error = _refused(order, manual, quantities={ids["INK"]: bad}, carrier_name="SF", tracking_number="SF999999")
            assert "whole number" in str(error) or "only 2 left" in str(error)
        error = _refused(order, manual, quantities={ids["INK"]: 0}, carrier_name="SF", tracking_number="SF999999")
        assert "at least one" in str(error)
        error = _refused(order, manual, quantities={"999999": 1}, carrier_name="SF", tracking_number="SF999999")
        assert "does not belong" in str(error)
        assert spy.calls("shipped") == []


@pytest.mark.parametrize("status", [order_states.DRAFT, order_states.CANCELLED])
def test_draft_and_cancelled_orders_are_refused(app, status):
    with app.test_request_context():
        _demo, manual = make_carriers()
        order = make_order(status=status)
        error = _refused(order, manual, quantities={order.lines[0].id: 1}, carrier_name="SF", tracking_number="SF12345")
        assert isinstance(error, Conflict) and "only confirmed orders" in str(error)


def test_duplicate_and_malformed_tracking_numbers_are_refused(app):
    with app.test_request_context():
        demo, manual = make_carriers()
        order = make_order()
        ids = _lines(order)
        first = ship(order, manual, {ids["PEN"]: 1}, tracking_number="sf-123456")
        assert first.tracking_number == "SF-123456"
        error = _refused(order, manual, quantities={ids["PEN"]: 1}, carrier_name="SF", tracking_number=" SF-123456 ")
        assert f"already used by shipment {first.number}" in str(error.errors["tracking_number"])
        for bad in ("", "a b!", "x" * 65):
            error = _refused(order, manual, quantities={ids["PEN"]: 1}, carrier_name="SF", tracking_number=bad)
            assert "tracking_number" in error.errors
        error = _refused(order, manual, quantities={ids["PEN"]: 1}, carrier_name="", tracking_number="SF777777")
        assert "carrier_name" in error.errors
        # another carrier may use the same number
        other = services.create_carrier("Third", "third", "manual", {})
        db.session.commit()
        assert ship(order, other, {ids["PEN"]: 1}, tracking_number="SF-123456").tracking_number == "SF-123456"


def test_switched_off_carrier_and_bad_details_are_refused(app):
    with app.test_request_context():
        _demo, manual = make_carriers()
        order = make_order()
        ids = _lines(order)
        services.set_carrier_enabled(manual, False)
        db.session.commit()
        error = _refused(order, manual, quantities={ids["PEN"]: 1}, carrier_name="SF", tracking_number="SF12345")
        assert "switched off" in str(error.errors["carrier_id"])
        services.set_carrier_enabled(manual, True)
        db.session.commit()
        base = dict(quantities={ids["PEN"]: 1}, carrier_name="SF", tracking_number="SF12345")
        error = _refused(order, manual, **base, ship_date=services.today() + timedelta(days=5))
        assert "ship_date" in error.errors
        error = _refused(order, manual, **base, ship_date=services.today(),
                         expected_delivery=services.today() - timedelta(days=1))
        assert "expected_delivery" in error.errors
        for packages in ("0", "1.5", "1000", "x"):
            assert "packages" in _refused(order, manual, **base, packages=packages).errors
        for weight in ("0", "-2", "1.2345", "abc"):
            assert "weight" in _refused(order, manual, **base, weight_kg=weight).errors
        assert "notes" in _refused(order, manual, **base, notes="x" * 2001).errors
        shipment = ship(order, manual, {ids["PEN"]: 1}, tracking_number="SF12345", packages="2", weight_kg="1,25")
        assert (shipment.packages, shipment.weight_grams) == (2, 1250)


def test_a_double_posted_form_creates_one_shipment(app):
    with app.test_request_context():
        _demo, manual = make_carriers()
        order = make_order()
        ids = _lines(order)
        first = ship(order, manual, {ids["PEN"]: 1}, request_key="form-key-1")
        with pytest.raises(services.AlreadyCreated) as again:
            services.create_shipment(order, services.ShipmentInput(
                carrier_id=manual.id, quantities={ids["PEN"]: 1}, carrier_name="SF", tracking_number="SF55555",
                request_key="form-key-1"))
        db.session.rollback()
        assert again.value.shipment_id == first.id
        assert db.session.query(Shipment).count() == 1


def test_shipment_numbers_are_gap_free_after_a_refusal(app):
    with app.test_request_context():
        _demo, manual = make_carriers()
        order = make_order()
        ids = _lines(order)
        ship(order, manual, {ids["PEN"]: 1})
        _refused(order, manual, quantities={ids["PEN"]: 1}, carrier_name="SF", tracking_number="bad number!")
        second = ship(order, manual, {ids["PEN"]: 1})
        assert second.number.endswith("000002")


def test_pending_replacement_is_dispatched_or_cancelled(spy_app):
    with spy_app.test_request_context():
        demo, manual = make_carriers()
        order = make_order()
        ship(order, manual)
        pen = order.lines[0]
        replacement = services.create_replacement(order, {pen.product_id: 1}, "exchange: wrong colour",
                                                  "support_return", 12)
        db.session.commit()
        assert (replacement.status, replacement.kind, replacement.carrier_id) == (states.PENDING, states.KIND_EXCHANGE, None)
        assert services.remaining_by_line(order)[pen.id] == 0  # an exchange is on top of the order
        spy.reset()
        with pytest.raises(DomainError) as refused:
            services.dispatch_shipment(replacement, services.ShipmentInput(carrier_id=demo.id, ship_date=None,
                                                                           packages="0"))
        db.session.rollback()
        assert "packages" in refused.value.errors and spy.calls("shipped") == []
        services.dispatch_shipment(replacement, services.ShipmentInput(carrier_id=demo.id))
        db.session.commit()
        assert spy.calls("shipped") == [(order.number, {pen.product_id: 1}, replacement.number)]
        assert spy.calls("status") == [(replacement.number, "pending", "in_transit")]
        with pytest.raises(Conflict):
            services.dispatch_shipment(replacement, services.ShipmentInput(carrier_id=demo.id))
        db.session.rollback()
        with pytest.raises(Conflict):
            services.cancel_pending(replacement, "no longer wanted")
        db.session.rollback()
        other = services.create_replacement(order, {pen.product_id: 2}, "exchange", "support_return", 13)
        with pytest.raises(DomainError, match="reason"):
            services.cancel_pending(other, " ")
        services.cancel_pending(other, "customer kept the first")
        db.session.commit()
        assert (other.status, other.outcome) == (states.CANCELLED, states.WITHDRAWN)


@pytest.mark.parametrize("quantities", [{}, {"x": 1}, {1: 0}, {1: -2}, {1: "1.5"}, {999999: 1}])
def test_replacement_requests_need_known_products_and_whole_quantities(app, quantities):
    with app.test_request_context():
        order = make_order()
        quantities = {(order.lines[0].product_id if k == 1 else k): v for k, v in quantities.items()}
        with pytest.raises(DomainError):
            services.create_replacement(order, quantities, "x", "support_return", 1)
        db.session.rollback()
        assert db.session.query(Shipment).count() == 0


def test_replacement_for_draft_order_is_refused(app):
    with app.test_request_context():
        order = make_order(status=order_states.DRAFT)
        with pytest.raises(Conflict):
            services.create_replacement(order, {order.lines[0].product_id: 1}, "x", "support_return", 1)


def test_a_refusing_plugin_undoes_the_shipment(spy_app):
    def no_stock(order, quantities, reference):
        raise DomainError("not enough stock of PEN")

    spy.BEHAVIOUR["shipped"] = no_stock
    with spy_app.test_request_context():
        _demo, manual = make_carriers()
        order = make_order()
        with pytest.raises(DomainError, match="not enough stock"):
            ship(order, manual)
        db.session.rollback()
        assert db.session.query(Shipment).count() == 0
        assert db.session.get(Order, order.id).status == order_states.CONFIRMED


def test_order_edited_meanwhile_is_seen_by_the_shipment(app):
    """The order row is locked and reloaded: lines changed before the shipment are what it sees."""
    from plugins.orders import services as orders
    from plugins.orders.services import LineInput, OrderInput

    with app.test_request_context():
        _demo, manual = make_carriers()
        order = make_order(lines=((5, "PEN"),))
        line = order.lines[0]
        orders.update_order(order, OrderInput(customer_id=order.customer_id, ship_line1="1 Main Road",
                                              lines=[LineInput(line.product_id, 2, line_id=line.id)]), None)
        db.session.commit()
        error = _refused(order, manual, quantities={line.id: 3}, carrier_name="SF", tracking_number="SF12345")
        assert "only 2 left" in str(error)


def test_notes_kept_in_the_order_history_read_in_each_readers_language(app):
    """Whoever dispatches (an English-speaking clerk, a webhook, the demo), the order's history
    keeps a message key, and each reader sees the sentence in their own language."""
    from erp_core.i18n import render_system_text

    with app.test_request_context(headers={"Accept-Language": "en"}):
        _demo, manual = make_carriers()
        order = make_order()
        shipment = ship(order, manual)
        note = db.session.query(AuditLog).filter_by(object_type="order", action="status_changed").order_by(
            AuditLog.id.desc()).first().note
        shipment_note = db.session.query(AuditLog).filter_by(object_type="shipment", action="status_changed").order_by(
            AuditLog.id.desc()).first().note
        db.session.commit()
        number = shipment.number
        assert note.startswith('{"key":"logistics.shipment_dispatched"')
        assert render_system_text(note) == f"Shipment {number} dispatched."
        assert render_system_text(shipment_note) == "Created and dispatched."
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert render_system_text(note) == f"发货单 {number} 已发出。"
        assert render_system_text(shipment_note) not in ("", "Created and dispatched.")
