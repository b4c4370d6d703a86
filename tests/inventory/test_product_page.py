"""Inventory on orders' product pages: the stock panel (per warehouse, threshold, recent moves,
links), the threshold beside the product form, the available column of the product list (one
query per page), permissions, escaping, and orders without inventory."""

import pytest

from erp_core.extensions import db
from erp_core.testing import plugin_switched_off
from plugins.inventory import services as inv
from plugins.inventory.models import StockRule, Warehouse
from plugins.orders import services as orders
from plugins.orders import states as order_states
from plugins.orders import testing as order_testing
from plugins.orders.models import Product
from tests.helpers import QueryCounter, login, make_user
from tests.inventory.common import PLUGINS, catalogue, make_order, receive

VIEW = ["orders.products.view"]


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
        receive(main, {products[0]: 8, products[1]: 2})
        receive(north, {products[0]: 5})
        order = make_order(customer, [(products[0], 3)])
        order_testing.advance(order, order_states.CONFIRMED)
        db.session.commit()
        return {"ids": [p.id for p in products], "skus": [p.sku for p in products], "main": main.id,
                "north": north.id}


def _client(app, perms):
    client = app.test_client()
    login(client, app, make_user(app, perms=perms))
    return client


def _rule(app, product_id):
    with app.app_context():
        rule = db.session.get(StockRule, product_id)
        return (rule.low_threshold, rule.reorder_quantity) if rule else None


def test_product_page_shows_stock_per_warehouse_moves_and_links(app, setup):
    client = _client(app, VIEW + ["inventory.view", "inventory.receive", "inventory.thresholds"])
    pid, sku = setup["ids"][0], setup["skus"][0]
    page = client.get(f"/orders/products/{pid}").get_data(as_text=True)
    assert 'data-testid="product-stock"' in page and "North" in page
    # main: 8 on hand, 3 reserved, 5 available; north: 5 available; total available 10
    assert '<td class="text-end fw-semibold" data-col="available">5</td>' in page
    assert "<td class=\"text-end\">10</td>" in page  # total available in the footer
    stock_page = client.get(f"/inventory/products/{pid}").get_data(as_text=True)
    assert f'href="/orders/products/{pid}" data-testid="product-page"' in stock_page
    assert 'data-testid="recent-moves"' in page and page.count('<tr><td class="text-nowrap small">') == 3
    assert f'/inventory/receipts/new?sku={sku}' in page and f'/inventory/products/{pid}' in page
    assert 'data-testid="threshold-form"' in page and f'name="next" value="/orders/products/{pid}"' in page
    receipt = client.get(f"/inventory/receipts/new?sku={sku}").get_data(as_text=True)
    assert f'name="lines-0-sku" type="text" value="{sku}"' in receipt


def test_recent_moves_are_limited_and_link_to_the_ledger(app, setup):
    client = _client(app, VIEW + ["inventory.view"])
    pid = setup["ids"][2]
    with app.app_context():
        main = db.session.get(Warehouse, setup["main"])
        product = db.session.get(Product, pid)
        for _ in range(inv.RECENT_MOVES + 2):
            receive(main, {product: 1})
    page = client.get(f"/orders/products/{pid}").get_data(as_text=True)
    assert page.count('<tr><td class="text-nowrap small">') == inv.RECENT_MOVES
    assert 'data-testid="full-ledger"' in page
    assert 'data-testid="threshold-form"' not in page and 'data-testid="threshold"' in page  # read only
    assert 'data-testid="receive-goods"' not in page  # no inventory.receive


def test_hook_erp_product_form_panels(app, setup):
    client = _client(app, VIEW + ["orders.products.edit", "inventory.view", "inventory.thresholds"])
    pid = setup["ids"][1]
    edit = client.get(f"/orders/products/{pid}/edit").get_data(as_text=True)
    assert 'data-testid="product-form-panel"' in edit and f'name="next" value="/orders/products/{pid}/edit"' in edit
    response = client.post(f"/inventory/products/{pid}/rule", data={"low_threshold": "4", "reorder_quantity": "20",
                                                                    "next": f"/orders/products/{pid}/edit"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/orders/products/{pid}/edit")
    assert _rule(app, pid) == (4, 20)
    response = client.post(f"/inventory/products/{pid}/rule", data={"low_threshold": "-1", "reorder_quantity": "1",
                                                                    "next": "https://evil.example/"})
    assert response.headers["Location"].endswith(f"/inventory/products/{pid}")  # not to another site
    assert _rule(app, pid) == (4, 20)  # refused, nothing changed
    page = client.get(f"/orders/products/{pid}").get_data(as_text=True)
    assert 'name="low_threshold" type="number" value="4"' in page or 'value="4"' in page


def test_hook_erp_product_list_columns(app, setup):
    client = _client(app, VIEW + ["inventory.view"])
    page = client.get("/orders/products/").get_data(as_text=True)
    assert 'data-testid="product-column">Available<' in page
    for pid in setup["ids"]:
        assert f'href="/orders/products/{pid}"' in page
    assert f'<a href="/orders/products/{setup["ids"][0]}">10</a>' in page  # 13 on hand less 3 reserved
    assert "—</td>" in page  # the third product has no stock record
    with app.app_context():
        engine = db.engine
    with QueryCounter(engine) as few:
        client.get("/orders/products/")
    with app.app_context():
        for i in range(20):
            product = orders.create_product(f"Q-{i:03d}", f"More {i}", "1", "CNY")
            db.session.flush()
            receive(db.session.get(Warehouse, setup["main"]), {product: 1})
    with QueryCounter(engine) as many:
        page = client.get("/orders/products/").get_data(as_text=True)
    assert page.count('data-testid="product-column"') == 1
    levels = [st for st in many.statements if "inventory_level" in st]
    assert len(levels) == 1, levels
    assert len(many.statements) == len(few.statements)


def test_without_inventory_permission_no_stock_is_shown(app, setup):
    client = _client(app, VIEW)
    pid = setup["ids"][0]
    page = client.get(f"/orders/products/{pid}").get_data(as_text=True)
    assert client.get(f"/orders/products/{pid}").status_code == 200
    assert 'data-testid="product-stock"' not in page and 'data-testid="edit-product"' not in page
    assert "product-column" not in client.get("/orders/products/").get_data(as_text=True)
    assert client.get(f"/orders/products/{pid}/edit").status_code == 403
    assert client.post(f"/inventory/products/{pid}/rule", data={"low_threshold": "1"}).status_code == 403
    assert client.get(f"/inventory/receipts/new?sku={setup['skus'][0]}").status_code == 403
    nobody = _client(app, ["inventory.view"])
    assert nobody.get(f"/orders/products/{pid}").status_code == 403
    assert nobody.get("/orders/products/").status_code == 403


def test_script_in_the_product_name_is_escaped(app, setup):
    client = _client(app, VIEW + ["orders.products.edit", "inventory.view", "inventory.thresholds"])
    pid = setup["ids"][0]
    with app.app_context():
        product = db.session.get(Product, pid)
        product.name, product.spec = "<script>alert(1)</script>", "<b>x</b>"
        db.session.commit()
    for url in (f"/orders/products/{pid}", f"/orders/products/{pid}/edit", "/orders/products/"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in page and "<b>x</b>" not in page, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url


def test_orders_without_inventory(app, setup):
    client = _client(app, VIEW + ["orders.products.edit", "inventory.view", "inventory.thresholds"])
    pid = setup["ids"][0]
    with plugin_switched_off(app, "inventory"):
        page = client.get(f"/orders/products/{pid}").get_data(as_text=True)
        assert 'data-testid="product-details"' in page and "product-stock" not in page
        assert "product-column" not in client.get("/orders/products/").get_data(as_text=True)
        assert "product-form-panel" not in client.get(f"/orders/products/{pid}/edit").get_data(as_text=True)
    assert "product-stock" in client.get(f"/orders/products/{pid}").get_data(as_text=True)


def test_zh_cn_product_page(app, setup):
    client = _client(app, VIEW + ["inventory.view", "inventory.receive"])
    page = client.get(f"/orders/products/{setup['ids'][0]}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    for text in ("库存", "收货入库", "最近变动", "完整库存台账", "详情"):
        assert text in page, text
