"""Delivery exceptions: raising, the queue's resolutions, and the hooks they fire."""

from datetime import timedelta

import pytest
from flask_babel import force_locale

from erp_core.errors import Conflict, DomainError
from erp_core.extensions import db
from erp_core.i18n import render_system_text
from erp_core.models import AuditLog
from plugins.logistics import adapters as a
from plugins.logistics import services, states
from plugins.logistics.models import DeliveryException, Shipment
from plugins.orders import states as order_states
from plugins.orders.models import Order
from tests.helpers import make_user
from tests.logistics import spy_plugin as spy
from tests.logistics.conftest import make_carriers, make_order, ship


def _fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def _shipped(lines=((5, "PEN"), (2, "INK"))):
    _demo, manual = make_carriers()
    order = make_order(lines=lines)
    shipments = [ship(order, manual, {line.id: line.quantity}) for line in order.lines]
    return order, shipments


def test_raising_an_exception_is_checked_and_audited(spy_app):
    with spy_app.test_request_context():
        order, (pen, ink) = _shipped()
        with pytest.raises(DomainError, match="kind of problem"):
            services.raise_exception(pen, "alien_abduction")
        with pytest.raises(DomainError, match="past"):
            services.raise_exception(pen, a.LOST, due_date=services.today() - timedelta(days=1))
        with pytest.raises(DomainError, match="handles delivery exceptions"):
            services.raise_exception(pen, a.LOST, owner_id="999")
        db.session.rollback()
        owner = make_user(spy_app, perms=["logistics.exceptions"], username="olga")
        make_user(spy_app, perms=["logistics.view"], username="viktor")
        assert [u.username for u in services.possible_owners()] == ["olga"]
        exception = services.raise_exception(_fresh(Shipment, pen.id), a.LOST, "gone", owner_id=str(owner))
        db.session.commit()
        assert (exception.owner_id, exception.status, exception.open_key) == (owner, states.OPEN, pen.id)
        assert _fresh(Shipment, pen.id).status == states.EXCEPTION
        with pytest.raises(Conflict, match="already has an open exception"):
            services.raise_exception(_fresh(Shipment, pen.id), a.DAMAGED)
        db.session.rollback()
        services.add_staff_event(_fresh(Shipment, ink.id), a.DELIVERED, None, "", "")
        db.session.commit()
        with pytest.raises(Conflict, match="in transit"):
            services.raise_exception(_fresh(Shipment, ink.id), a.DAMAGED)
        db.session.rollback()
        entry = db.session.query(AuditLog).filter_by(object_type="delivery_exception", action="raised").one()
        assert entry.after["kind"] == a.LOST and entry.note == "gone"


def test_reship_closes_the_parcel_and_requests_a_replacement(spy_app):
    with spy_app.test_request_context():
        order, (pen, ink) = _shipped()
        services.add_staff_event(ink, a.DELIVERED, None, "", "")
        exception = services.raise_exception(_fresh(Shipment, pen.id), a.LOST, "the carrier lost it")
        db.session.commit()
        spy.reset()
        links = services.resolve_exception(exception, states.RESHIP, "sending again")
        db.session.commit()
        original = _fresh(Shipment, pen.id)
        assert (original.status, original.outcome) == (states.LOST, states.RESHIPPED)
        replacement = db.session.query(Shipment).filter_by(replaces_id=pen.id).one()
        assert (replacement.status, replacement.kind, replacement.carrier_id) == (states.PENDING, states.KIND_ORDER,
                                                                                 pen.carrier_id)
        assert [(l.order_line_id, l.quantity) for l in replacement.lines] == [(order.lines[0].id, 5)]
        assert spy.calls("returned") == [(order.number, {order.lines[0].product_id: 5}, False, pen.number)]
        assert [l["label"] for l in links] == [f"Stock move for {pen.number}", replacement.number]
        assert _fresh(DeliveryException, exception.id).links == links
        assert _fresh(Order, order.id).status == order_states.SHIPPED
        assert services.remaining_by_line(_fresh(Order, order.id)) == {l.id: 0 for l in order.lines}
        services.dispatch_shipment(replacement, services.ShipmentInput(
            carrier_id=pen.carrier_id, carrier_name="SF Express", tracking_number="SF-REPLACE-1"))
        db.session.commit()
        assert spy.calls("shipped")[-1] == (order.number, {order.lines[0].product_id: 5}, replacement.number)
        services.add_staff_event(_fresh(Shipment, replacement.id), a.DELIVERED, None, "", "")
        db.session.commit()
        assert _fresh(Order, order.id).status == order_states.DELIVERED
        with pytest.raises(Conflict, match="resolved already"):
            services.resolve_exception(_fresh(DeliveryException, exception.id), states.RESHIP)


def test_return_to_stock_reopens_the_quantities(spy_app):
    with spy_app.test_request_context():
        order, (pen, ink) = _shipped()
        exception = services.raise_exception(pen, a.REFUSED, "customer refused")
        db.session.commit()
        assert services.available_resolutions(exception) == [states.RESHIP, states.RETURN_TO_STOCK,
                                                              states.CANCEL_REFUND]
        services.resolve_exception(exception, states.RETURN_TO_STOCK)
        db.session.commit()
        original = _fresh(Shipment, pen.id)
        assert (original.status, original.outcome) == (states.RETURNED, states.RESTOCKED)
        assert spy.calls("returned") == [(order.number, {order.lines[0].product_id: 5}, True, pen.number)]
        order = _fresh(Order, order.id)
        assert order.status == order_states.SHIPPED
        assert services.remaining_by_line(order)[order.lines[0].id] == 5
        again = ship(order, _fresh(type(pen.carrier), pen.carrier_id), {order.lines[0].id: 5})
        assert again.status == states.IN_TRANSIT


def test_cancel_and_refund_asks_finance_for_the_goods_value(spy_app):
    with spy_app.test_request_context():
        order, (pen, ink) = _shipped(lines=((3, "PEN"), (3, "INK")))
        ink_line = order.lines[1]
        ink_line.line_total_minor = 1000  # e.g. 10.00 after a discount: 3.333... each
        db.session.commit()
        services.add_staff_event(pen, a.DELIVERED, None, "", "")
        exception = services.raise_exception(_fresh(Shipment, ink.id), a.DAMAGED, "crushed")
        db.session.commit()
        links = services.resolve_exception(exception, states.CANCEL_REFUND, "customer wants the money back")
        db.session.commit()
        assert spy.calls("refund") == [(order.number, 1000, "CNY", services.EXCEPTION_SOURCE, exception.id)]
        assert spy.calls("returned") == [(order.number, {ink_line.product_id: 3}, False, ink.number)]
        assert "Refund #7" in [l["label"] for l in links]
        shipment = _fresh(Shipment, ink.id)
        assert (shipment.status, shipment.outcome) == (states.LOST, states.REFUNDED)
        assert _fresh(Order, order.id).status == order_states.DELIVERED  # the rest arrived, this part is refunded


def test_refund_value_is_each_lines_share_rounded_half_up(app):
    with app.test_request_context():
        _demo, manual = make_carriers()
        order = make_order(lines=((3, "PEN"),))
        line = order.lines[0]
        line.line_total_minor = 1000
        db.session.commit()
        shipment = ship(order, manual, {line.id: 2})
        assert services.shipment_value(shipment) == 667  # 666.67 -> 667


def test_a_refusal_from_finance_undoes_the_whole_resolution(spy_app):
    def nothing_paid(order, amount):
        raise DomainError("Nothing has been paid on this order.")

    with spy_app.test_request_context():
        order, (pen, _ink) = _shipped()
        exception = services.raise_exception(pen, a.LOST)
        db.session.commit()
        spy.BEHAVIOUR["refund"] = nothing_paid
        with pytest.raises(DomainError, match="Nothing has been paid"):
            services.resolve_exception(exception, states.CANCEL_REFUND)
        db.session.rollback()
        exception = _fresh(DeliveryException, exception.id)
        assert (exception.status, exception.open_key, exception.links) == (states.OPEN, pen.id, [])
        assert (_fresh(Shipment, pen.id).status, _fresh(Shipment, pen.id).outcome) == (states.EXCEPTION, None)


def test_resume_puts_the_parcel_back_in_transit(spy_app):
    with spy_app.test_request_context():
        order, (pen, _ink) = _shipped()
        exception = services.raise_exception(pen, a.DELAYED)
        db.session.commit()
        assert states.RESUME in services.available_resolutions(exception)
        services.resolve_exception(exception, states.RESUME, "carrier says tomorrow")
        db.session.commit()
        assert _fresh(Shipment, pen.id).status == states.IN_TRANSIT
        assert _fresh(DeliveryException, exception.id).resolution == states.RESUME
        # the shipment can have a new exception later
        assert services.raise_exception(_fresh(Shipment, pen.id), a.LOST).status == states.OPEN


def test_contact_the_customer_opens_a_ticket_and_keeps_the_exception_open(spy_app):
    with spy_app.test_request_context():
        order, (pen, _ink) = _shipped()
        exception = services.raise_exception(pen, a.ADDRESS_PROBLEM, "house number missing")
        db.session.commit()
        assert services.can_contact(exception)
        with pytest.raises(DomainError, match="Write what"):
            services.contact_customer(exception, "  ")
        db.session.rollback()
        links = services.contact_customer(exception, "Please ask for the house number.")
        db.session.commit()
        ((number, subject, body, category, source_type, source_id),) = spy.calls("ticket")
        assert (number, body, category, source_type, source_id) == (
            order.number, "Please ask for the house number.", "delivery", services.EXCEPTION_SOURCE, exception.id)
        assert pen.number in subject and order.number in subject
        # stored as a system text: each reader sees the subject in their own language
        assert render_system_text(subject) == (
            f"Delivery problem with {order.number} (shipment {pen.number}): Address problem")
        with force_locale("zh_CN"):
            assert render_system_text(subject) == f"订单 {order.number} 配送问题（发货单 {pen.number}）：地址问题"
        exception = _fresh(DeliveryException, exception.id)
        assert exception.status == states.OPEN and exception.links == links and exception.contacted_at
        assert not services.can_contact(exception)
        with pytest.raises(Conflict):
            services.contact_customer(exception, "again")


def test_actions_of_switched_off_plugins_are_hidden_and_refused(app):
    """Without finance, support or inventory nobody answers their hooks: those actions go."""
    with app.test_request_context():
        order, (pen, _ink) = _shipped()
        exception = services.raise_exception(pen, a.REFUSED)
        db.session.commit()
        assert services.available_resolutions(exception) == [states.RESHIP]
        assert not services.can_contact(exception)
        for resolution in (states.CANCEL_REFUND, states.RETURN_TO_STOCK, "nonsense"):
            with pytest.raises(Conflict, match="not possible"):
                services.resolve_exception(exception, resolution)
            db.session.rollback()
        with pytest.raises(Conflict, match="switched off"):
            services.contact_customer(exception, "hello")
        db.session.rollback()
        services.resolve_exception(_fresh(DeliveryException, exception.id), states.RESHIP)  # logistics answers itself
        db.session.commit()


def test_switching_a_plugin_off_hides_its_actions_at_once(spy_app):
    from erp_core.plugins import switch_plugin

    with spy_app.test_request_context():
        order, (pen, _ink) = _shipped()
        exception = services.raise_exception(pen, a.LOST)
        db.session.commit()
        assert states.CANCEL_REFUND in services.available_resolutions(exception)
        switch_plugin("lspy", False)
        db.session.commit()
        assert services.available_resolutions(exception) == [states.RESHIP]
        assert not services.can_contact(exception)


def test_owner_due_date_and_note_can_change_while_open(app):
    with app.test_request_context():
        order, (pen, _ink) = _shipped()
        owner = make_user(app, perms=["logistics.exceptions"])
        exception = services.raise_exception(pen, a.LOST)
        db.session.commit()
        due = services.today() + timedelta(days=5)
        with pytest.raises(DomainError):
            services.update_exception(exception, owner, None, "")
        services.update_exception(exception, str(owner), due, "called the carrier")
        db.session.commit()
        exception = _fresh(DeliveryException, exception.id)
        assert (exception.owner_id, exception.due_date, exception.note) == (owner, due, "called the carrier")
        entry = db.session.query(AuditLog).filter_by(object_type="delivery_exception", action="changed").one()
        assert entry.after["note"] == "called the carrier"
        services.resolve_exception(exception, states.RESHIP)
        db.session.commit()
        with pytest.raises(Conflict):
            services.update_exception(_fresh(DeliveryException, exception.id), None, due, "")


def test_a_note_the_system_wrote_is_edited_in_the_readers_words_and_kept_when_unchanged(app):
    from erp_core.i18n import system_text
    from tests.helpers import login

    with app.test_request_context():
        _order, (pen, _ink) = _shipped()
        stored = system_text("logistics.demo.address_incomplete")
        exception = services.raise_exception(pen, a.LOST, stored)
        db.session.commit()
        exception_id = exception.id
        due = (services.today() + timedelta(days=3)).isoformat()
    client = app.test_client()
    login(client, app, make_user(app, roles=["admin"], username="boss"))
    page = client.get(f"/logistics/exceptions/{exception_id}").get_data(as_text=True)
    note_box = page.split('name="note"')[-1].split("</textarea>")[0]
    assert "Address incomplete, recipient not found" in note_box and "logistics.demo" not in note_box
    client.post("/language", data={"lang": "zh_CN"})
    chinese = client.get(f"/logistics/exceptions/{exception_id}").get_data(as_text=True)
    assert "地址不全，收件人未找到" in chinese.split('name="note"')[-1].split("</textarea>")[0]
    # Saved unchanged (owner and date only): the note stays the system's, in every reader's language.
    client.post(f"/logistics/exceptions/{exception_id}", data={"owner_id": "", "due_date": due, "note": "地址不全，收件人未找到"})
    with app.app_context():
        assert db.session.get(DeliveryException, exception_id).note == stored
    client.post(f"/logistics/exceptions/{exception_id}", data={"owner_id": "", "due_date": due, "note": "called them"})
    with app.app_context():
        assert db.session.get(DeliveryException, exception_id).note == "called them"


def test_migration_turns_old_ticket_subjects_into_system_texts():
    """logistics_0004 recognises the subject written in English or Chinese (kind label included)."""
    import importlib.util
    import json
    from pathlib import Path

    from erp_core.system_text_migration import compile_patterns, recognise

    path = Path(services.__file__).parents[1] / "migrations/versions/logistics_0004_ticket_subject.py"
    spec = importlib.util.spec_from_file_location("logistics_0004", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    compiled = compile_patterns(migration.SUBJECTS)
    for written in ("Delivery problem with SO-2026-000007 (shipment SH-2026-000003): Refused by the recipient",
                    "订单 SO-2026-000007 配送问题（发货单 SH-2026-000003）：收件人拒收"):
        stored = json.loads(recognise(written, compiled, migration._kind))
        assert stored == {"key": "logistics.delivery_problem", "params": {
            "order": "SO-2026-000007", "number": "SH-2026-000003", "kind": {"msgid": "Refused by the recipient"}}}
    assert recognise("Parcel lost, call the customer", compiled, migration._kind) is None
