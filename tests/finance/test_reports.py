"""Report numbers against hand-computed cases: rounding, currencies, local days and DST."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from erp_core import settings
from erp_core.extensions import db
from plugins.finance import reports, services
from plugins.finance.exports import read_xlsx_rows
from plugins.finance.models import Refund
from plugins.orders import services as orders
from tests.finance.conftest import make_order
from tests.helpers import QueryCounter, login, make_user

SH = ZoneInfo("Asia/Shanghai")


def at(text, tz=SH):
    """A local wall-clock time as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=tz).astimezone(UTC)


def _confirmed(order, when):
    order.confirmed_at = when
    db.session.commit()
    return order


def _refund(payment, amount, when, reason="Returned"):
    refund = services.request_refund(payment, amount, reason)
    services.approve_refund(refund)
    refund.refunded_at = when
    db.session.commit()
    return refund


@pytest.fixture
def book(fin_app):
    """The hand-computed book of March 2025 in Shanghai (UTC+8)."""
    with fin_app.test_request_context(method="POST"):
        settings.set_many({"company.timezone": "Asia/Shanghai"})
        db.session.commit()
        a = _confirmed(make_order(("348.35", 16, "4")), at("2025-03-01T10:00"))  # 5350.66 CNY
        b = _confirmed(make_order(("12345", 1, "10"), currency="JPY"), at("2025-03-01T23:30"))  # 11111 JPY
        c = _confirmed(make_order(("117.675", 3, "0"), currency="KWD"), at("2025-03-02T00:10"))  # 353.025 KWD
        d = _confirmed(make_order(("99.99", 7, "100")), at("2025-03-02T12:00"))  # 0.00 CNY
        e = _confirmed(make_order(("100", 1, "0")), at("2025-03-01T11:00"))
        orders.transition(e, "cancelled", note="changed mind")  # cancelled: no sale
        make_order(("70", 1, "0"), confirm=False)  # a draft: no sale
        db.session.commit()
        services.record_payment(a, "cash", "2000", paid_at=at("2025-03-01T12:00"))
        bank = services.record_payment(a, "bank_transfer", "3350.66", reference="B-1", paid_at=at("2025-03-02T09:00"))
        services.record_payment(b, "cash", "11111", paid_at=at("2025-03-01T23:59"))
        db.session.commit()
        _refund(bank, "100", at("2025-03-02T10:00"))
        return {"a": a.id, "b": b.id, "c": c.id, "d": d.id}


def _run(key, start="2025-03-01", end="2025-03-02", **kw):
    f = reports.Filters(start=date.fromisoformat(start), end=date.fromisoformat(end),
                        tz=kw.pop("tz", "Asia/Shanghai"), **kw)
    return reports.REPORTS[key].run(f, page=None)


def test_sales_by_local_day_per_currency(fin_app, book):
    with fin_app.test_request_context():
        rows = _run("sales").rows
        assert [(r["period"], r["currency"], r["orders"], r["sales"]) for r in rows] == [
            ("2025-03-01", "CNY", 1, 535066),   # 348.35 x 16 at 4% = 5350.656 -> 5350.66
            ("2025-03-01", "JPY", 1, 11111),    # JPY 12,345 at 10% = 11,110.5 -> 11,111
            ("2025-03-02", "CNY", 1, 0),        # 100% discount: nothing left behind
            ("2025-03-02", "KWD", 1, 353025),   # 3 decimals; 00:10 local is still March 1 in UTC
        ]
        month = _run("sales", grain="month").rows
        assert [(r["period"], r["currency"], r["sales"]) for r in month] == [
            ("2025-03", "CNY", 535066), ("2025-03", "JPY", 11111), ("2025-03", "KWD", 353025)]


def test_sales_in_utc_put_the_late_orders_on_other_days(fin_app, book):
    with fin_app.test_request_context():
        rows = _run("sales", start="2025-02-28", end="2025-03-02", tz="UTC").rows
        assert [(r["period"], r["currency"]) for r in rows] == [
            ("2025-03-01", "CNY"), ("2025-03-01", "JPY"), ("2025-03-01", "KWD"), ("2025-03-02", "CNY")]


def test_takings_and_methods(fin_app, book):
    with fin_app.test_request_context():
        rows = _run("takings").rows
        assert [(r["period"], r["currency"], r["payments"], r["received"], r["refunds"], r["refunded"], r["net"])
                for r in rows] == [
            ("2025-03-01", "CNY", 1, 200000, 0, 0, 200000),
            ("2025-03-01", "JPY", 1, 11111, 0, 0, 11111),
            ("2025-03-02", "CNY", 1, 335066, 1, 10000, 325066)]
        totals = {t["currency"]: t["net"] for t in _run("takings").totals}
        assert totals == {"CNY": 525066, "JPY": 11111}
        only_cash = _run("takings", method="cash").rows
        assert [(r["currency"], r["received"]) for r in only_cash] == [("CNY", 200000), ("JPY", 11111)]
        methods = _run("methods").rows
        assert [(r["method"], r["currency"], r["received"], r["refunded"], r["net"]) for r in methods] == [
            ("Bank transfer", "CNY", 335066, 10000, 325066), ("Cash", "CNY", 200000, 0, 200000),
            ("Cash", "JPY", 11111, 0, 11111)]


def test_products_customers_and_refunds(fin_app, book):
    with fin_app.test_request_context():
        products = _run("products").rows
        assert [(r["currency"], r["quantity"], r["revenue"]) for r in products] == [
            ("CNY", 16, 535066), ("CNY", 7, 0), ("JPY", 1, 11111), ("KWD", 3, 353025)]
        result = _run("customers")
        assert sorted((r["currency"], r["orders"], r["sales"]) for r in result.rows) == [
            ("CNY", 1, 0), ("CNY", 1, 535066), ("JPY", 1, 11111), ("KWD", 1, 353025)]
        assert result.total_rows == 4
        refunds = _run("refunds").rows
        assert [(r["period"], r["currency"], r["source"], r["refunds"], r["refunded"]) for r in refunds] == [
            ("2025-03-02", "CNY", "Entered by finance", 1, 10000)]


def test_receivables_ageing_buckets(fin_app, book):
    with fin_app.test_request_context(method="POST"):
        g = _confirmed(make_order(("500", 1, "0")), at("2024-12-01T09:00"))  # 91 days on Mar 2: over 90
        services.record_payment(g, "cash", "100", paid_at=at("2024-12-02T09:00"))
        _confirmed(make_order(("50", 1, "0")), at("2025-01-31T00:00"))  # exactly 30 days: 0-30
        _confirmed(make_order(("40", 1, "0")), at("2025-01-30T23:59"))  # 31 days: 31-60
        _confirmed(make_order(("30", 1, "0")), at("2024-12-31T23:00"))  # 61 days: 61-90
        late = _confirmed(make_order(("20", 1, "0")), at("2025-03-02T08:00"))
        services.record_payment(late, "cash", "20", paid_at=at("2025-03-03T09:00"))  # paid after the day
        db.session.commit()
        rows = _run("receivables", end="2025-03-02").rows
        assert [(r["currency"], r["bucket"], r["orders"], r["outstanding"]) for r in rows] == [
            ("CNY", "0-30", 2, 7000), ("CNY", "31-60", 1, 4000), ("CNY", "61-90", 1, 3000),
            ("CNY", "90+", 1, 40000), ("KWD", "0-30", 1, 353025)]
        later = _run("receivables", end="2025-03-03").rows  # a day older, and the late order is paid
        assert [(r["currency"], r["bucket"], r["orders"], r["outstanding"]) for r in later] == [
            ("CNY", "31-60", 2, 9000), ("CNY", "61-90", 1, 3000), ("CNY", "90+", 1, 40000), ("KWD", "0-30", 1, 353025)]


def test_days_follow_daylight_saving_time(fin_app):
    ny = ZoneInfo("America/New_York")
    with fin_app.test_request_context(method="POST"):
        settings.set_many({"company.timezone": "America/New_York"})
        db.session.commit()
        order = make_order(("1000", 1, "0"), currency="USD")
        # 2025-03-09 is 23 hours long in New York; 2025-11-02 is 25 hours long.
        for stamp, amount in [("2025-03-09T04:30:00+00:00", "1"),   # Mar 8 23:30 EST
                              ("2025-03-10T03:30:00+00:00", "2"),   # Mar 9 23:30 EDT
                              ("2025-03-10T04:30:00+00:00", "4"),   # Mar 10 00:30 EDT (a fixed -5 says Mar 9)
                              ("2025-11-03T04:30:00+00:00", "8"),   # Nov 2 23:30 EST
                              ("2025-11-02T04:30:00+00:00", "16")]:  # Nov 2 00:30 EDT
            services.record_payment(order, "cash", amount, paid_at=datetime.fromisoformat(stamp))
        db.session.commit()
        spring = _run("takings", start="2025-03-08", end="2025-03-10", tz="America/New_York").rows
        assert [(r["period"], r["received"]) for r in spring] == [("2025-03-08", 100), ("2025-03-09", 200),
                                                                  ("2025-03-10", 400)]
        autumn = _run("takings", start="2025-11-01", end="2025-11-03", tz="America/New_York").rows
        assert [(r["period"], r["received"]) for r in autumn] == [("2025-11-02", 2400)]
        weeks = _run("takings", start="2025-03-03", end="2025-03-16", grain="week", tz="America/New_York").rows
        assert [(r["period"], r["received"]) for r in weeks] == [("2025-W10", 300), ("2025-W11", 400)]
        for p in reports.periods(date(2025, 3, 8), date(2025, 3, 10), "day", "America/New_York"):
            assert p.start.astimezone(ny).hour == 0 and p.end.astimezone(ny).hour == 0


def test_periods_are_clipped_weeks_and_months():
    items = reports.periods(date(2025, 1, 30), date(2025, 3, 2), "month", "Asia/Shanghai")
    assert [(p.label, p.first.isoformat(), p.last.isoformat()) for p in items] == [
        ("2025-01", "2025-01-30", "2025-01-31"), ("2025-02", "2025-02-01", "2025-02-28"),
        ("2025-03", "2025-03-01", "2025-03-02")]
    weeks = reports.periods(date(2024, 12, 31), date(2025, 1, 6), "week", "UTC")
    assert [p.label for p in weeks] == ["2025-W01", "2025-W02"]  # ISO weeks
    assert len(reports.periods(date(2025, 1, 1), date(2025, 12, 31), "day", "UTC")) == 365


def _finance_client(app):
    client = app.test_client()
    login(client, app, make_user(app, perms=["finance.reports.view", "finance.view"]))
    return client


def test_report_page_and_exports_have_the_same_numbers(fin_app, book):
    client = _finance_client(fin_app)
    query = "start=2025-03-01&end=2025-03-02"
    page = client.get(f"/finance/reports/sales?{query}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "CN¥5,350.66" in html and "¥11,111" in html and "KWD353.025" in html.replace("\xa0", "")
    assert "confirmed" in html.lower()  # the page says what revenue means here
    exported = client.get(f"/finance/reports/sales/export.csv?{query}")
    assert exported.headers["Content-Type"] == "text/csv; charset=utf-8"  # once, not twice
    csv_rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert csv_rows[0] == ["Period", "Currency", "Orders", "Order totals", "Discounts given"]
    assert csv_rows[1:] == [["2025-03-01", "CNY", "1", "5350.66", "222.94"], ["2025-03-01", "JPY", "1", "11111", "1234"],
                            ["2025-03-02", "CNY", "1", "0.00", "699.93"], ["2025-03-02", "KWD", "1", "353.025", "0.000"]]
    xlsx = client.get(f"/finance/reports/sales/export.xlsx?{query}")
    assert xlsx.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = read_xlsx_rows(xlsx.get_data())
    assert rows[0] == csv_rows[0]
    as_numbers = [[Decimal(v) if k >= 2 else v for k, v in enumerate(row)] for row in csv_rows[1:]]
    assert [[Decimal(str(v)) if k >= 2 else v for k, v in enumerate(row)] for row in rows[1:]] == as_numbers


def test_reports_answer_in_a_bounded_number_of_statements(fin_app, book):
    client = _finance_client(fin_app)
    with fin_app.app_context():
        engine = db.engine
    for key in reports.REPORTS:
        client.get(f"/finance/reports/{key}")  # warm up
        with QueryCounter(engine) as counter:
            assert client.get(f"/finance/reports/{key}?start=2025-01-01&end=2025-12-31").status_code == 200
        assert counter.count <= 12, (key, counter.statements)


@pytest.mark.parametrize("query,message", [
    ("start=2025-13-01", "Not a date"), ("end=yesterday", "Not a date"),
    ("start=2025-03-05&end=2025-03-01", "comes after"), ("currency=XYZ", "Unknown currency"),
    ("method=bitcoin", "Unknown payment method"), ("start=1900-01-01&end=2025-01-01", "seventy years"),
    ("start=2000-01-01&end=2025-01-01&grain=day", "group by week or month"),
])
def test_bad_filters_show_a_message_and_never_fail(fin_app, query, message):
    client = _finance_client(fin_app)
    page = client.get(f"/finance/reports/takings?{query}")
    assert page.status_code == 200 and message in page.get_data(as_text=True)
    assert client.get(f"/finance/reports/takings/export.csv?{query}").status_code == 200


def test_warehouse_filter_only_when_inventory_answers(fin_app, make_app, book):
    client = _finance_client(fin_app)
    assert "warehouse-filter" not in client.get("/finance/reports/sales").get_data(as_text=True)
    from tests.finance import spy_plugin as spy

    app = make_app(plugins=["orders", "finance", "finspy=tests.finance.spy_plugin"])
    with app.test_request_context(method="POST"):
        for order_id, warehouse in ((book["a"], 1), (book["b"], 2)):
            from plugins.orders.models import Order

            db.session.get(Order, order_id).warehouse_id = warehouse
        db.session.commit()
    other = _finance_client(app)
    page = other.get("/finance/reports/sales?start=2025-03-01&end=2025-03-02&warehouse=1").get_data(as_text=True)
    assert "warehouse-filter" in page and "Shenzhen" in page
    with app.test_request_context():
        rows = _run("sales", warehouse_id=1).rows
        assert [(r["currency"], r["sales"]) for r in rows] == [("CNY", 535066)]
        assert [(r["currency"], r["received"]) for r in _run("takings", warehouse_id=2).rows] == [("JPY", 11111)]
    assert spy.WAREHOUSES


def test_unknown_report_is_404(fin_app):
    client = _finance_client(fin_app)
    assert client.get("/finance/reports/nothing").status_code == 404
    assert client.get("/finance/reports/nothing/export.csv").status_code == 404


def test_refund_rows_count_only_paid_out_refunds(fin_app, book):
    with fin_app.test_request_context(method="POST"):
        payment = db.session.query(services.Payment).filter_by(method="cash", currency="JPY").one()
        services.request_refund(payment, "100", "waiting")  # requested, not paid out
        db.session.commit()
        assert db.session.query(Refund).count() == 2
        assert [(r["currency"], r["refunded"]) for r in _run("refunds").rows] == [("CNY", 10000)]


def test_exports_never_carry_formulas(fin_app):
    from plugins.orders import services as orders

    with fin_app.test_request_context(method="POST"):
        customer = orders.create_customer('=HYPERLINK("http://evil.example","x")')
        make_order(("10", 1, "0"), customer=customer)
    client = _finance_client(fin_app)
    text = client.get("/finance/reports/customers/export.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text
    rows = read_xlsx_rows(client.get("/finance/reports/customers/export.xlsx").get_data())
    assert rows[1][0].startswith("'=HYPERLINK")


def test_receivables_of_a_warehouse_are_the_unfiltered_ones_of_its_orders(fin_app, book):
    """The warehouse filter only restricts the orders: each order owes the same as without it."""
    from collections import Counter

    from plugins.orders.models import Order

    with fin_app.test_request_context(method="POST"):
        for key, warehouse in (("a", 1), ("b", 2), ("c", 2), ("d", 1)):
            db.session.get(Order, book[key]).warehouse_id = warehouse
        db.session.commit()
        for n, (warehouse, paid) in enumerate(((1, "30"), (2, None), (2, "499.99"), (1, "500"), (None, "1"))):
            order = _confirmed(make_order(("500", 1, "0"), warehouse_id=warehouse),
                               at(f"2025-0{1 + n % 2}-1{n}T09:00"))
            if paid:
                services.record_payment(order, "cash", paid, paid_at=at("2025-03-01T09:00"))
        late = _confirmed(make_order(("80", 1, "0"), warehouse_id=2), at("2025-02-20T09:00"))
        services.record_payment(late, "cash", "80", paid_at=at("2025-03-03T09:00"))  # paid after the day
        db.session.commit()
        f = reports.Filters(start=date(2025, 3, 1), end=date(2025, 3, 2), tz="Asia/Shanghai")
        everything = reports.oldest_receivables(f, limit=1000)
        warehouse_of = dict(db.session.execute(select(Order.id, Order.warehouse_id)).all())
        assert len(everything) == 6 and {r.order_id for r in everything} >= {book["c"], late.id}
        for warehouse in (1, 2):
            mine = [r for r in everything if warehouse_of[r.order_id] == warehouse]
            wf = reports.Filters(start=f.start, end=f.end, tz=f.tz, warehouse_id=warehouse)
            assert [tuple(r) for r in reports.oldest_receivables(wf, limit=1000)] == [tuple(r) for r in mine]
            buckets = Counter()
            for r in mine:
                buckets[r.currency, "orders"] += 1
                buckets[r.currency, "outstanding"] += r.outstanding
            rows = _run("receivables", warehouse_id=warehouse).rows
            assert sum(r["orders"] for r in rows) == len(mine)
            assert {(r["currency"], k): sum(x[k] for x in rows if x["currency"] == r["currency"])
                    for r in rows for k in ("orders", "outstanding")} == dict(buckets)
