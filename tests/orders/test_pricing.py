"""Price lists, customer groups, price override, discount limits and order-level discounts."""

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from erp_core.auth.models import Role
from erp_core.extensions import db
from plugins.orders import services, tax
from plugins.orders.models import Customer, Order
from plugins.orders.services import LineInput, OrderInput, pricing
from plugins.orders.services import pricelists as pl
from tests.orders.conftest import ALL_ORDER_PERMS
from tests.orders.test_rest_api import API, order_body, token_for

NO_OVERRIDE = [p for p in ALL_ORDER_PERMS if p != "orders.price.override"]


@pytest.fixture
def wholesale(orders_app, catalogue):
    """A CNY list with INK-1 at 10.00 from 1 and 9.00 from 10, for a 'Wholesale' group of the customer."""
    with orders_app.test_request_context():
        price_list = pl.save_price_list(None, "Wholesale 2026", "CNY")
        pl.set_item(price_list, "INK-1", 1, "10")
        pl.set_item(price_list, "INK-1", 10, "9")
        group = pl.save_group(None, "Wholesale", price_list.id)
        pl.set_customer_pricing(db.session.get(Customer, catalogue.customer_id), group.id)
        db.session.commit()
        return price_list.id


def _order(catalogue, *lines, **fields):
    return services.create_order(OrderInput(customer_id=catalogue.customer_id, ship_line1="1 Road",
                                            lines=list(lines), **fields))


def test_list_price_with_quantity_breaks(orders_app, catalogue, wholesale):
    with orders_app.test_request_context():
        order = _order(catalogue, LineInput(catalogue.ink_id, 3), LineInput(catalogue.ink_id, 12),
                       LineInput(catalogue.pen_id, 1))
        assert [line.unit_price_minor for line in order.lines] == [1000, 900, 34835]


def test_own_list_wins_over_group_and_currency_and_dates_count(orders_app, catalogue, wholesale):
    with orders_app.test_request_context():
        own = pl.save_price_list(None, "VIP", "CNY")
        pl.set_item(own, "INK-1", 1, "8")
        customer = db.session.get(Customer, catalogue.customer_id)
        pl.set_customer_pricing(customer, customer.group_id, own.id)
        assert _order(catalogue, LineInput(catalogue.ink_id, 1)).lines[0].unit_price_minor == 800
        own.valid_to = pricing.today() - timedelta(days=1)  # expired: the group's applies
        assert _order(catalogue, LineInput(catalogue.ink_id, 1)).lines[0].unit_price_minor == 1000
        own.valid_to, own.currency = None, "USD"  # another currency: not used for a CNY order
        assert _order(catalogue, LineInput(catalogue.ink_id, 1)).lines[0].unit_price_minor == 1000
        db.session.get(type(own), wholesale).active = False
        assert _order(catalogue, LineInput(catalogue.ink_id, 1)).lines[0].unit_price_minor == 1200


def test_fixed_and_order_discounts_before_tax(orders_app, catalogue):
    with orders_app.test_request_context():
        order = _order(catalogue, LineInput(catalogue.ink_id, 10, discount="10", discount_amount="8"),
                       LineInput(catalogue.ink_id, 1), discount_amount="10")
        first, second = order.lines
        assert first.line_discount_minor == 800
        assert first.order_discount_minor + second.order_discount_minor == 1000
        assert first.gross_minor == 12000 * 90 // 100 - 800 - first.order_discount_minor
        assert order.total_minor == sum(line.gross_minor for line in order.lines)
        assert order.discount_minor == order.subtotal_minor - order.total_minor  # prices include tax
        assert order.order_discount_amount_minor == 1000


def test_order_discount_refusals(orders_app, catalogue):
    with orders_app.test_request_context():
        with pytest.raises(services.OrderInvalid) as exc:
            _order(catalogue, LineInput(catalogue.ink_id, 1), discount_amount="13")
        assert "discount_amount" in exc.value.errors
        with pytest.raises(services.OrderInvalid) as exc:
            _order(catalogue, LineInput(catalogue.ink_id, 1), discount_amount="1", discount_percent="5")
        assert "discount_amount" in exc.value.errors
        with pytest.raises(services.OrderInvalid) as exc:
            _order(catalogue, LineInput(catalogue.ink_id, 1, discount_amount="12.01"))
        assert "lines-0-discount_amount" in exc.value.errors


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**9), st.lists(st.integers(0, 10**7), min_size=1, max_size=30))
def test_spread_sums_exactly(amount, weights):
    amount = min(amount, sum(weights))
    shares = tax.spread(amount, weights)
    assert sum(shares) == (amount if sum(weights) else 0)
    assert all(0 <= share <= weight for share, weight in zip(shares, weights, strict=True))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 50), st.integers(0, 100000), st.integers(0, 100)), min_size=1, max_size=8),
       st.integers(0, 100), st.sampled_from([0, 6, 13]), st.booleans())
def test_order_discount_lines_add_up(lines, percent, rate, included):
    """Spread like entry does: the shares sum to the order discount; totals are the lines' sums."""
    amounts = [tax.line_amounts(q, p, d, rate, included) for q, p, d in lines]
    weights = [a.gross if included else a.net for a in amounts]
    value = int((Decimal(sum(weights)) * percent / 100).to_integral_value())
    value = min(value, sum(weights))
    shares = tax.spread(value, weights)
    final = [tax.line_amounts(q, p, d, rate, included, share) for (q, p, d), share in zip(lines, shares, strict=True)]
    assert sum(shares) == value
    assert sum(f.gross if included else f.net for f in final) == sum(weights) - value
    assert all(f.net + f.tax == f.gross for f in final)


def test_hypothesis_free_order_totals_equal_sum_of_lines(orders_app, catalogue):
    with orders_app.test_request_context():
        order = _order(catalogue, *(LineInput(catalogue.ink_id, q) for q in (1, 2, 3)), discount_percent="7")
        assert sum(line.order_discount_minor for line in order.lines) == 504  # 7 % of 72.00
        assert order.total_minor == sum(line.gross_minor for line in order.lines)
        assert order.tax_minor == sum(line.tax_minor for line in order.lines)


def test_price_override_needs_permission_form(orders_app, catalogue, wholesale):
    from tests.orders.conftest import client_with, order_form

    client = client_with(orders_app, NO_OVERRIDE)
    before = _count(orders_app)
    response = client.post("/orders/new", data=order_form(catalogue, {"product_id": catalogue.ink_id,
                                                                     "quantity": 1, "unit_price": "5"}))
    assert response.status_code == 422
    assert "You may not change the price" in response.get_data(as_text=True)
    assert _count(orders_app) == before
    ok = client.post("/orders/new", data=order_form(catalogue, {"product_id": catalogue.ink_id, "quantity": 1,
                                                              "unit_price": "10"}))
    assert ok.status_code == 302  # the list price typed again is no change


def test_price_override_api_and_discount_limit(orders_app, catalogue, wholesale):
    headers = token_for(orders_app, NO_OVERRIDE)
    body = order_body(catalogue)
    body["lines"] = [{"product_id": catalogue.ink_id, "quantity": 1, "unit_price": "5"}]
    response = orders_app.test_client().post(f"{API}/orders", json=body, headers=headers)
    assert response.status_code == 422
    assert "You may not change the price" in str(response.json)
    with orders_app.app_context():
        role = db.session.scalar(select(Role).order_by(Role.id.desc()).limit(1))  # the token user's own role
        pl.set_discount_limit(role.id, "10")
        db.session.commit()
    body["lines"] = [{"product_id": catalogue.ink_id, "quantity": 1, "discount": "15"}]
    response = orders_app.test_client().post(f"{API}/orders", json=body, headers=headers)
    assert response.status_code == 422
    assert "10%" in str(response.json)
    body["lines"] = [{"product_id": catalogue.ink_id, "quantity": 1, "discount": "5", "discount_minor": 100}]
    assert orders_app.test_client().post(f"{API}/orders", json=body, headers=headers).status_code == 422  # 13.3 %
    body["lines"] = [{"product_id": catalogue.ink_id, "quantity": 10, "discount_minor": 500}]
    body.update(discount_percent="5")
    response = orders_app.test_client().post(f"{API}/orders", json=body, headers=headers)
    assert response.status_code == 201, response.json
    data = response.json
    assert data["discount_percent"] == "5.00"
    assert data["lines"][0]["discount_minor"] == 500
    assert data["lines"][0]["order_discount_minor"] == 425  # 5 % of 85.00 (9.00 x 10 - 5.00)
    assert data["total_minor"] == 9000 - 500 - 425  # the list price from 10 up


def test_api_patch_keeps_order_discount(orders_app, catalogue):
    headers = token_for(orders_app, ALL_ORDER_PERMS)
    body = order_body(catalogue)
    body.update(lines=[{"product_id": catalogue.ink_id, "quantity": 2}], discount_minor=100)
    created = orders_app.test_client().post(f"{API}/orders", json=body, headers=headers).json
    assert created["order_discount_amount_minor"] == 100 and created["total_minor"] == 2300
    patched = orders_app.test_client().patch(f"{API}/orders/{created['id']}", headers=headers,
                                             json={"version": created["version"], "notes": "x"})
    assert patched.status_code == 200
    assert patched.json["total_minor"] == 2300
    assert "discount_minor" in orders_app.test_client().get(f"{API}/openapi.json").get_data(as_text=True)


def _count(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(Order.id)).all())


def test_csv_import_fixed_discount_and_export_order_discount(orders_app, catalogue, wholesale):
    from plugins.orders import csvio

    with orders_app.test_request_context():
        text = ("order_ref,customer_name,customer_phone,ship_line1,sku,quantity,unit_price,discount,discount_amount\n"
                "A-1,Li Lei,138 0013 8000,1 Road,INK-1,10,,,3\n")
        result = csvio.import_orders(text)
        db.session.commit()
        order = db.session.scalars(select(Order)).one()
        assert not getattr(result, "errors", None)
        assert order.lines[0].unit_price_minor == 900  # the group's list, from 10 up
        assert order.lines[0].line_discount_minor == 300
        _order(catalogue, LineInput(catalogue.ink_id, 1), discount_percent="10")
        db.session.commit()
        exported = "".join(csvio.export_orders(select(Order).order_by(Order.id)))
        header, first, second = exported.lstrip("\ufeff").strip().splitlines()
        assert header.endswith(",order_discount")
        assert first.endswith(",0.00") and second.endswith(",1.00")
