"""Every whole-number field of the API refuses fractions, booleans and text with one message
(erp_core.api.schemas.WholeNumber); none truncates 1999.99 to 1999."""

import marshmallow as ma
import pytest

from erp_core.api.schemas import ApiSchema, WholeNumber
from erp_core.testing import api_token, bearer

MESSAGE = "Not a valid whole number."


class _Sample(ApiSchema):
    n = WholeNumber()


@pytest.mark.parametrize("value", [1999.99, 1.5, True, False, "1.5", "15", "1e3", [], {}])
def test_whole_number_refuses_fractions_booleans_and_text_in_a_body(app, value):
    with app.test_request_context():
        with pytest.raises(ma.ValidationError) as caught:
            _Sample().load({"n": value})
        assert caught.value.messages == {"n": [MESSAGE]}


def test_whole_number_accepts_integers_and_whole_floats(app):
    with app.test_request_context():
        assert _Sample().load({"n": 12}) == {"n": 12}
        assert _Sample().load({"n": 2.0}) == {"n": 2}


# (method, path, body) with one field holding a fraction, for each plugin's API
ENDPOINTS = [
    ("post", "/api/v1/finance/payments", {"order_id": 1, "method": "cash", "amount_minor": 1999.99}),
    ("post", "/api/v1/finance/payments/1/refunds", {"amount_minor": 1999.99, "reason": "x"}),
    ("post", "/api/v1/finance/payments", {"order_id": 1.5, "method": "cash", "amount_minor": 100}),
    ("post", "/api/v1/logistics/shipments", {"order_id": 1, "lines": [{"order_line_id": 1, "quantity": 1.5}]}),
    ("post", "/api/v1/logistics/shipments", {"order_id": 1, "packages": 1.5}),
    ("post", "/api/v1/logistics/shipments", {"order_id": 1, "weight_grams": True}),
    ("post", "/api/v1/orders", {"customer_id": 1, "lines": [{"product_id": 1, "quantity": 1.5}]}),
    ("post", "/api/v1/products", {"sku": "A", "name": "A", "price_minor": 1999.99}),
    ("post", "/api/v1/stock-moves/receipts", {"lines": [{"product_id": 1, "quantity": 1.5}]}),
    ("post", "/api/v1/stock-moves/adjustments", {"product_id": 1, "counted": 2.5, "reason": "count"}),
    ("post", "/api/v1/returns", {"order_id": 1, "lines": [{"order_line_id": 1, "quantity": 1.5}]}),
    ("post", "/api/v1/returns/1/refund", {"amount_minor": "1999.99"}),
    ("get", "/api/v1/finance/payments?order_id=1.5", None),
    ("get", "/api/v1/logistics/shipments?page=1.5", None),
    ("get", "/api/v1/tickets?customer_id=1.5", None),
]


@pytest.mark.parametrize("method, path, body", ENDPOINTS, ids=[f"{m} {p} {sorted(b or {})}" for m, p, b in ENDPOINTS])
def test_each_api_refuses_fractions_in_whole_number_fields(app, method, path, body):
    headers = bearer(api_token(app, roles=["admin"]))
    response = app.test_client().open(path, method=method.upper(), json=body, headers=headers)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert MESSAGE in response.get_data(as_text=True)


def test_whole_numbers_in_a_query_string_still_work(app):
    headers = bearer(api_token(app, roles=["admin"]))
    client = app.test_client()
    assert client.get("/api/v1/finance/payments?order_id=1&page=1", headers=headers).status_code == 200
    assert client.get("/api/v1/logistics/shipments?page=1&per_page=5", headers=headers).status_code == 200
