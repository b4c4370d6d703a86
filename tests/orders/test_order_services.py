"""Order entry, changes and the status machine, with every hook orders calls."""

import pytest

from erp_core.errors import Conflict, DomainError, ValidationProblems
from erp_core.extensions import db
from erp_core.models import AuditLog
from plugins.orders import services, states
from plugins.orders.models import Order, OrderLine
from plugins.orders.services import LineInput, OrderInput, OrderInvalid
from tests.orders import spy_plugin as spy


@pytest.fixture
def orders_app(make_app):
    return make_app(plugins=["orders"])


def _catalogue():
    customer = services.create_customer("Li Lei", "138 0013 8000", "LiLei@Example.com")
    pen = services.create_product("pen-1", "Pen", "348.35", "CNY", spec="blue", unit="box")
    ink = services.create_product("INK-1", "Ink", "12", "CNY")
    db.session.commit()
    return customer, pen, ink


def _order_input(customer, *lines, **header):
    data = dict(customer_id=customer.id, ship_line1="1 Main Road", ship_city="Shanghai", currency="CNY",
                lines=list(lines))
    data.update(header)
    return OrderInput(**data)


def test_create_order_computes_totals_half_up_per_line(orders_app):
    with orders_app.test_request_context():
        customer, pen, ink = _catalogue()
        order = services.create_order(_order_input(customer, LineInput(pen.id, 16, discount="4"),
                                                   LineInput(ink.id, "3")))
        db.session.commit()
        assert order.number.startswith("SO-") and order.number.endswith("-000001")
        assert order.status == states.DRAFT
        assert [line.line_total_minor for line in order.lines] == [535066, 3600]  # 5350.656 -> 5350.66
        assert order.total_minor == 538666
        assert order.subtotal_minor == 34835 * 16 + 3600
        assert order.discount_minor == order.subtotal_minor - order.total_minor
        assert order.contact_name == "Li Lei" and order.contact_phone == "138 0013 8000"
        assert order.lines[0].sku == "PEN-1" and order.lines[0].unit == "box"


@pytest.mark.parametrize("currency,price,quantity,discount,expected", [
    ("JPY", "12345", 1, "10", 11111),          # 11110.5 -> 11111, not 11110
    ("KWD", "117.675", 1, "0", 117675),         # 3 decimals kept exactly
    ("CNY", "99.99", 7, "100", 0),              # a 100% discount leaves nothing behind
    ("CNY", "0.05", 1, "50", 3),                # 2.5 fen -> 3
])
def test_rounding_cases_that_broke_other_erps(orders_app, currency, price, quantity, discount, expected):
    with orders_app.test_request_context():
        customer = services.create_customer("Han Meimei")
        product = services.create_product("X-" + currency, "Thing", price, currency)
        order = services.create_order(_order_input(customer, LineInput(product.id, quantity, discount=discount),
                                                   currency=currency))
        assert order.total_minor == expected


@pytest.mark.parametrize("line,field,text", [
    (dict(quantity="0"), "quantity", "more than zero"),
    (dict(quantity="-3"), "quantity", "more than zero"),
    (dict(quantity="1.5"), "quantity", "whole number"),
    (dict(quantity="abc"), "quantity", "whole number"),
    (dict(quantity="99999999999"), "quantity", "cannot exceed"),
    (dict(product_id="999999"), "product_id", "Unknown product"),
    (dict(product_id=""), "product_id", "Choose a product"),
    (dict(product_id="", sku="NOPE-1"), "product_id", "No product has the code NOPE-1"),
    (dict(unit_price="1.234"), "unit_price", "decimals"),
    (dict(unit_price="-1"), "unit_price", "negative"),
    (dict(discount="101"), "discount", "between 0 and 100"),
    (dict(discount="5.555"), "discount", "two decimals"),
])
def test_bad_lines_are_refused_and_nothing_is_written(orders_app, line, field, text):
    with orders_app.test_request_context():
        customer, pen, _ink = _catalogue()
        values = dict(product_id=pen.id, quantity=1)
        values.update(line)
        with pytest.raises(OrderInvalid) as refused:
            services.create_order(_order_input(customer, LineInput(**values)))
        db.session.rollback()
        assert text in " ".join(refused.value.errors[f"lines-0-{field}"])
        assert db.session.query(Order).count() == 0 and db.session.query(OrderLine).count() == 0


def test_empty_customer_and_address_and_foreign_currency_are_refused(orders_app):
    with orders_app.test_request_context():
        customer, pen, _ink = _catalogue()
        usd = services.create_product("USD-1", "Import", "10", "USD")
        with pytest.raises(OrderInvalid) as refused:
            services.create_order(OrderInput(customer_id=None, ship_line1="", currency="CNY",
                                             lines=[LineInput(usd.id, 1)]))
        errors = refused.value.errors
        assert "customer_id" in errors and "ship_line1" in errors
        assert "priced in USD" in errors["lines-0-unit_price"][0]
        # typing the price in the order's currency is fine
        order = services.create_order(_order_input(customer, LineInput(usd.id, 1, unit_price="70")))
        assert order.total_minor == 7000
        with pytest.raises(OrderInvalid):
            services.create_order(_order_input(customer, currency="XXX"))
        with pytest.raises(OrderInvalid) as refused:
            services.create_order(_order_input(customer))
        assert "at least one line" in refused.value.errors["lines"][0]


def test_new_customer_inline(orders_app):
    with orders_app.test_request_context():
        _c, pen, _ink = _catalogue()
        order = services.create_order(OrderInput(new_customer={"name": "Wang Fang", "phone": "+86 21 5555 0101"},
                                                 ship_line1="2 River St", currency="CNY",
                                                 lines=[LineInput(pen.id, 1)]))
        assert order.customer.name == "Wang Fang" and order.customer.phone_key == "+862155550101"


def test_duplicates_are_found_by_phone_digits_or_email(orders_app):
    with orders_app.test_request_context():
        customer, _pen, _ink = _catalogue()
        assert services.find_duplicates("13800138000", None) == [customer]
        assert services.find_duplicates(None, "lilei@example.com") == [customer]
        assert services.find_duplicates("999", "other@example.com") == []


def test_order_numbers_are_gap_free_even_after_a_rollback(orders_app):
    with orders_app.test_request_context():
        customer, pen, _ink = _catalogue()
        first = services.create_order(_order_input(customer, LineInput(pen.id, 1))).number
        db.session.commit()
        services.create_order(_order_input(customer, LineInput(pen.id, 1)))
        db.session.rollback()
        second = services.create_order(_order_input(customer, LineInput(pen.id, 1))).number
        db.session.commit()
        assert int(second[-6:]) == int(first[-6:]) + 1


def test_transition_table_is_enforced(orders_app):
    with orders_app.test_request_context():
        customer, pen, _ink = _catalogue()
        order = services.create_order(_order_input(customer, LineInput(pen.id, 1)))
        db.session.commit()
        with pytest.raises(Conflict):
            services.transition(order, states.DELIVERED)
        db.session.rollback()
        with pytest.raises(DomainError, match="reason"):
            services.transition(order, states.CANCELLED, note="  ")
        db.session.rollback()
        services.transition(order, states.CONFIRMED)
        services.transition(order, states.CANCELLED, note="customer changed their mind")
        db.session.commit()
        services.transition(order, states.DRAFT)  # reopen undoes a cancel
        db.session.commit()
        history = [(e.before["status"], e.after["status"]) for e in
                   db.session.query(AuditLog).filter_by(object_type="order", action="status_changed").order_by(AuditLog.id)]
        assert history == [("draft", "confirmed"), ("confirmed", "cancelled"), ("cancelled", "draft")]


def test_stale_version_is_refused(orders_app):
    with orders_app.test_request_context():
        customer, pen, _ink = _catalogue()
        order = services.create_order(_order_input(customer, LineInput(pen.id, 1)))
        db.session.commit()
        version = order.version
        services.transition(order, states.CONFIRMED, expected_version=version)
        db.session.commit()
        with pytest.raises(Conflict, match="changed by someone else"):
            services.transition(order, states.DRAFT, expected_version=version)


def test_confirmed_order_can_change_until_shipped(orders_app):
    with orders_app.test_request_context():
        customer, pen, ink = _catalogue()
        order = services.create_order(_order_input(customer, LineInput(pen.id, 2), LineInput(ink.id, 1)))
        services.transition(order, states.CONFIRMED)
        db.session.commit()
        pen_line, ink_line = order.lines
        changes = services.update_order(order, _order_input(
            customer, LineInput(pen.id, 5, line_id=pen_line.id), LineInput(ink.id, 4),
            ship_line1="9 New Road", contact_name="Li"), order.version)
        db.session.commit()
        assert changes["quantity_delta"] == {pen.id: 3, ink.id: 3}
        assert changes["fields"]["ship_line1"] == ("1 Main Road", "9 New Road")
        assert len(changes["lines"]["added"]) == 1 and len(changes["lines"]["removed"]) == 1
        assert [(l.sku, l.quantity) for l in order.lines] == [("PEN-1", 5), ("INK-1", 4)]
        entry = db.session.query(AuditLog).filter_by(object_type="order", action="changed").one()
        lines = entry.after["lines"]  # structured: the history shows it in the reader's words
        assert [i["sku"] for i in lines["added"]] == ["INK-1"] and [i["sku"] for i in lines["removed"]] == ["INK-1"]
        assert lines["changed"][0]["after"]["quantity"] == 5 and lines["currency"] == order.currency
        services.transition(order, states.SHIPPED)
        db.session.commit()
        with pytest.raises(Conflict, match="can no longer be changed"):
            services.update_order(order, _order_input(customer, LineInput(pen.id, 1)), order.version)


def test_hook_erp_order_created(spy_app):
    with spy_app.test_request_context():
        customer, pen, _ink = _catalogue()
        spy.BEHAVIOUR["created"] = lambda order: order.notes == "refuse" and (_ for _ in ()).throw(DomainError("no"))
        order = services.create_order(_order_input(customer, LineInput(pen.id, 1)))
        assert ("created", order.number) in spy.CALLS
        with pytest.raises(DomainError):
            services.create_order(_order_input(customer, LineInput(pen.id, 1), notes="refuse"))
        db.session.rollback()
        assert db.session.query(Order).count() == 0


def test_hook_erp_order_changed(spy_app):
    def on_change(order, changes):
        if changes["quantity_delta"].get(order.lines[0].product_id, 0) > 100:
            raise DomainError("not enough stock")

    spy.BEHAVIOUR["changed"] = on_change
    with spy_app.test_request_context():
        customer, pen, _ink = _catalogue()
        order = services.create_order(_order_input(customer, LineInput(pen.id, 1)))
        db.session.commit()
        line_id = order.lines[0].id
        services.update_order(order, _order_input(customer, LineInput(pen.id, 3, line_id=line_id)), None)
        db.session.commit()
        with pytest.raises(DomainError, match="not enough stock"):
            services.update_order(order, _order_input(customer, LineInput(pen.id, 500, line_id=line_id)), None)
        db.session.rollback()
        assert [c[1] for c in spy.CALLS if c[0] == "changed"] == [{pen.id: 2}, {pen.id: 497}]
        assert db.session.get(OrderLine, line_id).quantity == 3  # the refused edit left nothing behind


def test_hook_erp_order_validate_transition(spy_app):
    spy.BEHAVIOUR["validate"] = lambda order, old, new: ["no phone, no confirmation"] if not order.contact_phone else []
    with spy_app.test_request_context():
        customer, pen, _ink = _catalogue()
        order = services.create_order(_order_input(customer, LineInput(pen.id, 1), contact_phone=""))
        order.contact_phone = ""
        db.session.commit()
        with pytest.raises(ValidationProblems) as vetoed:
            services.transition(order, states.CONFIRMED)
        assert vetoed.value.problems == ["no phone, no confirmation"]
        db.session.rollback()
        assert db.session.get(Order, order.id).status == states.DRAFT
        assert ("validate", "draft", "confirmed") in spy.CALLS


def test_hook_erp_order_status_changed(spy_app):
    def on_status(order, old_status, new_status, note):
        if new_status == states.CONFIRMED and order.total_minor > 10**6:
            raise DomainError("too expensive")

    spy.BEHAVIOUR["status"] = on_status
    with spy_app.test_request_context():
        customer, pen, _ink = _catalogue()
        order = services.create_order(_order_input(customer, LineInput(pen.id, 1)))
        big = services.create_order(_order_input(customer, LineInput(pen.id, 1000)))
        db.session.commit()
        services.transition(order, states.CONFIRMED)
        db.session.commit()
        with pytest.raises(DomainError, match="too expensive"):
            services.transition(big, states.CONFIRMED)
        db.session.rollback()
        assert db.session.get(Order, big.id).status == states.DRAFT
        assert ("status", "draft", "confirmed", None) in spy.CALLS


def test_hook_erp_order_manual_shipping(spy_app):
    spy.BEHAVIOUR["manual_shipping"] = lambda order: False
    with spy_app.test_request_context():
        customer, pen, _ink = _catalogue()
        order = services.create_order(_order_input(customer, LineInput(pen.id, 1)))
        services.transition(order, states.CONFIRMED)
        db.session.commit()
        admin = type("Admin", (), {"can": staticmethod(lambda code: True)})()
        assert "mark_shipped" not in [a.name for a in services.available_actions(order, admin)]
        with pytest.raises(Conflict, match="shipment"):
            services.perform_action(order, "mark_shipped", None, None)


def test_manual_shipping_is_offered_without_logistics(orders_app):
    with orders_app.test_request_context():
        customer, pen, _ink = _catalogue()
        order = services.create_order(_order_input(customer, LineInput(pen.id, 1)))
        services.transition(order, states.CONFIRMED)
        admin = type("Admin", (), {"can": staticmethod(lambda code: True)})()
        assert [a.name for a in services.available_actions(order, admin)] == ["unconfirm", "mark_shipped", "cancel"]
        services.perform_action(order, "mark_shipped", None, None)
        assert order.status == states.SHIPPED
