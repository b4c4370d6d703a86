"""Tax on every line: the one rule (plugins.orders.tax.line_amounts), the sums by rate, and the
amounts order entry and changes store."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from erp_core import settings as site_settings
from erp_core.extensions import db
from erp_core.money import MoneyError
from plugins.orders import services, tax
from plugins.orders.models import TaxRate
from plugins.orders.services import LineInput, OrderInput
from plugins.orders.tax import LineAmounts, line_amounts


@pytest.mark.parametrize("args,expected", [
    ((3, 999, 0, 13, True), LineAmounts(2652, 345, 2997)),           # 3 x 9.99 at 13 % incl.: 29.97, tax 3.45
    ((3, 999, 0, 13, False), LineAmounts(2997, 390, 3387)),          # the same prices excluding tax
    ((16, 34835, 4, 22, False), LineAmounts(535066, 117715, 652781)),  # Odoo #37896: 6527.81 everywhere
    ((16, 34835, 4, 22, True), LineAmounts(438579, 96487, 535066)),
    ((1, 12345, 0, 10, False), LineAmounts(12345, 1235, 13580)),     # Odoo PR #100478: JPY 1,234.5 -> 1,235
    ((1, 117675, 0, 10, False), LineAmounts(117675, 11768, 129443)),  # ERPNext #28847: 117.675 -> 117.68
    ((7, 9999, 100, 13, True), LineAmounts(0, 0, 0)),                # ERPNext #52001: 100 % off leaves 0
    ((7, 9999, 100, 13, False), LineAmounts(0, 0, 0)),
    ((1, 5, 50, 0, True), LineAmounts(3, 0, 3)),                     # 2.5 fen -> 3, no tax at 0 %
    ((2, 1000, 0, "6.5", True), LineAmounts(1878, 122, 2000)),       # 2000 x 6.5/106.5 = 122.07
    ((1, 1, 0, 13, True), LineAmounts(1, 0, 1)),                     # 0.115 fen of tax rounds away
])
def test_line_amounts_vectors(args, expected):
    assert line_amounts(*args) == expected


def test_line_amounts_refuses_a_negative_rate():
    with pytest.raises(MoneyError):
        line_amounts(1, 100, 0, -1, True)
    with pytest.raises(MoneyError):
        line_amounts(1, 100, 101, 13, True)


@settings(max_examples=300, deadline=None)
@given(quantity=st.integers(1, 1_000_000), price=st.integers(0, 10**9),
       discount=st.decimals(0, 100, places=2), percent=st.sampled_from(["0", "1", "3", "6", "9", "13", "6.5"]),
       inclusive=st.booleans())
def test_net_plus_tax_is_gross(quantity, price, discount, percent, inclusive):
    amounts = line_amounts(quantity, price, discount, percent, inclusive)
    assert amounts.net + amounts.tax == amounts.gross
    assert 0 <= amounts.tax <= amounts.gross
    exact = Decimal(amounts.net) * Decimal(percent) / 100  # the tax of the line's own net, unrounded
    # Rounding once per line: the tax is within half a minor unit of the exact tax of its amount.
    base = Decimal(amounts.gross) * Decimal(percent) / (100 + Decimal(percent)) if inclusive else exact
    assert abs(amounts.tax - base) <= Decimal("0.5")


@settings(max_examples=200, deadline=None)
@given(prices=st.lists(st.integers(1, 100_000), min_size=1, max_size=20), inclusive=st.booleans())
def test_tax_of_the_sum_and_sum_of_taxes_differ_by_at_most_half_a_unit_per_line(prices, inclusive):
    """Documented: the order's tax is the sum of the lines' rounded taxes, which may differ from
    the tax of the summed amounts by up to half a minor unit per line, never more."""
    lines = [line_amounts(1, price, 0, 13, inclusive) for price in prices]
    summed = sum(line.tax for line in lines)
    of_sum = line_amounts(1, sum(prices), 0, 13, inclusive).tax
    assert abs(summed - of_sum) <= (len(prices) + 1) / 2


def _line(percent, exempt, net, tax_minor):
    return SimpleNamespace(tax_rate_percent=Decimal(percent), tax_exempt=exempt, net_minor=net, tax_minor=tax_minor,
                           gross_minor=net + tax_minor)


def test_tax_by_rate_sums_the_stored_values():
    order = SimpleNamespace(lines=[_line("13", False, 100, 13), _line("0", True, 50, 0), _line("9", False, 10, 1),
                                   _line("13.00", False, 200, 27), _line("0", False, 5, 0)])
    assert tax.tax_by_rate(order) == [(Decimal("13.00"), False, 300, 40, 340), (Decimal("9.00"), False, 10, 1, 11),
                                      (Decimal("0.00"), False, 5, 0, 5), (Decimal("0.00"), True, 50, 0, 50)]
    assert tax.tax_by_rate(SimpleNamespace(lines=[])) == []


def test_percent_text():
    assert [tax.percent_text(v) for v in ("13", "13.00", "6.50", "0", Decimal("0.00"))] == ["13", "13", "6.5", "0", "0"]


@pytest.fixture
def orders_app(make_app):
    return make_app(plugins=["orders"])


def _rate(percent, exempt=False) -> TaxRate:
    return db.session.query(TaxRate).filter_by(percent=Decimal(percent), exempt=exempt).one()


def _setup():
    tax.seed_rates()
    customer = services.create_customer("Li Lei", "138 0013 8000")
    shirt = services.create_product("SHIRT", "Shirt", "9.99", "CNY")  # no rate: the default 13 %
    rice = services.create_product("RICE", "Rice", "20", "CNY")
    rice.tax_rate_id = _rate("9").id
    course = services.create_product("COURSE", "Course", "100", "CNY")
    course.tax_rate_id = _rate("0", exempt=True).id
    db.session.commit()
    return customer, shirt, rice, course


def _input(customer, *lines):
    return OrderInput(customer_id=customer.id, ship_line1="1 Main Road", currency="CNY", lines=list(lines))


def test_order_entry_stores_each_lines_amounts_with_mixed_rates(orders_app):
    with orders_app.test_request_context():
        customer, shirt, rice, course = _setup()
        order = services.create_order(_input(customer, LineInput(shirt.id, 3), LineInput(rice.id, 2, discount="10"),
                                             LineInput(course.id, 1), LineInput(shirt.id, 1, discount="100")))
        db.session.commit()
        got = [(str(line.tax_rate_percent), line.tax_exempt, line.net_minor, line.tax_minor, line.gross_minor,
                line.line_total_minor) for line in order.lines]
        assert got == [("13.00", False, 2652, 345, 2997, 2997),
                       ("9.00", False, 3303, 297, 3600, 3600),   # 36.00 x 9/109 = 2.972 -> 2.97
                       ("0.00", True, 10000, 0, 10000, 10000),
                       ("13.00", False, 0, 0, 0, 0)]
        assert order.prices_include_tax is True
        assert order.subtotal_minor == 3 * 999 + 2 * 2000 + 10000 + 999
        assert order.total_minor == 2997 + 3600 + 10000
        assert order.discount_minor == order.subtotal_minor - order.total_minor
        assert order.tax_minor == 345 + 297
        assert tax.tax_by_rate(order) == [(Decimal("13.00"), False, 2652, 345, 2997),
                                          (Decimal("9.00"), False, 3303, 297, 3600),
                                          (Decimal("0.00"), True, 10000, 0, 10000)]


def test_prices_excluding_tax_add_the_tax_to_the_total(orders_app):
    with orders_app.test_request_context():
        customer, shirt, rice, _course = _setup()
        site_settings.set_many({"orders.prices_include_tax": False})
        order = services.create_order(_input(customer, LineInput(shirt.id, 3), LineInput(rice.id, 1)))
        db.session.commit()
        assert [(line.net_minor, line.tax_minor, line.gross_minor) for line in order.lines] == [
            (2997, 390, 3387), (2000, 180, 2180)]
        assert order.prices_include_tax is False
        assert order.subtotal_minor == 4997 and order.discount_minor == 0
        assert order.tax_minor == 570 and order.total_minor == 4997 + 570


def test_default_rate_setting_and_no_rate_at_all(orders_app):
    with orders_app.test_request_context():
        customer, shirt, _rice, _course = _setup()
        site_settings.set_many({"orders.default_tax_rate": str(_rate("6").id)})
        order = services.create_order(_input(customer, LineInput(shirt.id, 1)))
        assert (order.lines[0].tax_rate_percent, order.lines[0].tax_minor) == (Decimal("6.00"), 57)  # 9.99x6/106
        site_settings.set_many({"orders.default_tax_rate": ""})
        order = services.create_order(_input(customer, LineInput(shirt.id, 1)))
        assert (order.lines[0].tax_rate_percent, order.lines[0].tax_minor, order.tax_minor) == (0, 0, 0)


def test_without_any_rates_orders_carry_no_tax(orders_app):
    with orders_app.test_request_context():
        customer = services.create_customer("Li Lei")
        pen = services.create_product("PEN", "Pen", "10", "CNY")
        order = services.create_order(_input(customer, LineInput(pen.id, 2)))
        assert (order.tax_minor, order.total_minor) == (0, 2000)
        assert (order.lines[0].net_minor, order.lines[0].gross_minor) == (2000, 2000)


def test_editing_keeps_the_lines_stored_rate_and_new_lines_take_the_products(orders_app):
    with orders_app.test_request_context():
        customer, shirt, rice, _course = _setup()
        order = services.create_order(_input(customer, LineInput(shirt.id, 3)))
        db.session.commit()
        line_id = order.lines[0].id
        # The catalogue moves the shirt to 6 % and the company to excluding tax: the line keeps 13 %,
        # computed as the order was entered (tax included).
        shirt.tax_rate_id = _rate("6").id
        site_settings.set_many({"orders.prices_include_tax": False})
        db.session.commit()
        changes = services.update_order(order, _input(customer, LineInput(shirt.id, 4, line_id=line_id),
                                                      LineInput(rice.id, 1)), order.version)
        db.session.commit()
        assert [(str(l.tax_rate_percent), l.net_minor, l.tax_minor, l.gross_minor) for l in order.lines] == [
            ("13.00", 3536, 460, 3996), ("9.00", 1835, 165, 2000)]
        assert order.tax_minor == 625 and order.total_minor == 5996
        assert changes["fields"]["tax"] == ("3.45", "6.25")
        # A line moved to another product takes that product's rate.
        services.update_order(order, _input(customer, LineInput(rice.id, 4, line_id=line_id)), order.version)
        db.session.commit()
        assert [(str(l.tax_rate_percent), l.tax_minor, l.gross_minor) for l in order.lines] == [("9.00", 661, 8000)]
        assert order.tax_minor == 661 and order.total_minor == 8000


def test_a_refused_order_changes_nothing(orders_app):
    with orders_app.test_request_context():
        customer, shirt, _rice, _course = _setup()
        order = services.create_order(_input(customer, LineInput(shirt.id, 3)))
        db.session.commit()
        with pytest.raises(services.OrderInvalid):
            services.update_order(order, _input(customer, LineInput(shirt.id, 0, line_id=order.lines[0].id)),
                                  order.version)
        db.session.rollback()
        db.session.refresh(order)
        assert (order.tax_minor, order.total_minor, order.lines[0].tax_minor) == (345, 2997, 345)


def test_seeding_is_once_and_names_show_translated(orders_app):
    with orders_app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert len(tax.seed_rates()) == 7
        assert tax.seed_rates() == []
        assert [str(r.percent) for r in tax.active_rates()] == ["13.00", "9.00", "6.00", "3.00", "1.00", "0.00",
                                                                "0.00"]
        assert tax.find_rate("13").percent == 13 and tax.find_rate("13%").percent == 13
        assert tax.find_rate("exempt").exempt and not tax.find_rate("0").exempt
        assert tax.find_rate("7") is None and tax.find_rate("abc") is None and tax.find_rate("") is None
        assert tax.seeded_default_rate_id() == str(_rate("13").id)
        assert tax.check_default_rate("999") and tax.check_default_rate("x") and tax.check_default_rate("") is None
