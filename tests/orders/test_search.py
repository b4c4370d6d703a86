"""The header search's answers of orders: orders, customers and products, by permission."""

from __future__ import annotations

from erp_core.extensions import db
from erp_core.search import run_search
from plugins.orders import services
from plugins.orders.testing import make_order
from tests.helpers import QueryCounter
from tests.orders.conftest import client_with

EAN13 = "6901234567892"


def _seed(app):
    with app.test_request_context():
        customer = services.create_customer("Wang Fang <script>alert(1)</script>", "139 1234 5678",
                                            address={"line1": "1 Road"})
        services.create_product("TEA-42", "Longjing <b>tea</b>", "10", "CNY", barcode=EAN13)
        order = make_order(customer=customer, phone="139 1234 5678")
        db.session.commit()
        return order.number


def _kinds(app, perms, query):
    client = client_with(app, perms=perms)
    page = client.get("/search", query_string={"q": query})
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_hook_erp_search(orders_app):
    number = _seed(orders_app)
    from erp_core.auth.models import User
    from tests.helpers import make_user

    user_id = make_user(orders_app, perms=["orders.view", "orders.customers.view", "orders.products.view"])
    with orders_app.test_request_context():
        user = db.session.get(User, user_id)
        by_kind = {g.kind: [r.title for r in g.results] for g in run_search(number[:8], user)}
        assert number in by_kind["order"]
        by_kind = {g.kind: [r.title for r in g.results] for g in run_search("wang", user)}
        assert by_kind["customer"] == ["Wang Fang <script>alert(1)</script>"] and by_kind["order"] == [number]
        by_kind = {g.kind: [r.title for r in g.results] for g in run_search("139-1234", user)}
        assert set(by_kind) == {"order", "customer"}
        groups = run_search(EAN13, user)
        assert [(g.kind, [r.title for r in g.results]) for g in groups] == [("product", ["TEA-42"])]
        assert [g.kind for g in run_search("longjing", user)] == ["product"]
        assert run_search("tea-4", user)[0].results[0].title == "TEA-42"
        assert run_search("   ", user) == [] and run_search("nothing-like-it", user) == []


def test_search_respects_permissions(orders_app):
    number = _seed(orders_app)
    page = _kinds(orders_app, ["orders.products.view"], "wang")
    assert number not in page and "Wang Fang" not in page
    page = _kinds(orders_app, ["orders.customers.view"], number)
    assert 'data-testid="search-group-order"' not in page and "Nothing found." in page
    page = _kinds(orders_app, ["orders.view"], number)
    assert number in page and 'data-testid="search-group-order"' in page
    anonymous = orders_app.test_client().get("/search?q=x")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_search_page_escapes_results(orders_app):
    _seed(orders_app)
    page = _kinds(orders_app, ["orders.view", "orders.customers.view", "orders.products.view"], "wang")
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    page = _kinds(orders_app, ["orders.products.view"], "longjing")
    assert "<b>tea</b>" not in page and "&lt;b&gt;tea" in page
    page = _kinds(orders_app, ["orders.view"], '"><script>x</script>')
    assert "<script>x</script>" not in page and "Nothing found." in page


def test_search_box_in_header_and_chinese(orders_app):
    number = _seed(orders_app)
    client = client_with(orders_app, perms=["orders.view"])
    assert 'data-testid="header-search"' in client.get("/dashboard").get_data(as_text=True)
    client.post("/language", data={"lang": "zh_CN"})
    page = client.get("/search", query_string={"q": number}).get_data(as_text=True)
    assert "搜索" in page and "订单" in page
    assert "没有找到" in client.get("/search?q=zzzz").get_data(as_text=True)


def test_search_runs_a_fixed_number_of_statements(orders_app):
    _seed(orders_app)
    client = client_with(orders_app, perms=["orders.view", "orders.customers.view", "orders.products.view"])
    client.get("/search?q=wang")
    with orders_app.app_context():
        engine = db.engine
    with QueryCounter(engine) as few:
        client.get("/search?q=wang")
    with orders_app.test_request_context():
        for i in range(15):
            customer = services.create_customer(f"Wang {i}", address={"line1": "x"})
            make_order(customer=customer, commit=False)
        db.session.commit()
    with QueryCounter(engine) as many:
        page = client.get("/search?q=wang").get_data(as_text=True)
    assert page.count("Wang ") >= 10 and many.count == few.count
