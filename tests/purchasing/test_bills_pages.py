"""Pages and API of supplier bills: record a bill and pay it on the pages (both languages),
refusals with nothing changed, 403 without ``purchasing.bills``, ``<script>`` payloads shown as
text, the payables report (filters, pagination, CSV, no N+1), the dashboard card, the API."""

import csv
import html
import io
from datetime import timedelta

import pytest

from erp_core.extensions import db
from plugins.purchasing import services
from plugins.purchasing.models import BillPayment, SupplierBill
from tests.helpers import QueryCounter, login, make_user
from tests.purchasing.common import PLUGINS, make_po, setup_data
from tests.purchasing.test_rest_api import API, token_for

XSS = "<script>alert(1)</script>"


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS)


@pytest.fixture
def data(app):
    with app.test_request_context():
        data = setup_data()
        po = make_po(data)
        data.update(po=po.id, draft=make_po(data, send=False).id)
        return data


def _client(app, perms=None):
    client = app.test_client()
    login(client, app, make_user(app, perms=perms or (), roles=() if perms else ("admin",)))
    return client


def _bill(app, po_id, number="INV-1", amount="100", due_days=5) -> int:
    with app.test_request_context():
        today = services.company_today()
        bill = services.record_bill(services.get_po(po_id), number, amount, today - timedelta(days=30),
                                    today + timedelta(days=due_days))
        db.session.commit()
        return bill.id


@pytest.mark.parametrize("language,words", [
    ("en", ("Supplier bills", "Record the supplier's bill", "Payables", "Still owed", "Bills due", "Bank transfer",
            "Supplier's bill recorded", "Bill paid", "Partly paid")),
    ("zh_CN", ("供应商发票", "登记供应商发票", "应付账款", "未付金额", "待付发票", "银行转账", "已登记供应商发票", "部分付款"))])
def test_pages_in_both_languages_and_history_in_words(app, data, language, words):
    bill_id = _bill(app, data["po"])
    client = _client(app)
    client.post(f"/purchasing/bills/{bill_id}/payments", data={"amount": "40", "method": "bank_transfer"})
    body = ""
    for url in (f"/purchasing/orders/{data['po']}", f"/purchasing/bills/{bill_id}", "/purchasing/payables",
                "/purchasing/payables?bucket=overdue", f"/purchasing/payables?supplier={data['supplier']}&bucket=due_soon",
                "/dashboard"):
        response = client.get(url, headers={"Accept-Language": language})
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        assert "None" not in page.replace("display: none", ""), url
        body += html.unescape(page)
    for word in words:
        assert word in body, word


def test_record_and_pay_on_the_pages(app, data):
    client = _client(app)
    response = client.post(f"/purchasing/orders/{data['po']}/bills",
                           data={"number": "FP-88", "amount": "60.00", "bill_date": "2026-12-01", "due_date": "2026-12-31"})
    assert response.status_code == 302
    with app.app_context():
        bill = db.session.query(SupplierBill).one()
        assert (bill.number, bill.amount_minor, bill.due_date.isoformat()) == ("FP-88", 6000, "2026-12-31")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "60.00" in page and 'data-testid="payment-form"' in page
    assert client.post(f"/purchasing/bills/{bill.id}/payments",
                       data={"amount": "60", "method": "wechat", "reference": "W1"}).status_code == 302
    page = client.get(f"/purchasing/bills/{bill.id}").get_data(as_text=True)
    assert 'data-testid="payment-form"' not in page and "W1" in page
    with app.app_context():
        assert db.session.get(SupplierBill, bill.id).status == "paid"


def test_refusals_show_a_message_and_change_nothing(app, data):
    client = _client(app)
    response = client.post(f"/purchasing/orders/{data['po']}/bills", data={"number": "X", "amount": "abc"},
                           headers={"Accept-Language": "zh_CN"})
    assert response.status_code == 422
    assert "is-invalid" in response.get_data(as_text=True)
    response = client.post(f"/purchasing/orders/{data['draft']}/bills", data={"number": "X", "amount": "1"})
    assert response.status_code == 409
    bill_id = _bill(app, data["po"], amount="10")
    response = client.post(f"/purchasing/bills/{bill_id}/payments", data={"amount": "10.01", "method": "cash"})
    assert response.status_code == 409
    assert "10.00" in response.get_data(as_text=True)
    response = client.post(f"/purchasing/bills/{bill_id}/payments", data={"amount": "1", "method": "nope"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.query(SupplierBill).count() == 1
        assert db.session.query(BillPayment).count() == 0
    assert client.get("/purchasing/bills/999999").status_code == 404


def test_without_permission_bills_are_403(app, data):
    bill_id = _bill(app, data["po"])
    outsider = _client(app, ["orders.view"])
    for url in (f"/purchasing/bills/{bill_id}", "/purchasing/payables", "/purchasing/payables.csv"):
        assert outsider.get(url).status_code == 403, url
    viewer = _client(app, ["purchasing.view", "purchasing.manage"])
    assert viewer.get(f"/purchasing/bills/{bill_id}").status_code == 200
    assert 'data-testid="payment-form"' not in viewer.get(f"/purchasing/bills/{bill_id}").get_data(as_text=True)
    assert viewer.post(f"/purchasing/orders/{data['po']}/bills", data={"number": "Z", "amount": "1"}).status_code == 403
    assert viewer.post(f"/purchasing/bills/{bill_id}/payments", data={"amount": "1", "method": "cash"}).status_code == 403
    with app.app_context():
        assert db.session.query(SupplierBill).count() == 1 and db.session.query(BillPayment).count() == 0


def test_script_payloads_are_shown_as_text(app, data):
    client = _client(app)
    client.post(f"/purchasing/orders/{data['po']}/bills", data={"number": XSS, "amount": "5"})
    with app.app_context():
        bill_id = db.session.query(SupplierBill).one().id
    client.post(f"/purchasing/bills/{bill_id}/payments", data={"amount": "1", "method": "cash", "reference": XSS})
    for url in (f"/purchasing/orders/{data['po']}", f"/purchasing/bills/{bill_id}", "/purchasing/payables", "/dashboard"):
        body = client.get(url).get_data(as_text=True)
        assert XSS not in body and "&lt;script&gt;" in body, url
    rows = list(csv.reader(io.StringIO(client.get("/purchasing/payables.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1][1] == XSS


def test_payables_filters_csv_and_pagination(app, data):
    with app.test_request_context():
        supplier = services.get_supplier(data["supplier"])
        supplier.name = "=cmd|' /C calc'!A0"
        db.session.commit()
    _bill(app, data["po"], "LATE", "10", due_days=-2)
    _bill(app, data["po"], "SOON", "20", due_days=3)
    _bill(app, data["po"], "LATER", "30", due_days=40)
    client = _client(app)
    body = client.get("/purchasing/payables?bucket=overdue").get_data(as_text=True)
    assert "LATE" in body and "SOON" not in body and "LATER" not in body
    body = client.get("/purchasing/payables?bucket=bogus").get_data(as_text=True)
    assert all(n in body for n in ("LATE", "SOON", "LATER"))
    response = client.get("/purchasing/payables.csv?bucket=due_soon", headers={"Accept-Language": "zh_CN"})
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "供应商" and len(rows) == 2
    assert rows[1][0].startswith("'=") and rows[1][1] == "SOON" and rows[1][-1] == "20.00"
    supplier_page = client.get(f"/purchasing/suppliers/{data['supplier']}").get_data(as_text=True)
    assert f"/purchasing/payables?supplier={data['supplier']}" in supplier_page
    page = client.get("/purchasing/payables?per_page=2").get_data(as_text=True)
    assert "LATE" in page and "SOON" in page and "LATER" not in page
    assert "LATER" in client.get("/purchasing/payables?per_page=2&page=2").get_data(as_text=True)


def test_payables_page_makes_the_same_number_of_queries_for_more_rows(app, data):
    _bill(app, data["po"], "B0")
    client = _client(app)
    with app.app_context():
        engine = db.engine
    client.get("/purchasing/payables")
    with QueryCounter(engine) as few:
        client.get("/purchasing/payables")
        client.get("/dashboard")
    with app.test_request_context():
        other = services.save_supplier(None, services.SupplierInput(code="b2", name="Beta", currency="CNY"))
        db.session.commit()
        po = services.create_po(other, data["warehouse"], [services.LineInput("P-001", 1)])
        services.send_po(po, "en")
        db.session.commit()
        po_id = po.id
    for i in range(1, 6):
        _bill(app, data["po"] if i % 2 else po_id, f"B{i}", due_days=i)
    with QueryCounter(engine) as many:
        assert client.get("/purchasing/payables").get_data(as_text=True).count("/purchasing/bills/") == 6
        client.get("/dashboard")
    assert len(many.statements) == len(few.statements)


def test_bills_api_flow_permissions_and_refusals(app, data):
    auth = token_for(app, ["purchasing.view", "purchasing.bills"])
    url = f"{API}/purchase-orders/{data['po']}/bills"
    created = app.test_client().post(url, json={"number": "API-1", "amount": "12.50", "due_date": "2030-01-01"},
                                     headers=auth)
    assert created.status_code == 201, created.json
    bill = created.json
    assert (bill["amount_minor"], bill["status"], bill["owed_minor"], bill["payments"]) == (1250, "open", 1250, [])
    client = app.test_client()
    assert client.post(url, json={"number": "API-1", "amount": "1"}, headers=auth).status_code == 409
    assert client.post(url, json={"number": "API-2", "amount": "-1"}, headers=auth).status_code in (400, 422)
    pay = f"{API}/bills/{bill['id']}/payments"
    paid = client.post(pay, json={"amount": "2.50", "method": "alipay", "reference": "AP-1"}, headers=auth)
    assert paid.status_code == 201 and paid.json["status"] == "partly_paid" and paid.json["paid_minor"] == 250
    over = client.post(pay, json={"amount": "10.01", "method": "alipay"}, headers=auth)
    assert over.status_code == 409
    assert client.post(pay, json={"amount": "1", "method": "gold"}, headers=auth).status_code in (400, 422)
    assert client.get(f"{API}/bills/{bill['id']}", headers=auth).json["payments"][0]["reference"] == "AP-1"
    assert [b["number"] for b in client.get(url, headers=auth).json] == ["API-1"]
    listing = client.get(f"{API}/payables?bucket=later", headers=auth).json
    assert [b["number"] for b in listing["items"]] == ["API-1"] and listing["total"] == 1
    assert client.get(f"{API}/payables?bucket=overdue", headers=auth).json["items"] == []
    assert client.get(f"{API}/bills/999999", headers=auth).status_code == 404
    viewer = token_for(app, ["purchasing.view", "purchasing.manage"])
    assert client.get(f"{API}/payables", headers=viewer).status_code == 200
    assert client.post(url, json={"number": "V", "amount": "1"}, headers=viewer).status_code == 403
    assert client.post(pay, json={"amount": "1", "method": "cash"}, headers=viewer).status_code == 403
    assert client.get(f"{API}/payables", headers=token_for(app, ["orders.view"])).status_code == 403
