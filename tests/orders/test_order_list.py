"""The order list: search, filters in the URL, company-local days, sorting, paging, the CSV export."""

import csv
import io
from datetime import UTC, datetime

import pytest

from erp_core import settings
from erp_core.extensions import db
from plugins.orders import services, states
from plugins.orders.models import Order
from plugins.orders.services import LineInput, OrderInput
from tests.helpers import QueryCounter
from tests.orders.conftest import client_with


def _numbers(page: str) -> list[str]:
    import re

    return re.findall(r'href="/orders/\d+">(SO-\d{4}-\d{6})</a>', page)


@pytest.fixture
def book(orders_app):
    """Four orders of three customers, at known times (company time zone: Shanghai, UTC+8)."""
    with orders_app.test_request_context():
        settings.set_many({"company.timezone": "Asia/Shanghai"})
        wang = services.create_customer("Wang Fang", "+86 21 5555 0101", "wang@example.com")
        zhao = services.create_customer("Zhao Lei", "139 1111 2222")
        han = services.create_customer("Han Meimei", "137 3333 4444")
        tea = services.create_product("TEA-1", "Green tea", "50", "CNY")
        cup = services.create_product("CUP-9", "Tea cup", "8.50", "CNY")
        made = {}
        plan = [
            ("wang_tea", wang, tea, 1, datetime(2026, 3, 1, 15, 30, tzinfo=UTC)),  # 23:30 on 1 March in Shanghai
            ("zhao_cup", zhao, cup, 10, datetime(2026, 3, 1, 16, 30, tzinfo=UTC)),  # 00:30 on 2 March
            ("han_tea", han, tea, 3, datetime(2026, 3, 5, 2, 0, tzinfo=UTC)),
            ("wang_cup", wang, cup, 2, datetime(2026, 3, 9, 2, 0, tzinfo=UTC)),
        ]
        for key, customer, product, quantity, when in plan:
            order = services.create_order(OrderInput(customer_id=customer.id, ship_line1="road", currency="CNY",
                                                     lines=[LineInput(product.id, quantity)]))
            order.created_at = when
            made[key] = order
        services.transition(made["zhao_cup"], states.CONFIRMED)
        services.transition(made["han_tea"], states.CONFIRMED)
        services.transition(made["han_tea"], states.CANCELLED, note="changed mind")
        db.session.commit()
        return {k: v.number for k, v in made.items()}


@pytest.mark.parametrize("query,expected", [
    ("", ["wang_cup", "han_tea", "zhao_cup", "wang_tea"]),
    ("q=wang", ["wang_cup", "wang_tea"]),                 # customer name
    ("q=5555%200101", ["wang_cup", "wang_tea"]),          # phone, typed with spaces
    ("q=1111-2222", ["zhao_cup"]),
    ("q=cup-9", ["wang_cup", "zhao_cup"]),                # product code on a line
    ("q=green%20TEA", ["han_tea", "wang_tea"]),          # product name
    ("q=100%25", []),                                   # wildcards are taken literally
    ("status=confirmed", ["zhao_cup"]),
    ("status=open", ["wang_cup", "zhao_cup", "wang_tea"]),
    ("from=2026-03-02&to=2026-03-02", ["zhao_cup"]),     # company-local day: 00:30 in Shanghai
    ("to=2026-03-01", ["wang_tea"]),
    ("from=2026-03-02&status=draft", ["wang_cup"]),
    ("sort=total", ["wang_cup", "wang_tea", "zhao_cup", "han_tea"]),
    ("sort=created", ["wang_tea", "zhao_cup", "han_tea", "wang_cup"]),
    ("sort=-customer", ["zhao_cup", "wang_cup", "wang_tea", "han_tea"]),
    ("sort=nonsense", ["wang_cup", "han_tea", "zhao_cup", "wang_tea"]),
])
def test_search_filter_and_sort(orders_app, book, query, expected):
    page = client_with(orders_app).get("/orders/?" + query).get_data(as_text=True)
    assert _numbers(page) == [book[k] for k in expected]


def test_the_number_is_searchable(orders_app, book):
    page = client_with(orders_app).get("/orders/?q=" + book["han_tea"][-4:]).get_data(as_text=True)
    assert book["han_tea"] in _numbers(page)


def test_bad_filters_are_explained_not_fatal(orders_app, book):
    response = client_with(orders_app).get("/orders/?from=2026-13-45&to=yesterday&status=bogus&page=x")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2026-13-45 is not a date" in page and "yesterday is not a date" in page
    assert len(_numbers(page)) == 4
    page = client_with(orders_app).get("/orders/?from=2026-03-09&to=2026-03-01").get_data(as_text=True)
    assert "The end date is before the start date." in page


def test_pages_and_filters_stay_in_the_links(orders_app, book):
    client = client_with(orders_app)
    page = client.get("/orders/?per_page=2&q=a&sort=total").get_data(as_text=True)
    assert len(_numbers(page)) == 2
    assert "page=2" in page and "q=a" in page and "per_page=2" in page
    second = client.get("/orders/?per_page=2&q=a&sort=total&page=2").get_data(as_text=True)
    assert set(_numbers(second)).isdisjoint(_numbers(page))
    assert 'href="/orders/export.csv?q=a"' in page


def test_list_runs_a_fixed_number_of_statements(orders_app, book):
    client = client_with(orders_app)
    client.get("/orders/")  # warm caches (settings, permissions)
    with orders_app.app_context():
        engine = db.engine
    with QueryCounter(engine) as few:
        client.get("/orders/?q=a&status=draft")
    with orders_app.test_request_context():
        customer = services.create_customer("Many Orders")
        product = services.create_product("BULK", "Bulk", "1", "CNY")
        for _ in range(40):
            services.create_order(OrderInput(customer_id=customer.id, ship_line1="x",
                                             lines=[LineInput(product.id, 1), LineInput(product.id, 2)]))
        db.session.commit()
    with QueryCounter(engine) as many:
        page = client.get("/orders/?q=a&status=draft").get_data(as_text=True)
    assert len(_numbers(page)) == 25
    assert many.count == few.count, many.statements


def test_export_uses_the_same_filters(orders_app, book):
    client = client_with(orders_app)
    response = client.get("/orders/export.csv?status=open&sort=number")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.is_streamed
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["number"] for r in rows] == sorted([book["wang_tea"], book["zhao_cup"], book["wang_cup"]])
    zhao = next(r for r in rows if r["number"] == book["zhao_cup"])
    assert zhao["status"] == "confirmed" and zhao["total"] == "85.00" and zhao["items"] == "CUP-9 x 10"
    assert zhao["tax"] == "0.00"  # no tax rates in this database
    assert zhao["created_at"] == "2026-03-02 00:30"  # company time
    assert zhao["customer"] == "Zhao Lei" and zhao["lines"] == "1"


def test_export_can_name_its_columns_in_the_readers_language(orders_app, book):
    client = client_with(orders_app)
    client.post("/language", data={"lang": "zh_CN"})
    named = client.get("/orders/export.csv?status=open&headings=names").get_data(as_text=True).lstrip("\ufeff")
    header = next(csv.reader(io.StringIO(named)))
    assert header[0] == "订单号" and "合计" in header and "number" not in header
    coded = client.get("/orders/export.csv?status=open").get_data(as_text=True).lstrip("\ufeff")
    assert next(csv.reader(io.StringIO(coded)))[:3] == ["number", "status", "status_label"]  # for re-reading
    assert named.splitlines()[1:] == coded.splitlines()[1:]  # the same rows either way
    assert 'data-testid="export-csv-named"' in client.get("/orders/").get_data(as_text=True)


def test_export_defuses_formulas_and_needs_permission(orders_app, book):
    with orders_app.test_request_context():
        customer = services.create_customer("=HYPERLINK(\"http://evil\")")
        product = services.create_product("F-1", "x", "1", "CNY")
        services.create_order(OrderInput(customer_id=customer.id, ship_line1="@SUM(1)", lines=[LineInput(product.id, 1)]))
        db.session.commit()
    text = client_with(orders_app).get("/orders/export.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text and "'@SUM(1)" in text
    assert client_with(orders_app, perms=["orders.view"]).get("/orders/export.csv").status_code == 403


def test_export_streams_in_batches(orders_app, book):
    from plugins.orders import csvio, queries

    with orders_app.test_request_context("/orders/export.csv"):
        stmt = queries.order_select(queries.OrderFilter())
        with QueryCounter(db.engine) as counted:
            chunks = list(csvio.export_orders(stmt.order_by(Order.id), batch=2))
    assert len(chunks) == 1 + 2  # the header, then one chunk per batch of two orders
    assert sum(chunk.count("\n") for chunk in chunks) == 5
    assert counted.count <= 1 + 2  # the orders, then the lines of each batch in one statement


@pytest.mark.parametrize("args", [{}, {"q": "wang"}, {"q": "cup-9"}, {"q": "1111-2222"}, {"status": "open"},
                                  {"status": "cancelled"}, {"from": "2026-03-02", "to": "2026-03-02"},
                                  {"status": "draft", "from": "2026-03-02"}, {"q": "100%"}])
def test_page_count_is_the_number_of_rows_and_joins_customers_only_to_search(orders_app, book, args):
    """The list counts its rows with a cheaper statement (no customer join unless searching):
    the total shown is still exactly the number of matching orders."""
    from plugins.orders import queries

    with orders_app.test_request_context():
        f = queries.OrderFilter.from_args(args)
        rows = len(db.session.scalars(queries.order_select(f)).unique().all())
        count = queries.order_count(f)
        assert db.session.scalar(count) == rows
        assert ("orders_customer" in str(count)) == bool(args.get("q"))
    from urllib.parse import urlencode

    page = client_with(orders_app).get("/orders/?per_page=2&" + urlencode(args)).get_data(as_text=True)
    assert len(_numbers(page)) == min(rows, 2)
    if rows:
        import re

        assert f"of {rows}" in page and bool(re.search(r"[?;]page=2\b", page)) == (rows > 2)
