"""Products' barcodes: the check digit, the product form, the CSV import and the API."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from erp_core.errors import DomainError
from erp_core.extensions import db
from plugins.orders import services
from plugins.orders.barcode import clean_barcode, is_barcode
from plugins.orders.models import Product
from tests.orders.conftest import client_with
from tests.orders.test_rest_api import API, token_for

EAN13, UPCA, EAN8 = "6901234567892", "036000291452", "96385074"


@pytest.mark.parametrize("code", [EAN13, UPCA, EAN8, "690-1234 567892"])
def test_valid_barcodes(code):
    assert is_barcode(clean_barcode(code))


@pytest.mark.parametrize("code, message", [
    ("6901234567890", "the last digit should be 2"),
    ("036000291450", "the last digit should be 2"),
    ("12345", "EAN-13"), ("69012345678９2", "EAN-13"), ("abc", "EAN-13"),
])
def test_bad_barcodes_are_refused_with_a_reason(orders_app, code, message):
    with orders_app.test_request_context(), pytest.raises(DomainError) as refused:
        clean_barcode(code)
    assert message in str(refused.value) and refused.value.field == "barcode"


def test_product_form_barcode(orders_app):
    client = client_with(orders_app, perms=["orders.products.view", "orders.products.edit"])
    data = {"sku": "TEA-1", "name": "Green tea", "price": "10", "currency": "CNY", "active": "y",
            "barcode": "6901234567890"}
    response = client.post("/orders/products/new", data=data)
    assert response.status_code == 422 and "the last digit should be 2" in response.get_data(as_text=True)
    with orders_app.app_context():
        assert db.session.scalar(select(Product.id)) is None
    assert client.post("/orders/products/new", data=dict(data, barcode=EAN13)).status_code == 302
    response = client.post("/orders/products/new", data=dict(data, sku="TEA-2"))
    assert response.status_code == 422
    response = client.post("/orders/products/new", data=dict(data, sku="TEA-2", barcode=EAN13))
    assert response.status_code == 409 and "barcode 6901234567892 is already used" in response.get_data(as_text=True)
    with orders_app.app_context():
        product = db.session.scalars(select(Product)).one()
    page = client.get(f"/orders/products/{product.id}").get_data(as_text=True)
    assert EAN13 in page and "Barcode" in page
    client.post(f"/orders/products/{product.id}/edit", data=dict(data, barcode=""))
    with orders_app.app_context():
        assert db.session.get(Product, product.id).barcode is None


def test_product_barcode_in_chinese(orders_app):
    client = client_with(orders_app, perms=["orders.products.view", "orders.products.edit"])
    client.post("/language", data={"lang": "zh_CN"})
    response = client.post("/orders/products/new", data={"sku": "T", "name": "茶", "price": "1", "currency": "CNY",
                                                         "barcode": "6901234567890"})
    assert "条码" in response.get_data(as_text=True) and "校验位" in response.get_data(as_text=True)


def test_import_products_with_barcodes(orders_app):
    client = client_with(orders_app, perms=["orders.import", "orders.products.view"])
    text = f"sku,name,price,barcode\nA-1,One,1,{EAN13}\nB-1,Two,1,{EAN8}\n"
    data = {"file": (io.BytesIO(text.encode()), "data.csv")}
    assert client.post("/orders/products/import", data=data, content_type="multipart/form-data").status_code == 302
    with orders_app.app_context():
        assert dict(db.session.execute(select(Product.sku, Product.barcode)).tuples().all()) == {"A-1": EAN13, "B-1": EAN8}
    bad = {"file": (io.BytesIO(b"sku,name,price,barcode\nC-1,Three,1,123\n"), "data.csv")}
    response = client.post("/orders/products/import", data=bad, content_type="multipart/form-data")
    assert "EAN-13" in response.get_data(as_text=True)
    with orders_app.app_context():
        assert db.session.scalar(select(Product.id).where(Product.sku == "C-1")) is None


def test_api_barcode(orders_app):
    auth = token_for(orders_app, ["orders.products.view", "orders.products.edit"])
    client = orders_app.test_client()
    created = client.post(API + "/products", json={"sku": "A", "name": "A", "price_minor": 1, "barcode": UPCA},
                          headers=auth)
    assert created.status_code == 201 and created.json["barcode"] == UPCA
    refused = client.post(API + "/products", json={"sku": "B", "name": "B", "price_minor": 1, "barcode": UPCA},
                          headers=auth)
    assert refused.status_code == 409
    bad = client.patch(API + f"/products/{created.json['id']}", json={"barcode": "036000291450"}, headers=auth)
    assert bad.status_code == 400 and "check digit" in bad.get_data(as_text=True)
    cleared = client.patch(API + f"/products/{created.json['id']}", json={"barcode": None}, headers=auth)
    assert cleared.status_code == 200 and cleared.json["barcode"] is None
    spec = client.get(API + "/openapi.json", headers=auth).json
    assert "barcode" in spec["components"]["schemas"]["Product"]["properties"]


def test_find_by_barcode(orders_app):
    with orders_app.test_request_context():
        product = services.create_product("A", "A", "1", "CNY", barcode=EAN13)
        db.session.commit()
        assert services.find_by_barcode(" 6901234567892 ").id == product.id
        assert services.find_by_barcode("nonsense") is None
