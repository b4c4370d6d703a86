"""Output tax by rate and month, gross margin (product, customer, month) and the accounting export,
against a hand-computed book: local months in Shanghai, exempt and 0 % lines, products without a
cost price, costs in another currency, permissions, exports, both languages and hostile names."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from erp_core import settings
from erp_core.extensions import db
from plugins.finance import reports, services
from plugins.finance.exports import read_xlsx_rows
from plugins.finance.models import Invoice
from plugins.finance.reports_margin import margin_percent
from plugins.finance.reports_tax import check_account_code, rate_label
from plugins.orders import services as orders
from plugins.orders.channels import DEFAULT_LIST as DEFAULT_CHANNELS
from plugins.orders.public import Product
from tests.finance.conftest import make_order
from tests.helpers import QueryCounter, login, make_user

SH = ZoneInfo("Asia/Shanghai")
XSS = "<script>alert('x')</script>"
SELLER = {"company.legal_name": "茗香茶具商行有限公司", "company.address": "上海市黄浦区南京东路 1 号",
          "finance.invoice.taxpayer_id": "91310000MA1FL8XQ37"}
NEW_REPORTS = ("output_tax", "accounting", "margin_products", "margin_customers", "margin_months")


def at(text, tz=SH):
    return datetime.fromisoformat(text).replace(tzinfo=tz).astimezone(UTC)


def _book_order(lines, taxes, when, *, currency="CNY", customer=None, costs=()):
    """An order confirmed at ``when`` whose lines store ``taxes`` = (percent, exempt, net, tax, gross)
    as the tax rule stored them; ``costs`` are the products' cost prices (None: unknown, or
    (cost, currency) for a cost in another currency)."""
    order = make_order(*lines, currency=currency, customer=customer)
    for line, (percent, exempt, net, tax, gross), cost in zip(sorted(order.lines, key=lambda x: x.position), taxes,
                                                              list(costs) + [None] * len(taxes), strict=False):
        assert line.line_total_minor == gross  # the hand-computed book agrees with the order
        line.tax_rate_percent, line.tax_exempt = Decimal(percent), exempt
        line.net_minor, line.tax_minor, line.gross_minor = net, tax, gross
        product = db.session.get(Product, line.product_id)
        product.cost_minor, product.currency = (cost if isinstance(cost, tuple) else (cost, currency))
    order.tax_minor = sum(t[3] for t in taxes)
    order.confirmed_at = when
    db.session.commit()
    return order


@pytest.fixture
def book(fin_app):
    with fin_app.test_request_context(method="POST"):
        settings.set_many({"company.timezone": "Asia/Shanghai"})
        db.session.commit()
        wang = orders.create_customer(XSS)
        # 3 x 9.99 at 13 % incl. = 29.97 with 3.45 tax; 2 x 10.90 at 9 % = 21.80 with 1.80 tax
        a = _book_order([("9.99", 3, "0"), ("10.90", 2, "0")], [("13", False, 2652, 345, 2997),
                                                              ("9", False, 2000, 180, 2180)],
                        at("2025-03-01T10:00"), customer=wang, costs=[500, None])
        # exempt, sold below cost; 23:30 on March 31 in Shanghai is still March
        _book_order([("100", 1, "0")], [("0", True, 10000, 0, 10000)], at("2025-03-31T23:30"), customer=wang,
                    costs=[12000])
        # 00:10 on April 1 in Shanghai (16:10 UTC on March 31); the cost is in USD: unknown for CNY
        _book_order([("100", 1, "0")], [("13", False, 8850, 1150, 10000)], at("2025-04-01T00:10"),
                    costs=[(6000, "USD")])
        _book_order([("1130", 1, "0")], [("13", False, 1000, 130, 1130)], at("2025-03-15T12:00"), currency="JPY",
                    costs=[800])
        cancelled = _book_order([("50", 1, "0")], [("13", False, 4425, 575, 5000)], at("2025-03-10T09:00"))
        orders.transition(cancelled, "cancelled", note="changed mind")
        make_order(("70", 1, "0"), confirm=False)  # a draft: no sale
        db.session.commit()
        services.record_payment(a, "cash", "51.77", paid_at=at("2025-03-01T12:00"))
        settings.set_many(SELLER)
        services.invoices.issue_invoice(a)
        db.session.commit()
        # paid out, the refund gets its credit note: 10.00 split 5.79 at 13 % (0.67 tax), 4.21 at 9 % (0.35)
        refund = services.request_refund(db.session.query(services.Payment).one(), "10", "Dented")
        services.approve_refund(refund)
        refund.refunded_at = at("2025-03-02T10:00")
        note = db.session.query(Invoice).filter_by(kind="credit_note").one()
        note.issued_at = at("2025-04-02T10:00")  # credited in April
        db.session.commit()
        return {"a": a.id}


def _run(key, start="2025-03-01", end="2025-04-30", **kw):
    f = reports.Filters(start=date.fromisoformat(start), end=date.fromisoformat(end),
                        tz=kw.pop("tz", "Asia/Shanghai"), **kw)
    return reports.REPORTS[key].run(f, page=None)


def _client(app, *perms):
    client = app.test_client()
    login(client, app, make_user(app, perms=list(perms)))
    return client


def test_output_tax_by_local_month_and_rate(fin_app, book):
    with fin_app.test_request_context():
        result = _run("output_tax")
        assert [(r["period"], r["currency"], r["rate"], r["lines"], r["net"], r["tax"], r["gross"],
                 r["credited_net"], r["credited_tax"], r["tax_due"]) for r in result.rows] == [
            ("2025-03", "CNY", "13%", 1, 2652, 345, 2997, 0, 0, 345),
            ("2025-03", "CNY", "9%", 1, 2000, 180, 2180, 0, 0, 180),
            ("2025-03", "CNY", "Tax exempt", 1, 10000, 0, 10000, 0, 0, 0),
            ("2025-03", "JPY", "13%", 1, 1000, 130, 1130, 0, 0, 130),
            ("2025-04", "CNY", "13%", 1, 8850, 1150, 10000, 512, 67, 1083),  # the credit note's month
            ("2025-04", "CNY", "9%", 0, 0, 0, 0, 386, 35, -35),
        ]
        assert [(t["currency"], t["net"], t["tax"], t["gross"], t["credited_tax"], t["tax_due"])
                for t in result.totals] == [("CNY", 23502, 1675, 25177, 102, 1573), ("JPY", 1000, 130, 1130, 0, 130)]
        assert result.notes and "Credit notes are deducted" in result.notes[0]
        march = _run("output_tax", end="2025-03-31").rows
        assert sum(r["credited_tax"] for r in march) == 0
        # in UTC the order of 00:10 on April 1 belongs to March
        utc = _run("output_tax", tz="UTC").rows
        assert [(r["period"], r["rate"], r["net"], r["tax"]) for r in utc if r["currency"] == "CNY"] == [
            ("2025-03", "13%", 11502, 1495), ("2025-03", "9%", 2000, 180), ("2025-03", "Tax exempt", 10000, 0),
            ("2025-04", "13%", 0, 0), ("2025-04", "9%", 0, 0)]
        only_jpy = _run("output_tax", currency="JPY").rows
        assert [(r["currency"], r["tax"]) for r in only_jpy] == [("JPY", 130)]
        assert _run("output_tax", start="2025-05-01", end="2025-05-31").rows == []


def test_margin_by_product_counts_unknown_costs_apart(fin_app, book):
    with fin_app.test_request_context():
        result = _run("margin_products")
        found = {(r["product"], r["currency"]): r for r in result.rows}
        assert len(result.rows) == 5 and result.total_rows == 5
        rows = [(r["currency"], r["quantity"], r["net"], r["cost"], r["margin"], r["margin_percent"],
                 r["unknown_lines"], r["unknown_net"]) for r in result.rows]
        assert rows == [
            ("CNY", 3, 2652, 1500, 1152, Decimal("43.4"), 0, 0),        # 3 x 5.00 cost
            ("CNY", 2, 2000, 0, 0, None, 1, 2000),                     # no cost price: not 100 %
            ("CNY", 1, 8850, 0, 0, None, 1, 8850),                     # cost in USD: unknown for CNY
            ("CNY", 1, 10000, 12000, -2000, Decimal("-20.0"), 0, 0),   # sold below cost
            ("JPY", 1, 1000, 800, 200, Decimal("20.0"), 0, 0),
        ]
        assert all(key[0] for key in found)
        cny = result.totals[0]
        assert (cny["currency"], cny["net"], cny["cost"], cny["margin"], cny["margin_percent"], cny["unknown_lines"],
                cny["unknown_net"]) == ("CNY", 23502, 13500, -848, Decimal("-6.7"), 2, 10850)


def test_margin_by_customer_and_by_month(fin_app, book):
    with fin_app.test_request_context():
        customers = _run("margin_customers").rows
        wang = [r for r in customers if r["customer"] == XSS]
        assert [(r["net"], r["cost"], r["margin"], r["unknown_lines"]) for r in wang] == [
            (14652, 13500, -848, 1)]
        months = _run("margin_months")
        assert [(r["period"], r["currency"], r["net"], r["margin"], r["margin_percent"], r["unknown_net"])
                for r in months.rows] == [
            ("2025-03", "CNY", 14652, -848, Decimal("-6.7"), 2000),
            ("2025-03", "JPY", 1000, 200, Decimal("20.0"), 0),
            ("2025-04", "CNY", 8850, 0, None, 8850),
        ]
        assert [(t["currency"], t["net"], t["margin"]) for t in months.totals] == [("CNY", 23502, -848),
                                                                                   ("JPY", 1000, 200)]


def test_margin_percent_rule():
    assert margin_percent(1152, 2652) == Decimal("43.4")
    assert margin_percent(1, 8) == Decimal("12.5")
    assert margin_percent(-848, 12652) == Decimal("-6.7")
    assert margin_percent(0, 0) is None


def test_accounting_export_per_day_with_account_codes(fin_app, book):
    with fin_app.test_request_context(method="POST"):
        rows = [(r["period"], r["currency"], r["account"], r["amount"]) for r in _run("accounting").rows]
        assert rows == [
            ("2025-03-01", "CNY", "6001", 4652), ("2025-03-01", "CNY", "22210102", 525),
            ("2025-03-01", "CNY", "1002", 5177),
            ("2025-03-02", "CNY", "1002", 1000),
            ("2025-03-15", "JPY", "6001", 1000), ("2025-03-15", "JPY", "22210102", 130),
            ("2025-03-31", "CNY", "6001", 10000),
            ("2025-04-01", "CNY", "6001", 8850), ("2025-04-01", "CNY", "22210102", 1150),
            ("2025-04-02", "CNY", "6001", -898), ("2025-04-02", "CNY", "22210102", -102),  # the credit note
        ]
        entries = [r["entry"] for r in _run("accounting", end="2025-03-02").rows]
        assert entries == ["Sales (net of tax)", "Output tax", "Receipts", "Refunds paid out"]
        settings.set_many({"finance.account.sales": "6001.01", "finance.account.refunds": "1002-2"})
        db.session.commit()
        monthly = [(r["period"], r["account"], r["amount"]) for r in _run("accounting", grain="month").rows
                   if r["currency"] == "CNY"]
        assert monthly == [("2025-03", "6001.01", 14652), ("2025-03", "22210102", 525), ("2025-03", "1002", 5177),
                           ("2025-03", "1002-2", 1000), ("2025-04", "6001.01", 7952), ("2025-04", "22210102", 1048)]


@pytest.mark.parametrize("code,ok", [("6001", True), ("2221.01", True), ("A-100", True), ("", False),
                                     ("60 01", False), ("-6001", False), ("1" * 21, False), (XSS, False),
                                     ("应交税费", False)])
def test_account_codes_are_checked(fin_app, code, ok):
    with fin_app.test_request_context():
        assert (check_account_code(code) is None) is ok


def test_account_codes_on_the_settings_page(fin_app):
    admin = fin_app.test_client()
    login(admin, fin_app, make_user(fin_app, roles=["admin"]))
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert "Accounting export" in page and 'value="22210102"' in page
    data = {"company__name": "ACME", "company__timezone": "Asia/Shanghai", "company__currency": "CNY",
            "company__locale": "", "finance__online_payment_expiry_minutes": "30", "finance__account__sales": "60 01",
            "finance__account__tax": "2221", "finance__account__receipts": "1002", "finance__account__refunds": "1002",
            "orders__channels": DEFAULT_CHANNELS}
    response = admin.post("/admin/settings", data=data)
    assert response.status_code == 200
    assert "Type an account code" in response.get_data(as_text=True)
    with fin_app.app_context():
        assert settings.get("finance.account.tax") == "22210102"  # nothing saved
    data["finance__account__sales"] = "6001"
    assert admin.post("/admin/settings", data=data).status_code == 302
    with fin_app.app_context():
        assert settings.get("finance.account.tax") == "2221"


def test_pages_exports_and_permissions(fin_app, book):
    client = _client(fin_app, "finance.reports.view", "finance.view")
    query = "start=2025-03-01&end=2025-04-30"
    for key in NEW_REPORTS:
        page = client.get(f"/finance/reports/{key}?{query}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200, key
        assert XSS not in html and "None" not in html, key
        assert client.get(f"/finance/reports/{key}/export.csv?{query}").status_code == 200
        assert client.get(f"/finance/reports/{key}/export.xlsx?{query}").status_code == 200
    assert "&lt;script&gt;alert(" in client.get(f"/finance/reports/margin_customers?{query}").get_data(as_text=True)
    html = client.get(f"/finance/reports/margin_products?{query}").get_data(as_text=True)
    assert "43.4%" in html and "—" in html
    index = client.get("/finance/reports").get_data(as_text=True)
    assert all(f"/finance/reports/{key}" in index for key in NEW_REPORTS)
    outsider = _client(fin_app, "finance.view")
    for key in NEW_REPORTS:
        assert outsider.get(f"/finance/reports/{key}").status_code == 403
        assert outsider.get(f"/finance/reports/{key}/export.csv").status_code == 403


def test_exports_have_the_numbers_of_the_page(fin_app, book):
    client = _client(fin_app, "finance.reports.view")
    query = "start=2025-03-01&end=2025-04-30"
    text = client.get(f"/finance/reports/output_tax/export.csv?{query}").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Period", "Currency", "Tax rate", "Order lines", "Net amount", "Output tax", "Amount incl. tax",
                       "Credit notes: net", "Credit notes: tax", "Output tax less credit notes"]
    assert rows[1] == ["2025-03", "CNY", "13%", "1", "26.52", "3.45", "29.97", "0.00", "0.00", "3.45"]
    assert rows[4] == ["2025-03", "JPY", "13%", "1", "1000", "130", "1130", "0", "0", "130"]
    assert rows[6] == ["2025-04", "CNY", "9%", "0", "0.00", "0.00", "0.00", "3.86", "0.35", "-0.35"]
    margin = list(csv.reader(io.StringIO(client.get(f"/finance/reports/margin_products/export.csv?{query}")
                                         .get_data(as_text=True).lstrip("\ufeff"))))
    assert margin[1][4:] == ["26.52", "15.00", "11.52", "43.4", "0", "0.00"]
    assert margin[2][4:] == ["20.00", "0.00", "0.00", "", "1", "20.00"]
    sheet = read_xlsx_rows(client.get(f"/finance/reports/margin_products/export.xlsx?{query}").get_data())
    assert sheet[1][4:8] == [Decimal("26.52"), Decimal("15"), Decimal("11.52"), Decimal("43.4")]
    assert sheet[2][7] in (None, "")
    accounting = list(csv.reader(io.StringIO(client.get(f"/finance/reports/accounting/export.csv?{query}")
                                             .get_data(as_text=True).lstrip("\ufeff"))))
    assert accounting[0] == ["Period", "Currency", "Entry", "Account code", "Amount"]
    assert accounting[1] == ["2025-03-01", "CNY", "Sales (net of tax)", "6001", "46.52"]
    customers = client.get(f"/finance/reports/margin_customers/export.csv?{query}").get_data(as_text=True)
    assert XSS in customers  # a name, written as text (not a formula: it does not start with =)


def test_chinese_pages(fin_app, book):
    client = _client(fin_app, "finance.reports.view")
    client.post("/language", data={"lang": "zh_CN"})
    query = "start=2025-03-01&end=2025-04-30"
    html = client.get(f"/finance/reports/output_tax?{query}").get_data(as_text=True)
    assert "按税率和月份的销项税额" in html and "免税" in html and "销项税额" in html
    html = client.get(f"/finance/reports/margin_products?{query}").get_data(as_text=True)
    assert "按商品的毛利" in html and "成本未知" in html
    text = client.get(f"/finance/reports/accounting/export.csv?{query}").get_data(as_text=True)
    assert "科目代码" in text and "销售收入（不含税）" in text


def test_new_reports_answer_in_a_bounded_number_of_statements(fin_app, book):
    client = _client(fin_app, "finance.reports.view")
    with fin_app.app_context():
        engine = db.engine
    for key in NEW_REPORTS:
        client.get(f"/finance/reports/{key}")  # warm up
        with QueryCounter(engine) as counter:
            assert client.get(f"/finance/reports/{key}?start=2025-01-01&end=2025-12-31").status_code == 200
        assert counter.count <= 12, (key, counter.statements)


@pytest.mark.parametrize("query,message", [
    ("start=2025-13-01", "Not a date"), ("start=2025-03-05&end=2025-03-01", "comes after"),
    ("currency=XYZ", "Unknown currency"), ("start=2000-01-01&end=2025-01-01&grain=day", "group by week or month"),
])
def test_bad_filters_show_a_message(fin_app, query, message):
    client = _client(fin_app, "finance.reports.view")
    page = client.get(f"/finance/reports/accounting?{query}")
    assert page.status_code == 200 and message in page.get_data(as_text=True)
    assert client.get(f"/finance/reports/accounting/export.csv?{query}").status_code == 200
    assert client.get(f"/finance/reports/output_tax?{query}").status_code == 200
    assert client.get(f"/finance/reports/margin_months?{query}").status_code == 200


def test_rate_labels(fin_app):
    with fin_app.test_request_context():
        assert rate_label(Decimal("13.00"), False) == "13%"
        assert rate_label(Decimal("1.50"), False) == "1.5%"
        assert rate_label(Decimal("0"), False) == "0%"
        assert rate_label(Decimal("0"), True) == "Tax exempt"
