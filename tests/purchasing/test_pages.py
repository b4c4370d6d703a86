"""Purchasing pages: every page answers in both languages, forms record what they say, refusals
show with nothing changed, permissions hold (403), hostile text is escaped, lists stay bounded."""

import pytest

from erp_core.extensions import db
from erp_core.mail.models import MailMessage
from plugins.inventory import services as inv
from plugins.purchasing import services, states
from plugins.purchasing.models import PurchaseOrder, Supplier
from tests.helpers import QueryCounter, login, make_user
from tests.purchasing.common import PLUGINS, make_po, on_hand, setup_data

XSS = "<script>alert(1)</script>"


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS)


@pytest.fixture
def data(app):
    with app.test_request_context():
        data = setup_data()
        po = make_po(data)
        draft = make_po(data, send=False)
        data.update(po=po.id, draft=draft.id, lines=[line.id for line in po.lines])
        return data


def _client(app, perms=None):
    client = app.test_client()
    login(client, app, make_user(app, perms=perms or (), roles=() if perms else ("admin",)))
    return client


def _pages(data):
    return ["/purchasing/", "/purchasing/?status=open&q=PO&sort=-status", f"/purchasing/?supplier={data['supplier']}",
            "/purchasing/suppliers/", "/purchasing/suppliers/?q=acm&show=all&sort=-code",
            f"/purchasing/suppliers/{data['supplier']}", "/purchasing/suppliers/new",
            f"/purchasing/suppliers/{data['supplier']}/edit", "/purchasing/suppliers/import",
            "/purchasing/orders/new", f"/purchasing/orders/{data['draft']}/edit", f"/purchasing/orders/{data['po']}",
            f"/purchasing/orders/{data['po']}/print", f"/purchasing/orders/{data['po']}/print?lang=en",
            "/purchasing/replenishment", f"/orders/products/{data['products'][0]}", "/orders/products/", "/dashboard"]


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_every_page_answers_in_both_languages(app, data, language):
    client = _client(app)
    with client.session_transaction() as sess:
        sess["language"] = language
    for url in _pages(data):
        response = client.get(url, headers={"Accept-Language": language})
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        assert "None" not in body.replace("NoneType", ""), url
    print_zh = client.get(f"/purchasing/orders/{data['po']}/print?lang=zh_CN").get_data(as_text=True)
    assert "采购订单" in print_zh
    print_en = client.get(f"/purchasing/orders/{data['po']}/print?lang=en").get_data(as_text=True)
    assert "Purchase order" in print_en


def test_without_permission_every_route_is_403(app, data):
    client = _client(app, ["orders.view"])
    for url in _pages(data)[:15]:
        assert client.get(url).status_code == 403, url
    viewer = _client(app, ["purchasing.view"])
    posts = ["/purchasing/suppliers/new", f"/purchasing/suppliers/{data['supplier']}/terms",
             f"/purchasing/suppliers/{data['supplier']}/terms/1/remove", "/purchasing/suppliers/import",
             "/purchasing/orders/new", f"/purchasing/orders/{data['po']}/send", f"/purchasing/orders/{data['po']}/close",
             f"/purchasing/orders/{data['po']}/cancel", f"/purchasing/orders/{data['po']}/receive",
             "/purchasing/replenishment", f"/purchasing/products/{data['products'][0]}/reorder-rule"]
    for url in posts:
        assert viewer.post(url, data={"reason": "x"}).status_code == 403, url
    receiver = _client(app, ["purchasing.view", "purchasing.receive"])
    assert receiver.post(f"/purchasing/orders/{data['po']}/cancel", data={"reason": "x"}).status_code == 403
    with app.app_context():
        assert db.session.get(PurchaseOrder, data["po"]).status == states.SENT


def test_supplier_form_saves_and_refuses_with_nothing_changed(app, data):
    client = _client(app)
    response = client.post("/purchasing/suppliers/new", data={"code": "acme", "name": "Dup"})
    assert response.status_code == 422
    assert "Another supplier already has the code ACME" in response.get_data(as_text=True)
    response = client.post("/purchasing/suppliers/new", data={"code": "n1", "name": XSS, "email": "bad",
                                                              "active": "y"})
    assert response.status_code == 422 and "is not a valid e-mail address" in response.get_data(as_text=True)
    response = client.post("/purchasing/suppliers/new", data={"code": "n1", "name": XSS, "notes": XSS,
                                                              "address": XSS, "active": "y"})
    assert response.status_code == 302
    with app.app_context():
        supplier = db.session.query(Supplier).filter_by(code="N1").one()
        assert supplier.name == XSS and supplier.active
        sid = supplier.id
    for url in (f"/purchasing/suppliers/{sid}", "/purchasing/suppliers/", f"/purchasing/suppliers/{sid}/edit"):
        body = client.get(url).get_data(as_text=True)
        assert XSS not in body and "&lt;script&gt;" in body, url


def test_terms_form_and_removal(app, data):
    client = _client(app)
    sid = data["supplier"]
    response = client.post(f"/purchasing/suppliers/{sid}/terms", data={"sku": "NOPE", "price": "1"},
                           follow_redirects=True)
    assert "Unknown product code NOPE" in response.get_data(as_text=True)
    response = client.post(f"/purchasing/suppliers/{sid}/terms", data={"sku": "p-002", "price": "3.30",
                                                                      "supplier_sku": XSS, "pack_size": "12"},
                           follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "P-002 saved" in body and XSS not in body
    with app.app_context():
        terms = services.terms_of_products([data["products"][1]])[data["products"][1]][0]
        assert (terms.price_minor, terms.pack_size, terms.preferred) == (330, 12, False)
        tid = terms.id
    client.post(f"/purchasing/suppliers/{sid}/terms/{tid}/remove")
    with app.app_context():
        assert services.terms_of_products([data["products"][1]])[data["products"][1]] == []


def test_purchase_order_form_creates_a_draft_and_marks_bad_lines(app, data):
    client = _client(app)
    form = {"supplier_id": str(data["supplier"]), "warehouse_id": str(data["warehouse"]), "note": XSS,
            "lines-0-product": "P-001", "lines-0-quantity": "abc"}
    response = client.post("/purchasing/orders/new", data=form)
    assert response.status_code == 422 and "Line 1" in response.get_data(as_text=True)
    with app.app_context():
        count = db.session.query(PurchaseOrder).count()
    form["lines-0-quantity"] = "3"
    form["lines-1-product"], form["lines-1-quantity"], form["lines-1-unit_price"] = "P-002", "2", "1.25"
    response = client.post("/purchasing/orders/new", data=form)
    assert response.status_code == 302
    with app.app_context():
        po = db.session.query(PurchaseOrder).order_by(PurchaseOrder.id.desc()).first()
        assert db.session.query(PurchaseOrder).count() == count + 1
        assert [(line.quantity, line.unit_price_minor) for line in po.lines] == [(3, 450), (2, 125)]
        po_id = po.id
    body = client.get(f"/purchasing/orders/{po_id}").get_data(as_text=True)
    assert XSS not in body and "&lt;script&gt;" in body
    assert XSS not in client.get(f"/purchasing/orders/{po_id}/print").get_data(as_text=True)
    response = client.post("/purchasing/orders/new", data={"supplier_id": "", "warehouse_id": "1"})
    assert response.status_code == 422


def test_send_mails_the_supplier_in_the_chosen_language(app, data):
    client = _client(app)
    response = client.post(f"/purchasing/orders/{data['draft']}/send", data={"language": "zh_CN"},
                           follow_redirects=True)
    assert response.status_code == 200
    with app.app_context():
        po = db.session.get(PurchaseOrder, data["draft"])
        assert po.status == states.SENT
        mail = db.session.query(MailMessage).order_by(MailMessage.id.desc()).first()
        assert mail.recipients == ["buy@acme.example"] and po.number in mail.subject
        assert "采购订单" in mail.subject and "P-001" in mail.body_text and mail.language == "zh_CN"
        assert "其中税额" in mail.body_text and "其中税额" in mail.body_html


def test_receive_page_with_over_receipt_confirmation(app, data):
    client = _client(app, ["purchasing.view", "purchasing.receive"])
    first, second = data["lines"]
    url = f"/purchasing/orders/{data['po']}/receive"
    response = client.post(url, data={f"line-{first}": "4", f"seen-{first}": "0", f"line-{second}": ""})
    assert response.status_code == 302
    with app.app_context():
        assert on_hand(data["products"][0], data["warehouse"]) == 4
        assert db.session.get(PurchaseOrder, data["po"]).status == states.PARTIALLY_RECEIVED
    response = client.post(url, data={f"line-{first}": "9", f"seen-{first}": "4"})
    body = response.get_data(as_text=True)
    assert response.status_code == 409 and 'data-testid="over-receipt"' in body and "confirm_over" in body
    with app.app_context():
        assert on_hand(data["products"][0], data["warehouse"]) == 4
    # a stale confirmation (someone received meanwhile) is refused
    response = client.post(url, data={f"line-{first}": "9", f"seen-{first}": "0", "confirm_over": "1"})
    assert response.status_code == 409
    response = client.post(url, data={f"line-{first}": "9", f"seen-{first}": "4", "confirm_over": "1",
                                      f"line-{second}": "5", f"seen-{second}": "0"})
    assert response.status_code == 302
    with app.app_context():
        assert on_hand(data["products"][0], data["warehouse"]) == 13
        assert db.session.get(PurchaseOrder, data["po"]).status == states.RECEIVED
    _received_in_words(client, data)


def _received_in_words(client, data):
    history = client.get(f"/purchasing/orders/{data['po']}").get_data(as_text=True)
    assert "Goods received" in history and "P-001 × 9" in history and "Received" in history
    response = client.post(f"/purchasing/orders/{data['po']}/receive", data={f"line-{data['lines'][0]}": "x"})
    assert response.status_code == 409  # received: nothing more can be received


def test_close_and_cancel_with_reason(app, data):
    client = _client(app)
    assert client.post(f"/purchasing/orders/{data['draft']}/cancel", data={"reason": ""},
                       follow_redirects=True).status_code == 200
    with app.app_context():
        assert db.session.get(PurchaseOrder, data["draft"]).status == states.DRAFT
    client.post(f"/purchasing/orders/{data['draft']}/cancel", data={"reason": XSS})
    body = client.get(f"/purchasing/orders/{data['draft']}").get_data(as_text=True)
    assert "&lt;script&gt;" in body and XSS not in body
    with app.app_context():
        assert db.session.get(PurchaseOrder, data["draft"]).status == states.CANCELLED


def test_replenishment_page_makes_draft_orders(app, data):
    with app.app_context():
        product = services.find_product("P-003")
        services.set_reorder_rule(product, data["warehouse"], "3", "8")
        db.session.commit()
        pid = product.id
    client = _client(app)
    body = client.get("/purchasing/replenishment").get_data(as_text=True)
    assert 'data-sku="P-003"' in body and "Target 8" in body
    response = client.post("/purchasing/replenishment", data={"warehouse": str(data["warehouse"]),
                                                               "product_ids": [str(pid)]})
    assert response.status_code == 302
    with app.app_context():
        po = db.session.query(PurchaseOrder).order_by(PurchaseOrder.id.desc()).first()
        assert [(line.product_id, line.quantity) for line in po.lines] == [(pid, 8)]
    response = client.post("/purchasing/replenishment", data={"warehouse": str(data["warehouse"])},
                           follow_redirects=True)
    assert "Choose at least one suggestion" in response.get_data(as_text=True)


def test_reorder_rule_form_on_the_product_page(app, data):
    client = _client(app)
    pid = data["products"][0]
    response = client.post(f"/purchasing/products/{pid}/reorder-rule",
                           data={"warehouse_id": str(data["warehouse"]), "reorder_point": "9", "target_level": "2"},
                           follow_redirects=True)
    assert "The target level must be at least the reorder point." in response.get_data(as_text=True)
    client.post(f"/purchasing/products/{pid}/reorder-rule",
                data={"warehouse_id": str(data["warehouse"]), "reorder_point": "4", "target_level": "20"})
    with app.app_context():
        assert services.rules_for(data["warehouse"], [pid])[pid] == (4, 20, True)
    body = client.get(f"/orders/products/{pid}").get_data(as_text=True)
    assert 'data-testid="on-order"' in body and "Acme Supplies" in body


def test_csv_import_page(app, data):
    import io

    client = _client(app)
    good = io.BytesIO(b"code,name\nS-77,Seventy Seven\n")
    response = client.post("/purchasing/suppliers/import", data={"file": (good, "s.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    bad = io.BytesIO(b"code,name,colour\nS-78,X,red\n")
    response = client.post("/purchasing/suppliers/import", data={"file": (bad, "s.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "Unknown column colour" in response.get_data(as_text=True)
    assert client.post("/purchasing/suppliers/import", data={}).status_code == 422
    assert client.get("/purchasing/suppliers/import/template.csv").status_code == 200


def test_lists_make_the_same_number_of_queries_for_more_rows(app, data):
    client = _client(app)
    with app.app_context():
        engine = db.engine
    client.get("/purchasing/")
    with QueryCounter(engine) as few:
        client.get("/purchasing/")
        client.get("/purchasing/suppliers/")
        client.get("/orders/products/")
    with app.test_request_context():
        for i in range(12):
            services.save_supplier(None, services.SupplierInput(code=f"M{i}", name=f"More {i}"))
        make_po(data)
        make_po(data, quantities=(1, 2))
        db.session.commit()
    with QueryCounter(engine) as many:
        client.get("/purchasing/")
        client.get("/purchasing/suppliers/")
        client.get("/orders/products/")
    assert len(many.statements) == len(few.statements)


def test_dashboard_widget_lists_late_orders(app, data):
    from datetime import date, timedelta

    with app.app_context():
        po = db.session.get(PurchaseOrder, data["po"])
        po.lines[0].expected_date = date.today() - timedelta(days=3)
        db.session.commit()
        number = po.number
    body = _client(app).get("/dashboard").get_data(as_text=True)
    assert 'data-testid="late-po-widget"' in body and number in body


def test_switched_off_purchasing_leaves_stock_pages_alone(make_app):
    app = make_app(plugins=PLUGINS, enabled=["orders", "inventory"])
    client = _client(app)
    assert client.get("/purchasing/").status_code == 404
    assert client.get("/inventory/").status_code == 200
    with app.app_context():
        assert inv.default_warehouse() is not None
