"""CSV import of products and orders: all or nothing, with a report of every bad row."""

import io

import pytest
from sqlalchemy import func, select

from erp_core.extensions import db
from plugins.orders import services
from plugins.orders.models import Customer, Order, OrderLine, Product
from tests.orders.conftest import client_with


def _upload(client, url, text: str, encoding="utf-8", headers=None):
    data = {"file": (io.BytesIO(text.encode(encoding)), "data.csv")}
    return client.post(url, data=data, content_type="multipart/form-data", headers=headers or {})


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def importer(orders_app):
    return client_with(orders_app, perms=["orders.import", "orders.view", "orders.products.view", "orders.price.override"])


# ----------------------------------------------------------------------------- products


def test_import_products_creates_and_updates(orders_app, importer):
    with orders_app.test_request_context():
        services.create_product("TEA-1", "Old name", "1", "CNY", spec="kept")
        db.session.commit()
    text = ("sku,name,price,currency,unit,active\n"
            "tea-1,Green tea,50.00,,tin,\n"
            "BOWL-1,Tea bowl,1200,JPY,pcs,no\n"
            "DATE-1,Dates,117.675,KWD,,yes\n")
    response = _upload(importer, "/orders/products/import", text)
    assert response.status_code == 302
    assert "Products imported: 2 new, 1 updated." in importer.get(response.headers["Location"]).get_data(as_text=True)
    with orders_app.app_context():
        products = {p.sku: p for p in db.session.scalars(select(Product))}
        assert products["TEA-1"].name == "Green tea" and products["TEA-1"].spec == "kept"  # no spec column: kept
        assert products["TEA-1"].unit == "tin" and products["TEA-1"].price_minor == 5000
        assert products["BOWL-1"].price_minor == 1200 and not products["BOWL-1"].active
        assert products["DATE-1"].price_minor == 117675 and products["DATE-1"].currency == "KWD"


def test_a_bad_product_file_is_refused_whole_with_every_problem(orders_app, importer):
    text = ("sku,name,price,currency\n"
            "GOOD-1,Fine,10,CNY\n"          # row 2: fine, but must not be imported either
            "BAD-1,,10,CNY\n"               # row 3: no name
            "BAD-2,Bad price,-4,CNY\n"      # row 4
            "BAD-3,Too precise,1.001,CNY\n"  # row 5
            "GOOD-1,Again,11,CNY\n"          # row 6: code twice
            "BAD-4,Money,5,XYZ\n"            # row 7
            "has space,Code,5,CNY\n")        # row 8
    response = _upload(importer, "/orders/products/import", text)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "nothing was imported" in page
    report = page[page.index('data-testid="import-report"'):page.index('data-testid="import-columns"')]
    expected = [("3", "name", "needs a name"), ("4", "price", "must not be negative"),
                ("5", "price", "2 decimals at most"), ("6", "sku", "already on row 2"),
                ("7", "currency", "Unknown currency XYZ"), ("8", "sku", "without spaces")]
    for row, column, reason in expected:
        assert f"<tr><td>{row}</td><td><code>{column}</code></td><td>" in report and reason in report, (row, reason)
    assert report.count("<tr><td>") == len(expected)
    assert _count(orders_app, Product) == 0


@pytest.mark.parametrize("text,message", [
    ("sku,name,colour\nA,B,red\n", "Unknown column colour"),
    ("sku,name\nA,B\n", "The column price is missing"),
    ("sku,name,price,price\nA,B,1,1\n", "appears twice"),
    ("sku,name,price\n", "has a header but no rows"),
    ("", "The file is empty"),
    ("sku,name,price\nA,B,1,extra,cells\n", "more cells than the header"),
])
def test_bad_files_are_explained(orders_app, importer, text, message):
    response = _upload(importer, "/orders/products/import", text)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _count(orders_app, Product) == 0


def test_excel_files_from_china_semicolons_and_bom(orders_app, importer):
    text = "sku;name;price\nTEA-9;龙井;268\n"
    assert _upload(importer, "/orders/products/import", text, encoding="gb18030").status_code == 302
    assert _upload(importer, "/orders/products/import", "\ufeffsku,name,price\nTEA-8,碧螺春,98\n").status_code == 302
    with orders_app.app_context():
        assert {p.name for p in db.session.scalars(select(Product))} == {"龙井", "碧螺春"}


def test_import_pages_document_columns_and_offer_a_template(orders_app, importer):
    page = importer.get("/orders/products/import").get_data(as_text=True)
    assert "<code>sku</code>" in page and "<code>active</code>" in page and "template" in page
    template = importer.get("/orders/products/import/template.csv")
    assert template.status_code == 200 and "attachment" in template.headers["Content-Disposition"]
    assert template.get_data(as_text=True).lstrip("\ufeff").startswith("sku,name,price,currency,spec,unit,active")
    orders_template = importer.get("/orders/import/template.csv").get_data(as_text=True)
    assert orders_template.lstrip("\ufeff").startswith("order_ref,customer_name,")
    # the template itself imports cleanly once its products exist
    _upload(importer, "/orders/products/import", "sku,name,price\nTEA-001,Tea,128\nTEA-002,Tea 2,64\n")
    response = _upload(importer, "/orders/import", orders_template)
    assert response.status_code == 302
    assert _count(orders_app, Order) == 1 and _count(orders_app, OrderLine) == 2


def test_import_report_in_chinese(orders_app, importer):
    response = _upload(importer, "/orders/products/import", "sku,name,price\nA-1,,1\n",
                       headers={"Accept-Language": "zh-CN"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "商品需要名称" in page


# ----------------------------------------------------------------------------- orders

ORDERS_HEADER = "order_ref,customer_name,customer_phone,customer_email,ship_line1,ship_city,currency,sku,quantity,unit_price,discount\n"


@pytest.fixture
def stocked(orders_app):
    with orders_app.test_request_context():
        existing = services.create_customer("Li Lei", "138 0013 8000", "lilei@example.com")
        services.create_product("TEA-1", "Tea", "50", "CNY")
        services.create_product("CUP-1", "Cup", "8.50", "CNY")
        services.create_product("YEN-1", "Bowl", "1000", "JPY")
        db.session.commit()
        return existing.id


def test_import_orders(orders_app, importer, stocked):
    text = ORDERS_HEADER + (
        "A-1,Lei Li,13800138000,,1 Road,Shanghai,CNY,TEA-1,2,,\n"          # existing customer by phone
        "A-1,,,,,,,CUP-1,4,8,10\n"                                       # second line of A-1
        "B-7,Zhang San,139 0000 1111,zs@example.com,2 Road,Beijing,,CUP-1,1,,\n"
        "C-3,Zhang San,139 0000 1111,,3 Road,Beijing,JPY,YEN-1,3,,\n")  # same new customer again
    response = _upload(importer, "/orders/import", text)
    assert response.status_code == 302
    assert "3 orders imported as drafts" in importer.get(response.headers["Location"]).get_data(as_text=True)
    with orders_app.app_context():
        orders = db.session.scalars(select(Order).order_by(Order.id)).all()
        assert [o.customer_id for o in orders][0] == stocked
        assert [len(o.lines) for o in orders] == [2, 1, 1]
        assert orders[0].total_minor == 10000 + 2880  # 4 x 8.00 less 10%
        assert orders[2].currency == "JPY" and orders[2].total_minor == 3000
        assert orders[1].customer_id == orders[2].customer_id  # created once, then found again
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 2


def test_a_bad_order_file_changes_nothing_and_reports_every_row(orders_app, importer, stocked):
    text = ORDERS_HEADER + (
        "A-1,New Person,150 1234 5678,,1 Road,Shanghai,CNY,TEA-1,2,,\n"   # row 2: fine on its own
        "A-1,,,,,,,NOPE-9,1,,\n"                                         # row 3: unknown code
        "B-1,Other,,,2 Road,,CNY,CUP-1,0,,\n"                             # row 4: zero quantity
        "C-1,,,,3 Road,,CNY,CUP-1,1,,\n"                                  # row 5: no customer name
        "D-1,Dee,,,,,CNY,CUP-1,1,,150\n"                                  # row 6: no street; discount
        ",Eve,,,4 Road,,CNY,CUP-1,1,,\n"                                  # row 7: no reference
        "E-1,Eve,,,5 Road,,CNY,YEN-1,1,,\n"                               # row 8: priced in JPY
        "E-1,Eve,,,5 Road,,USD,TEA-1,1,,\n")                              # row 9: currency differs in one order
    response = _upload(importer, "/orders/import", text)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    report = page[page.index('data-testid="import-report"'):page.index('data-testid="import-columns"')]
    for row, column, reason in [("3", "sku", "No product has the code NOPE-9"), ("4", "quantity", "more than zero"),
                                ("5", "customer_name", "needs a name"), ("6", "ship_line1", "street line"),
                                ("6", "discount", "between 0 and 100"), ("7", "order_ref", "reference"),
                                ("9", "currency", "Differs from row 8")]:
        assert f"<tr><td>{row}</td><td><code>{column}</code></td><td>" in report and reason in report, (row, reason)
    assert _count(orders_app, Order) == 0 and _count(orders_app, OrderLine) == 0
    assert _count(orders_app, Customer) == 1  # "New Person" of row 2 was not kept either
    with orders_app.app_context():  # no order number was used up
        from erp_core.models import Counter

        assert [c.value for c in db.session.scalars(select(Counter))] in ([], [0])


def test_import_needs_its_permission(orders_app):
    client = client_with(orders_app, perms=["orders.view", "orders.create"])
    assert client.get("/orders/import").status_code == 403
    assert _upload(client, "/orders/import", ORDERS_HEADER).status_code == 403
    assert client.get("/orders/import/template.csv").status_code == 403
