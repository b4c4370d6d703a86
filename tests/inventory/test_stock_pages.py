"""The stock pages: every page answers, forms record what they say, refusals show beside the
field with nothing changed, double posts are recognised, permissions hold, lists stay bounded."""

import re

import pytest

from erp_core.extensions import db
from plugins.inventory import services as inv
from plugins.inventory.models import Document, ExpectedReceipt, Level, Move, Warehouse
from plugins.orders import services as orders
from plugins.orders.models import Order, Product
from tests.helpers import QueryCounter, login, make_user
from tests.inventory.common import PLUGINS, catalogue, make_order, receive


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS)


@pytest.fixture
def setup(app):
    with app.app_context():
        customer, products = catalogue(3)
        main = inv.default_warehouse()
        north = inv.save_warehouse(None, "N", "North")
        db.session.commit()
        return {"customer_id": customer.id, "products": [(p.id, p.sku) for p in products], "main": main.id,
                "north": north.id}


def _client(app, perms=None, roles=("admin",)):
    client = app.test_client()
    login(client, app, make_user(app, perms=perms or (), roles=() if perms else roles))
    return client


def _level(app, product_id, warehouse_id):
    with app.app_context():
        row = db.session.query(Level).filter_by(product_id=product_id, warehouse_id=warehouse_id).one_or_none()
        return (row.on_hand, row.reserved) if row else (0, 0)


def _token(page: str) -> str:
    return re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)


PAGES = ["/inventory/", "/inventory/?low=1&q=p-00&warehouse=1&sort=-available", "/inventory/moves",
         "/inventory/moves?type=receipt&warehouse=1&reference=GR-1", "/inventory/receipts/new", "/inventory/transfers/new",
         "/inventory/stocktake", "/inventory/stocktake?sku=P-001&warehouse_id=1", "/inventory/incoming",
         "/inventory/incoming?status=all", "/inventory/incoming/new?sku=P-001&quantity=4", "/inventory/replenishment",
         "/inventory/alerts?show=all", "/inventory/warehouses", "/inventory/warehouses/new", "/inventory/warehouses/1",
         "/dashboard"]


def test_every_page_answers(app, setup):
    client = _client(app)
    with app.app_context():
        receive(db.session.get(Warehouse, setup["main"]), {db.session.get(Product, setup["products"][0][0]): 5})
    for url in PAGES + ["/inventory/products/%d" % setup["products"][0][0], "/inventory/documents/1"]:
        response = client.get(url)
        assert response.status_code == 200, url
    assert client.get("/inventory/products/999").status_code == 404


def test_receipt_form_records_and_refuses_a_double_post(app, setup):
    client = _client(app)
    page = client.get("/inventory/receipts/new").get_data(as_text=True)
    token = _token(page)
    (p1, sku1), (p2, sku2), _third = setup["products"]
    data = {"warehouse_id": setup["main"], "supplier": "Acme", "token": token, "note": "",
            "lines-0-sku": sku1.lower(), "lines-0-quantity": "5", "lines-1-sku": sku2, "lines-1-quantity": "2",
            "lines-2-sku": sku1, "lines-2-quantity": "1"}
    response = client.post("/inventory/receipts/new", data=data)
    assert response.status_code == 302 and "/inventory/documents/" in response.headers["Location"]
    assert _level(app, p1, setup["main"]) == (6, 0) and _level(app, p2, setup["main"]) == (2, 0)
    again = client.post("/inventory/receipts/new", data=data, follow_redirects=True)
    assert "already sent" in again.get_data(as_text=True)
    assert _level(app, p1, setup["main"]) == (6, 0)
    with app.app_context():
        assert db.session.query(Document).count() == 1


@pytest.mark.parametrize("line,field,message", [
    ({"lines-0-sku": "NOPE", "lines-0-quantity": "1"}, "lines-0-sku", "unknown product code NOPE"),
    ({"lines-0-sku": "P-001", "lines-0-quantity": "0"}, "lines-0-quantity", "more than zero"),
    ({"lines-0-sku": "P-001", "lines-0-quantity": "2.5"}, "lines-0-quantity", "whole number"),
    ({"lines-0-sku": "P-001", "lines-0-quantity": ""}, "lines-0-quantity", "whole number"),
    ({}, None, "Add at least one line"),
])
def test_receipt_form_refuses_bad_lines_beside_the_field(app, setup, line, field, message):
    client = _client(app)
    data = {"warehouse_id": setup["main"], "token": "t-%s" % field, **line}
    response = client.post("/inventory/receipts/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message in page
    if field:
        assert re.search(r'id="%s"[^>]*' % field, page) and "is-invalid" in page
    with app.app_context():
        assert db.session.query(Move).count() == 0


def test_receipt_into_an_unknown_warehouse_is_refused(app, setup):
    client = _client(app)
    response = client.post("/inventory/receipts/new", data={"warehouse_id": "999", "token": "x",
                                                             "lines-0-sku": "P-001", "lines-0-quantity": "1"})
    assert response.status_code == 200 and "Choose a warehouse" in response.get_data(as_text=True)


def test_stocktake_and_transfer_pages(app, setup):
    client = _client(app)
    (p1, sku1), _p2, _p3 = setup["products"]
    client.post("/inventory/receipts/new", data={"warehouse_id": setup["main"], "token": "r1",
                                                 "lines-0-sku": sku1, "lines-0-quantity": "10"})
    page = client.get(f"/inventory/stocktake?sku={sku1}&warehouse_id={setup['main']}").get_data(as_text=True)
    assert "10 on hand, 0 reserved" in page
    seen = re.search(r'name="seen" type="hidden" value="(\d+)"', page).group(1)
    data = {"warehouse_id": setup["main"], "sku": sku1, "counted": "8", "reason": "", "seen": seen, "token": "s1"}
    response = client.post("/inventory/stocktake", data=data)
    assert "Give a reason" in response.get_data(as_text=True) and _level(app, p1, setup["main"]) == (10, 0)
    data["reason"] = "broken in transit"
    assert client.post("/inventory/stocktake", data=data).status_code == 302
    assert _level(app, p1, setup["main"]) == (8, 0)
    # the same count sent again: the books moved since the form was drawn
    data["token"] = "s2"
    response = client.post("/inventory/stocktake", data=data)
    assert "moved while you counted" in response.get_data(as_text=True)
    # transfer, then a transfer beyond what is available
    data = {"from_warehouse_id": setup["main"], "to_warehouse_id": setup["north"], "token": "t1",
            "lines-0-sku": sku1, "lines-0-quantity": "3"}
    assert client.post("/inventory/transfers/new", data=data).status_code == 302
    assert _level(app, p1, setup["main"]) == (5, 0) and _level(app, p1, setup["north"]) == (3, 0)
    data.update(token="t2", **{"lines-0-quantity": "6"})
    page = client.post("/inventory/transfers/new", data=data).get_data(as_text=True)
    assert "6 needed, 5 available" in page
    data.update(token="t3", to_warehouse_id=setup["main"])
    assert "two different warehouses" in client.post("/inventory/transfers/new", data=data).get_data(as_text=True)
    assert _level(app, p1, setup["main"]) == (5, 0)


def test_expected_goods_are_incoming_and_become_a_receipt(app, setup):
    client = _client(app)
    (p1, sku1), _p2, _p3 = setup["products"]
    with app.app_context():
        inv.set_rule(db.session.get(Product, p1), 10, 12)
        db.session.commit()
    page = client.get("/inventory/replenishment").get_data(as_text=True)
    assert sku1 in page and "the reorder quantity 12 covers the shortfall of 10" in page
    response = client.post("/inventory/incoming/new", data={"sku": sku1, "warehouse_id": setup["main"],
                                                            "quantity": "4", "supplier": "Acme",
                                                            "expected_date": "2030-01-31"})
    assert response.status_code == 302
    page = client.get("/inventory/replenishment").get_data(as_text=True)
    assert "incoming 4 = 4 is below the threshold of 10" in page
    bad = client.post("/inventory/incoming/new", data={"sku": sku1, "warehouse_id": setup["main"], "quantity": "4",
                                                       "expected_date": "31/01/2030"})
    assert "YYYY-MM-DD" in bad.get_data(as_text=True)
    with app.app_context():
        er_id = db.session.query(ExpectedReceipt).one().id
    assert client.post(f"/inventory/incoming/{er_id}/receive", data={"quantity": "3"}).status_code == 302
    assert _level(app, p1, setup["main"]) == (3, 0)
    again = client.post(f"/inventory/incoming/{er_id}/receive", data={"quantity": "3"}, follow_redirects=True)
    assert "no longer open" in again.get_data(as_text=True) and _level(app, p1, setup["main"]) == (3, 0)
    with app.app_context():
        er = db.session.get(ExpectedReceipt, er_id)
        assert (er.status, er.received_quantity) == ("received", 3) and er.document_id


def test_warehouse_admin(app, setup):
    client = _client(app)
    response = client.post("/inventory/warehouses/new", data={"code": "s", "name": "South", "address": "1 Road"})
    assert response.status_code == 302
    assert "already used" in client.post("/inventory/warehouses/new", data={"code": "S", "name": "x"}).get_data(as_text=True)
    assert "needs a name" in client.post("/inventory/warehouses/new", data={"code": "Q", "name": ""}).get_data(as_text=True)
    with app.app_context():
        south = db.session.query(Warehouse).filter_by(code="S").one().id
    client.post(f"/inventory/warehouses/{south}/default")
    page = client.post(f"/inventory/warehouses/{south}/deactivate", follow_redirects=True).get_data(as_text=True)
    assert "default warehouse cannot be switched off" in page
    client.post(f"/inventory/warehouses/{setup['main']}/default")
    assert client.post(f"/inventory/warehouses/{south}/deactivate").status_code == 302
    with app.app_context():
        assert not db.session.get(Warehouse, south).active
        assert [c[1] for c in app.extensions["erp_plugins"].hook.erp_warehouse_choices()] == ["Main warehouse", "North"]


def test_order_panel_and_changing_the_warehouse(app, setup):
    client = _client(app)
    (p1, sku1), (p2, sku2), _p3 = setup["products"]
    client.post("/inventory/receipts/new", data={"warehouse_id": setup["main"], "token": "r1",
                                                 "lines-0-sku": sku1, "lines-0-quantity": "5",
                                                 "lines-1-sku": sku2, "lines-1-quantity": "1"})
    with app.test_request_context():
        order = make_order(orders.get_customer(setup["customer_id"]),
                           [(db.session.get(Product, p1), 2), (db.session.get(Product, p2), 3)])
        from erp_core.web.templating import render_contributions

        hook = app.extensions["erp_plugins"].hook
        admin = type("U", (), {"username": "a"})()
        panels = [p for group in hook.erp_order_panels(order=order, user=admin) for p in group]
        html = str(render_contributions(panels)[0].html)
        assert "1 line lacks stock" in html and "2 short" in html
        order_id = order.id
    # changing to a warehouse without stock: refused for a confirmed order, allowed for a draft
    response = client.post(f"/inventory/orders/{order_id}/warehouse", data={"warehouse_id": setup["north"]},
                           follow_redirects=True)
    assert "now ships from North" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Order, order_id).warehouse_id == setup["north"]
    assert client.post(f"/inventory/orders/{order_id}/warehouse", data={"warehouse_id": "999"},
                       follow_redirects=True).status_code == 200
    with app.app_context():
        assert db.session.get(Order, order_id).warehouse_id == setup["north"]


def test_users_without_the_permission_get_403(app, setup):
    viewer = _client(app, perms=["inventory.view"])
    assert viewer.get("/inventory/").status_code == 200
    for url in ["/inventory/receipts/new", "/inventory/stocktake", "/inventory/transfers/new",
                "/inventory/incoming/new", "/inventory/warehouses"]:
        assert viewer.get(url).status_code == 403, url
    for url in ["/inventory/products/1/rule", "/inventory/orders/1/warehouse", "/inventory/incoming/1/receive",
                "/inventory/warehouses/1/default"]:
        assert viewer.post(url).status_code == 403, url
    nobody = _client(app, perms=["orders.view"])
    assert nobody.get("/inventory/").status_code == 403
    assert nobody.get("/inventory/alerts").status_code == 403


def test_pages_answer_404_when_inventory_is_switched_off(make_app):
    app = make_app(plugins=PLUGINS, enabled=["orders"])
    client = _client(app)
    assert client.get("/inventory/").status_code == 404
    assert "Low stock" not in client.get("/dashboard").get_data(as_text=True)


@pytest.mark.parametrize("url", ["/inventory/?per_page=50", "/inventory/moves?per_page=50",
                                 "/inventory/alerts?show=all&per_page=50", "/inventory/replenishment?per_page=50",
                                 "/inventory/incoming?status=all&per_page=50", "/inventory/products/1?per_page=50",
                                 "/dashboard"])
def test_list_pages_run_a_bounded_number_of_statements(app, setup, url):
    """10 or 50 rows on a page: the same statements (no N+1)."""
    client = _client(app)
    counts = []
    for round_ in range(2):
        with app.test_request_context():
            products = [orders.create_product(f"Q{round_}-{i:02d}", f"Q {i}", "1", "CNY") for i in range(25)]
            db.session.flush()
            for p in products:
                inv.set_rule(p, 5, 10)
                inv.expect_receipt(p, setup["main"], 1, "S")
            inv.receive_goods(setup["main"], {p.id: 3 for p in products})
            inv.receive_goods(setup["main"], {setup["products"][0][0]: 1})
            db.session.commit()
            engine = db.engine
        with QueryCounter(engine) as counter:
            assert client.get(url).status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
