"""Goods on order on inventory's stock pages (inventory's ``erp_inventory_incoming``, answered
by purchasing from sent and partially received purchase orders) and available to promise."""

from datetime import date

import pytest

from erp_core.extensions import db
from plugins.inventory import services as inv
from plugins.orders import services as orders
from plugins.orders import states as order_states
from plugins.orders.public import Product
from plugins.orders.testing import make_order
from plugins.purchasing import services
from plugins.purchasing.models import PurchaseOrder
from tests.helpers import QueryCounter, login, make_user
from tests.purchasing.common import PLUGINS, setup_data

SOON, LATER = date(2026, 12, 20), date(2027, 1, 15)


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS)


def _po(data, lines, send=True):
    supplier = services.get_supplier(data["supplier"])
    po = services.create_po(supplier, data["warehouse"], [services.LineInput(*line) for line in lines])
    if send:
        services.send_po(po, "en")
    db.session.commit()
    return po


@pytest.fixture
def data(app):
    """P-001: 10 received + 4 on the partly received PO = 14 on hand, 3 reserved; sent PO of 12 due SOON, partly received PO (6 of 10 left)
    due LATER; a draft of 100 (never counted). P-002: a sent PO of 5 without a date."""
    with app.test_request_context():
        data = setup_data()
        p1, p2 = data["products"][0], data["products"][1]
        inv.receive_goods(data["warehouse"], {p1: 10})
        customer = orders.create_customer("Li Lei", "138 0013 8000")
        order = make_order([(db.session.get(Product, p1), 3)], customer=customer)
        orders.transition(order, order_states.CONFIRMED)
        db.session.commit()
        first = _po(data, [("P-001", 12, "", SOON.isoformat()), ("P-002", 5, "", "")])
        second = _po(data, [("P-001", 10, "", LATER.isoformat())])
        services.receive(second, {second.lines[0].id: 4})
        db.session.commit()
        draft = _po(data, [("P-001", 100, "", SOON.isoformat())], send=False)
        data.update(p1=p1, p2=p2, first=first.number, second=second.number, draft=draft.number,
                    first_id=first.id, second_id=second.id)
        return data


def test_hook_erp_inventory_incoming(app, data):
    with app.test_request_context():
        hook = app.extensions["erp_plugins"].hook
        answers = hook.erp_inventory_incoming(product_ids=[data["p1"], data["p2"], data["products"][2]],
                                              warehouse_id=None)
        rows = sorted(((r.product_id, r.quantity, r.expected_date, r.reference, r.warehouse_id)
                       for answer in answers for r in answer), key=lambda r: (r[0], r[3]))
        wid = data["warehouse"]
        assert rows == [(data["p1"], 12, SOON, data["first"], wid), (data["p1"], 6, LATER, data["second"], wid),
                        (data["p2"], 5, None, data["first"], wid)]  # the draft is not on order
        assert hook.erp_inventory_incoming(product_ids=[data["p1"]], warehouse_id=wid + 99) == [[]]


def test_available_to_promise(app, data):
    with app.test_request_context():
        atp = inv.available_to_promise(data["p1"])
        assert (atp.on_hand, atp.reserved, atp.available, atp.on_order, atp.undated) == (14, 3, 11, 18, 0)
        assert atp.schedule == ((SOON, 23), (LATER, 29))
        assert atp.available_by(date(2026, 12, 19)) == 11
        assert atp.available_by(SOON) == 23 and atp.available_by(date(2027, 12, 31)) == 29
        other = inv.available_to_promise(data["p2"])
        assert (other.available, other.on_order, other.undated, other.schedule) == (0, 5, 5, ())
        assert other.available_by(date(2030, 1, 1)) == 0  # undated goods are never promised
        assert inv.atp_by_product([data["products"][2]])[data["products"][2]].on_order == 0
        assert inv.available_to_promise(data["p1"], data["warehouse"] + 99).available == 0


def test_without_purchasing_nothing_is_on_order(app, data, erp_plugin_off):
    erp_plugin_off(app, "purchasing")
    with app.test_request_context():
        assert inv.incoming_by_product([data["p1"]]) is None
        atp = inv.available_to_promise(data["p1"])
        assert (atp.available, atp.on_order, atp.schedule) == (11, 0, ())
    client = app.test_client()
    login(client, app, make_user(app, roles=("admin",)))
    for url in _stock_pages(data):
        body = client.get(url).get_data(as_text=True)
        assert "On order" not in body and data["first"] not in body, url


def _stock_pages(data):
    return ["/inventory/", "/inventory/?low=1", f"/inventory/?warehouse={data['warehouse']}",
            f"/inventory/products/{data['p1']}", "/inventory/alerts?show=all", "/inventory/replenishment"]


def _low(app, data):
    with app.test_request_context():
        inv.set_rule(db.session.get(Product, data["p1"]), 50, 10)
        db.session.commit()


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_stock_pages_show_on_order_with_date_and_link(app, data, language):
    _low(app, data)
    client = app.test_client()
    login(client, app, make_user(app, roles=("admin",), locale=language))
    word = "On order" if language == "en" else "在途采购"
    for url in _stock_pages(data):
        response = client.get(url)
        body = response.get_data(as_text=True)
        assert response.status_code == 200, url
        assert word in body and f'href="/purchasing/orders/{data["first_id"]}"' in body, url
        assert data["draft"] not in body and "None" not in body, url
    product = client.get(f"/inventory/products/{data['p1']}").get_data(as_text=True)
    assert 'data-testid="atp"' in product and data["second"] in product
    assert ">11<" in product and ">23<" in product and ">29<" in product
    panel = client.get(f"/orders/products/{data['p1']}").get_data(as_text=True)
    assert 'data-testid="atp-line"' in panel and data["first"] in panel and "None" not in panel


def test_without_purchasing_view_the_po_is_named_not_linked(app, data):
    client = app.test_client()
    login(client, app, make_user(app, perms=("inventory.view",)))
    body = client.get("/inventory/").get_data(as_text=True)
    assert data["first"] in body and "/purchasing/orders/" not in body
    assert client.get(f"/purchasing/orders/{data['first_id']}").status_code == 403


def test_stock_pages_make_the_same_number_of_queries_for_more_rows(app, data):
    _low(app, data)
    client = app.test_client()
    login(client, app, make_user(app, roles=("admin",)))
    with app.app_context():
        engine = db.engine
    pages = ["/inventory/", "/inventory/alerts?show=all", "/inventory/replenishment"]
    for url in pages:
        client.get(url)
    with QueryCounter(engine) as few:
        for url in pages:
            client.get(url)
    with app.test_request_context():
        for i in range(8):
            product = orders.create_product(f"M-{i:03d}", f"More {i}", "10", "CNY")
            inv.set_rule(product, 5, 5)
        db.session.flush()
        _po(data, [(f"M-{i:03d}", 3, "", SOON.isoformat()) for i in range(8)])
        _po(data, [(f"M-{i:03d}", 2, "", "") for i in range(4)])
    with QueryCounter(engine) as many:
        for url in pages:
            client.get(url)
    assert len(many.statements) == len(few.statements)


def test_received_and_cancelled_orders_leave_on_order(app, data):
    with app.test_request_context():
        po = db.session.query(PurchaseOrder).filter_by(number=data["second"]).one()
        services.receive(po, {po.lines[0].id: 6})
        first = db.session.query(PurchaseOrder).filter_by(number=data["first"]).one()
        services.cancel_po(first, "supplier out of stock")
        db.session.commit()
        assert inv.incoming_by_product([data["p1"], data["p2"]]) == {}
        assert inv.available_to_promise(data["p1"]).available == 17
