"""Tax on pages and in the API: the tax rates page (orders.tax.manage), the product's rate and
cost, the order page's tax per rate, the products and orders API."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from erp_core import settings as site_settings
from erp_core.extensions import db
from erp_core.models import AuditLog
from plugins.orders import services, tax
from plugins.orders.models import Order, Product, TaxRate
from tests.orders.conftest import ALL_ORDER_PERMS, client_with, order_form
from tests.orders.test_rest_api import token_for

XSS = "<script>alert(1)</script>"


@pytest.fixture
def taxed(orders_app, catalogue):
    """The seeded rates; the ink at 9 %."""
    with orders_app.app_context():
        tax.seed_rates()
        ink = db.session.get(Product, catalogue.ink_id)
        ink.tax_rate_id = _rate("9").id
        db.session.commit()
    return catalogue


def _rate(percent, exempt=False) -> TaxRate:
    return db.session.scalars(select(TaxRate).where(TaxRate.percent == Decimal(percent),
                                                    TaxRate.exempt.is_(exempt))).first()


@pytest.fixture
def manager(orders_app):
    return client_with(orders_app, perms=[*ALL_ORDER_PERMS, "orders.tax.manage"])


def test_tax_pages_need_the_permission(orders_app, taxed):
    client = client_with(orders_app)  # every orders permission but orders.tax.manage
    with orders_app.app_context():
        rate_id = _rate("13").id
    for url in ("/orders/tax-rates/", "/orders/tax-rates/new", f"/orders/tax-rates/{rate_id}/edit"):
        assert client.get(url).status_code == 403, url
    assert client.post("/orders/tax-rates/new", data={"name": "X", "percent": "5"}).status_code == 403
    assert client.post(f"/orders/tax-rates/{rate_id}/deactivate").status_code == 403
    assert client.post(f"/orders/tax-rates/{rate_id}/delete").status_code == 403
    assert client.post("/orders/tax-rates/", data={"prices_include_tax": "", "default_rate": ""}).status_code == 403
    with orders_app.app_context():
        assert _rate("13").active and tax.prices_include_tax()


def test_rates_page_lists_translated_names_and_adds_a_rate(orders_app, taxed, manager):
    page = manager.get("/orders/tax-rates/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "增值税 13%" in page and "增值税免税" in page and "VAT 13%" not in page
    assert manager.get("/orders/tax-rates/").get_data(as_text=True).count('data-testid="tax-rate-row"') == 7
    response = manager.post("/orders/tax-rates/new", data={"name": XSS, "percent": "5", "position": "8"})
    assert response.status_code == 302
    page = manager.get("/orders/tax-rates/").get_data(as_text=True)
    assert XSS not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    with orders_app.app_context():
        rate = _rate("5")
        assert (rate.name, rate.active, rate.position) == (XSS, True, 8)
        entry = db.session.scalars(select(AuditLog).where(AuditLog.object_type == "tax_rate")).one()
        assert entry.action == "created" and entry.after["percent"] == "5"
        edit = manager.get(f"/orders/tax-rates/{rate.id}/edit").get_data(as_text=True)
        assert XSS not in edit


@pytest.mark.parametrize("data,message", [
    ({"name": "", "percent": "5"}, "This field is required."),
    ({"name": "Bad", "percent": "abc"}, "The rate must be a percentage, such as 13."),
    ({"name": "Bad", "percent": "-1"}, "The rate must be a percentage, such as 13."),
    ({"name": "Bad", "percent": "5.555"}, "The rate has at most two decimals."),
    ({"name": "Bad", "percent": "5", "exempt": "y"}, "An exempt rate has no percentage: leave it at 0."),
    ({"name": "Bad", "percent": "13"}, "An active rate of 13% exists already."),
    ({"name": "Bad", "percent": "5", "position": "x"}, "The position must be a whole number."),
])
def test_bad_rates_are_refused_with_a_message(orders_app, taxed, manager, data, message):
    response = manager.post("/orders/tax-rates/new", data=data)
    assert response.status_code in (409, 422)
    assert message in response.get_data(as_text=True)
    with orders_app.app_context():
        assert db.session.query(TaxRate).count() == 7


def test_a_rate_in_use_is_deactivated_not_deleted(orders_app, taxed, manager):
    with orders_app.app_context():
        nine, six, thirteen = _rate("9").id, _rate("6").id, _rate("13").id
    manager.post(f"/orders/tax-rates/{nine}/delete")
    with orders_app.app_context():
        assert db.session.get(TaxRate, nine) is not None  # the ink uses it
    assert "is in use" in manager.get("/orders/tax-rates/").get_data(as_text=True)
    manager.post(f"/orders/tax-rates/{thirteen}/deactivate")  # the default rate
    with orders_app.app_context():
        assert db.session.get(TaxRate, thirteen).active
    manager.post(f"/orders/tax-rates/{nine}/deactivate")
    manager.post(f"/orders/tax-rates/{six}/delete")
    with orders_app.app_context():
        assert not db.session.get(TaxRate, nine).active
        assert db.session.get(TaxRate, six) is None
        # the ink keeps its deactivated rate and orders of it still take 9 %
        assert tax.find_rate("9") is None
    manager.post(f"/orders/tax-rates/{nine}/activate")
    with orders_app.app_context():
        assert db.session.get(TaxRate, nine).active


def test_tax_settings_are_saved_and_checked(orders_app, taxed, manager):
    with orders_app.app_context():
        six = _rate("6").id
    response = manager.post("/orders/tax-rates/", data={"default_rate": str(six)})  # box unticked: excluding tax
    assert response.status_code == 302
    with orders_app.app_context():
        assert tax.prices_include_tax() is False and tax.default_rate_id() == six
    response = manager.post("/orders/tax-rates/", data={"prices_include_tax": "y", "default_rate": "99999"})
    assert response.status_code == 422 and "Choose an active tax rate." in response.get_data(as_text=True)
    with orders_app.app_context():
        assert tax.prices_include_tax() is False and tax.default_rate_id() == six


def test_product_form_sets_the_rate_and_cost(orders_app, taxed, staff):
    with orders_app.app_context():
        six = _rate("6").id
    page = staff.get(f"/orders/products/{taxed.pen_id}/edit").get_data(as_text=True)
    assert "Default rate (VAT 13%)" in page and "Cost price" in page
    data = {"sku": "PEN-1", "name": "Pen", "price": "348.35", "currency": "CNY", "unit": "box", "active": "y",
            "tax_rate": str(six), "cost": "200.5"}
    assert staff.post(f"/orders/products/{taxed.pen_id}/edit", data=data).status_code == 302
    page = staff.get(f"/orders/products/{taxed.pen_id}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "增值税 6%" in page and "200.50" in page
    for bad, message in (({"tax_rate": "99999"}, "Choose an active tax rate."),
                         ({"cost": "abc"}, "Cost price: not a number.")):
        response = staff.post(f"/orders/products/{taxed.pen_id}/edit", data={**data, **bad})
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    with orders_app.app_context():
        pen = db.session.get(Product, taxed.pen_id)
        assert (pen.tax_rate_id, pen.cost_minor) == (six, 20050)
        entry = db.session.scalars(select(AuditLog).where(AuditLog.object_type == "product",
                                                          AuditLog.action == "changed")).one()
        assert entry.after == {"tax_rate": "6", "cost": "200.50"}
    history = staff.get(f"/orders/products/{taxed.pen_id}").get_data(as_text=True)
    assert "6%" in history and "None" not in history
    listing = staff.get("/orders/products/").get_data(as_text=True)
    assert listing.count('data-testid="product-rate"') == 5


def test_order_page_shows_tax_per_rate(orders_app, taxed, staff):
    response = staff.post("/orders/new", data=order_form(taxed, {"product_id": taxed.pen_id, "quantity": 1},
                                                         {"product_id": taxed.ink_id, "quantity": 2}))
    assert response.status_code == 302
    with orders_app.app_context():
        order = db.session.scalars(select(Order)).one()
        assert order.tax_minor == 4008 + 198  # 348.35 x 13/113 = 40.08; 24.00 x 9/109 = 1.98
        order_id = order.id
    page = staff.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "VAT 13% on CN¥308.27 (included)" in page and "VAT 9% on CN¥22.02 (included)" in page
    assert page.count('data-testid="tax-row"') == 2 and page.count('data-testid="line-tax-rate"') == 2
    page = staff.get(f"/orders/{order_id}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "增值税 13%（已含，不含税金额 ¥308.27）" in page
    edit = staff.get(f"/orders/{order_id}/edit").get_data(as_text=True)
    assert 'data-prices-include-tax="1"' in edit and 'name="lines-1-tax_rate" value="9"' in edit


def test_products_api_reads_and_writes_tax_rate_and_cost(orders_app, taxed):
    auth = token_for(orders_app, ALL_ORDER_PERMS)
    client = orders_app.test_client()
    body = client.get(f"/api/v1/products/{taxed.ink_id}", headers=auth).json
    assert body["tax_rate"] == "9" and body["cost_minor"] is None
    assert client.get(f"/api/v1/products/{taxed.pen_id}", headers=auth).json["tax_rate"] is None
    response = client.patch(f"/api/v1/products/{taxed.pen_id}", json={"tax_rate": "exempt", "cost_minor": 100},
                            headers=auth)
    assert response.status_code == 200 and response.json["tax_rate"] == "exempt" and response.json["cost_minor"] == 100
    response = client.post("/api/v1/products", json={"sku": "TEA", "name": "Tea", "price_minor": 1000,
                                                     "tax_rate": "13"}, headers=auth)
    assert response.status_code == 201 and response.json["tax_rate"] == "13"
    for bad in ("7", "abc", "-1"):
        response = client.patch(f"/api/v1/products/{taxed.pen_id}", json={"tax_rate": bad}, headers=auth)
        assert response.status_code == 422, bad
    response = client.patch(f"/api/v1/products/{taxed.pen_id}", json={"tax_rate": None}, headers=auth)
    assert response.json["tax_rate"] is None and response.json["cost_minor"] == 100
    listing = client.get("/api/v1/products", headers=auth).json
    assert {p["sku"]: p["tax_rate"] for p in listing["items"]}["INK-1"] == "9"
    spec = client.get("/api/v1/openapi.json").json
    product = spec["components"]["schemas"]["Product"]["properties"]
    assert "tax_rate" in product and "cost_minor" in product


def test_orders_api_returns_tax(orders_app, taxed):
    auth = token_for(orders_app, ALL_ORDER_PERMS)
    client = orders_app.test_client()
    response = client.post("/api/v1/orders", json={
        "customer_id": taxed.customer_id, "ship_line1": "1 Main Road",
        "lines": [{"product_id": taxed.pen_id, "quantity": 1}, {"product_id": taxed.ink_id, "quantity": 2}]},
        headers=auth)
    assert response.status_code == 201
    body = response.json
    assert (body["subtotal_minor"], body["tax_minor"], body["total_minor"]) == (34835 + 2400, 4206, 34835 + 2400)
    assert body["prices_include_tax"] is True
    assert [(line["tax_rate"], line["tax_minor"], line["net_minor"]) for line in body["lines"]] == [
        ("13", 4008, 30827), ("9", 198, 2202)]
    listing = client.get("/api/v1/orders", headers=auth).json
    assert listing["items"][0]["tax_minor"] == 4206
    spec = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    assert "tax_minor" in spec["Order"]["properties"] and "tax_rate" in spec["OrderLine"]["properties"]


def test_deactivated_default_means_no_tax(orders_app, taxed):
    with orders_app.test_request_context():
        thirteen = _rate("13")
        thirteen.active = False
        db.session.commit()
        site_settings._stored()
        pen = db.session.get(Product, taxed.pen_id)
        assert tax.rates_for_products([pen]) == {pen.id: None}
        order = services.create_order(services.OrderInput(customer_id=taxed.customer_id, ship_line1="x",
                                                          lines=[services.LineInput(pen.id, 1)]))
        assert order.tax_minor == 0


def test_product_import_reads_rate_and_cost(orders_app, taxed):
    import io

    client = client_with(orders_app, perms=["orders.import", "orders.view", "orders.products.view"])

    def upload(text):
        return client.post("/orders/products/import", data={"file": (io.BytesIO(text.encode()), "p.csv")},
                           content_type="multipart/form-data")

    response = upload("sku,name,price,tax_rate,cost\nRICE-1,Rice,20,9,12.5\nCARD-1,Card,100,exempt,\n"
                      "INK-1,Ink,12,,\n")
    assert response.status_code == 302
    with orders_app.app_context():
        products = {p.sku: p for p in db.session.scalars(select(Product))}
        assert (products["RICE-1"].tax_rate_id, products["RICE-1"].cost_minor) == (_rate("9").id, 1250)
        assert products["CARD-1"].tax_rate_id == _rate("0", exempt=True).id and products["CARD-1"].cost_minor is None
        assert products["INK-1"].tax_rate_id == _rate("9").id  # empty: kept
    response = upload("sku,name,price,tax_rate,cost\nBAD-1,Bad,1,7,\nBAD-2,Bad,1,,x\n")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "No active tax rate is 7." in page and "Cost price: not a number." in page
    with orders_app.app_context():
        assert db.session.scalar(select(Product).where(Product.sku.like("BAD-%"))) is None
