"""Hostile review: ids, numbers and versions typed as non-ASCII digits ("²" passes str.isdigit but
not int()) or out of an INTEGER column's range answer as unknown or refused, never with a 500."""

import pytest

from tests.orders.conftest import client_with

SUP = "\u00b2"
HUGE = "99999999999999999999999"


@pytest.mark.parametrize("query", [f"product_id={SUP}", f"product_id=1&customer_id={SUP}", f"product_id={HUGE}",
                                   f"product_id=1&customer_id={HUGE}"])
def test_quote_refuses_odd_ids(orders_app, catalogue, query):
    response = client_with(orders_app).get(f"/orders/pricing/quote?{query}")
    assert response.status_code == 200
    if "customer_id" not in query:
        assert response.json == {"unit_price": "", "source": "", "price_minor": None}


@pytest.mark.parametrize("ids", [[SUP], [HUGE], ["99999999999"]])
def test_bulk_ignores_odd_ids(orders_app, catalogue, ids):
    orders_app.config["WTF_CSRF_ENABLED"] = False
    response = client_with(orders_app).post("/orders/bulk", data={"action": "confirm", "ids": ids})
    assert response.status_code == 302


def test_payment_days_refuses_odd_digits(orders_app, catalogue):
    from erp_core.errors import DomainError
    from erp_core.extensions import db
    from plugins.orders import services
    from plugins.orders.services import customers

    with orders_app.test_request_context():
        customer = services.get_customer(catalogue.customer_id)
        with pytest.raises(DomainError):
            customers.set_terms(customer, "", "net", SUP)
        with pytest.raises(DomainError):
            customers.set_owner(customer, SUP)
        db.session.rollback()


def test_order_form_with_odd_digit_product_is_refused(orders_app, catalogue, staff):
    from tests.orders.conftest import order_form

    data = order_form(catalogue, {"product_id": SUP, "quantity": "1"})
    response = staff.post("/orders/new", data=data)
    assert response.status_code == 422
    data = order_form(catalogue, {"product_id": catalogue.ink_id, "quantity": SUP})
    assert staff.post("/orders/new", data=data).status_code == 422
    data = order_form(catalogue, {"product_id": catalogue.ink_id, "quantity": "1", "line_id": SUP})
    assert staff.post("/orders/new", data=data).status_code in (302, 422)
