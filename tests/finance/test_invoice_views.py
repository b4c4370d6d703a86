"""Invoice pages, PDF, logo and API: permissions, bad input, hostile text, query counts."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from erp_core import settings
from erp_core.extensions import db
from erp_core.testing import QueryCounter, api_token, bearer, login, make_user
from plugins.finance import services
from plugins.finance.models import Invoice
from plugins.finance.services import invoices as inv
from plugins.finance.testing import make_paid_order
from plugins.orders.public import create_customer
from tests.finance.conftest import make_order
from tests.finance.test_invoices import SELLER, with_seller

XSS = "<script>alert(1)</script>"


@pytest.fixture
def inv_app(fin_app):
    return with_seller(fin_app)


def _client(app, *perms, lang=None):
    client = app.test_client()
    login(client, app, make_user(app, perms=perms))
    if lang:
        client.post("/language", data={"lang": lang})
    return client


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def _issued(app, count=1, customer_name=None):
    ids = []
    with app.test_request_context(method="POST"):
        for _ in range(count):
            customer = create_customer(customer_name, "13800138000", "") if customer_name else None
            order = make_order(("9.99", 3, "0"), ("20", 1, "0"), customer=customer)
            ids.append(inv.issue_invoice(order, "ordinary").id)
        db.session.commit()
    return ids


ROUTES = [("get", "/finance/invoices", "finance.invoices.view"),
          ("get", "/finance/invoices/fapiao", "finance.invoices.view"),
          ("get", "/finance/invoices/{id}", "finance.invoices.view"),
          ("get", "/finance/invoices/{id}.pdf", "finance.invoices.view"),
          ("get", "/finance/invoices/logo.png", "finance.invoices.view"),
          ("post", "/finance/invoices/orders/{order}", "finance.invoices.issue"),
          ("post", "/finance/invoices/{id}/fapiao", "finance.invoices.issue"),
          ("post", "/finance/invoices/refunds/1/credit-note", "finance.invoices.issue"),
          ("get", "/finance/invoices/logo", "core.settings.manage"),
          ("post", "/finance/invoices/logo", "core.settings.manage")]


@pytest.mark.parametrize("method, url, perm", ROUTES)
def test_every_invoice_route_needs_its_permission(inv_app, method, url, perm):
    (invoice_id,) = _issued(inv_app)
    with inv_app.app_context():
        order_id = db.session.get(Invoice, invoice_id).order_id
    others = {"finance.invoices.view", "finance.invoices.issue", "core.settings.manage", "finance.view"} - {perm}
    client = _client(inv_app, *others)
    client.application.config["WTF_CSRF_ENABLED"] = False
    response = getattr(client, method)(url.format(id=invoice_id, order=order_id))
    assert response.status_code == 403


def test_issue_from_the_order_panel_then_see_print_and_download(inv_app):
    with inv_app.test_request_context(method="POST"):
        order = make_order(("9.99", 3, "0"))
        order_id, number, total = order.id, order.number, order.total_minor
    client = _client(inv_app, "finance.view", "finance.invoices.view", "finance.invoices.issue", lang="zh_CN")
    page = client.get(f"/finance/orders/{order_id}").get_data(as_text=True)
    assert 'data-testid="issue-invoice"' in page and "开具销售发票" in page
    response = client.post(f"/finance/invoices/orders/{order_id}",
                           data={"csrf_token": _csrf(page), "invoice-invoice_type": "special"})
    assert response.status_code == 302
    with inv_app.app_context():
        invoice = db.session.query(Invoice).one()
        assert invoice.invoice_type == "special" and invoice.gross_minor == total
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert invoice.number in html and SELLER["company.legal_name"] in html and number in html
    assert "销售发票" in html and "纳税人识别号" in html and "None" not in html
    pdf = client.get(f"/finance/invoices/{invoice.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert SELLER["company.legal_name"] in text and invoice.number in text and "销售发票" in text
    again = client.post(f"/finance/invoices/orders/{order_id}",
                        data={"csrf_token": _csrf(page), "invoice-invoice_type": "none"}, follow_redirects=True)
    assert "已开具" in again.get_data(as_text=True)  # invoiced already, in Chinese
    with inv_app.app_context():
        assert db.session.query(Invoice).count() == 1


def test_a_bad_fapiao_type_issues_nothing(inv_app):
    with inv_app.test_request_context(method="POST"):
        order_id = make_order(("10", 1, "0")).id
    client = _client(inv_app, "finance.view", "finance.invoices.view", "finance.invoices.issue")
    page = client.get(f"/finance/orders/{order_id}").get_data(as_text=True)
    response = client.post(f"/finance/invoices/orders/{order_id}",
                           data={"csrf_token": _csrf(page), "invoice-invoice_type": "bogus"}, follow_redirects=True)
    assert response.status_code == 200 and "Nothing was issued" in response.get_data(as_text=True)
    with inv_app.app_context():
        assert db.session.query(Invoice).count() == 0


def test_hostile_text_is_shown_as_text_on_every_page(inv_app):
    with inv_app.app_context():
        settings.set_many({"company.legal_name": XSS, "company.address": XSS, "finance.invoice.bank": XSS})
        db.session.commit()
    (invoice_id,) = _issued(inv_app, customer_name=XSS)
    client = _client(inv_app, "finance.view", "finance.invoices.view", "finance.invoices.issue")
    with inv_app.app_context():
        order_id = db.session.get(Invoice, invoice_id).order_id
    for url in ("/finance/invoices", "/finance/invoices/fapiao", f"/finance/invoices/{invoice_id}",
                f"/finance/orders/{order_id}"):
        html = client.get(url).get_data(as_text=True)
        assert XSS not in html, url
    assert "&lt;script&gt;" in client.get(f"/finance/invoices/{invoice_id}").get_data(as_text=True)
    text = PdfReader(io.BytesIO(client.get(f"/finance/invoices/{invoice_id}.pdf").data)).pages[0].extract_text()
    assert XSS in text  # the PDF prints it as plain text


def test_the_list_filters_and_pages_in_a_fixed_number_of_queries(inv_app):
    ids = _issued(inv_app, 2, customer_name="Alpha Trading")
    client = _client(inv_app, "finance.invoices.view")
    with inv_app.app_context():
        engine = db.engine
    url = "/finance/invoices"
    client.get(url)
    with QueryCounter(engine) as small:
        assert client.get(url).status_code == 200
    _issued(inv_app, 6)
    with QueryCounter(engine) as large:
        html = client.get(url).get_data(as_text=True)
    assert large.count == small.count, large.statements
    assert html.count('href="/finance/invoices/') >= 8
    found = client.get("/finance/invoices?q=Alpha").get_data(as_text=True)
    with inv_app.app_context():
        numbers = [db.session.get(Invoice, i).number for i in ids]
    assert all(n in found for n in numbers) and found.count("Alpha Trading") == 2
    assert "No invoices match" in client.get("/finance/invoices?status=credited").get_data(as_text=True)
    bad = client.get("/finance/invoices?start=yesterday")
    assert bad.status_code == 200 and "Not a date" in bad.get_data(as_text=True)
    assert client.get("/finance/invoices?status=fapiao_wanted&page=99").status_code in (200, 404)


def test_the_fapiao_queue_and_recording_a_fapiao(inv_app):
    (invoice_id,) = _issued(inv_app)
    client = _client(inv_app, "finance.invoices.view", "finance.invoices.issue", lang="zh_CN")
    with inv_app.app_context():
        number = db.session.get(Invoice, invoice_id).number
    assert number in client.get("/finance/invoices/fapiao").get_data(as_text=True)
    page = client.get(f"/finance/invoices/{invoice_id}").get_data(as_text=True)
    bad = client.post(f"/finance/invoices/{invoice_id}/fapiao",
                      data={"csrf_token": _csrf(page), "fapiao-number": "abc", "fapiao-issued_on": "2099-01-01"})
    assert bad.status_code == 422 and "发票号码" in bad.get_data(as_text=True)
    ok = client.post(f"/finance/invoices/{invoice_id}/fapiao",
                     data={"csrf_token": _csrf(page), "fapiao-code": "", "fapiao-number": "24312000000012345678",
                           "fapiao-issued_on": "2099-01-01"}, follow_redirects=True)
    assert ok.status_code == 200 and "24312000000012345678" in ok.get_data(as_text=True)
    assert number not in client.get("/finance/invoices/fapiao").get_data(as_text=True)
    history = client.get(f"/finance/invoices/{invoice_id}").get_data(as_text=True)
    assert "已记录税务发票" in history and "开具销售发票" in history


def test_a_credit_note_from_the_payment_page(inv_app):
    with inv_app.test_request_context(method="POST"):
        order, payment = make_paid_order()
        refund = services.request_refund(payment, "25", "Broken cup")
        services.approve_refund(refund)  # before the invoice: no credit note yet
        db.session.commit()
        invoice = inv.issue_invoice(order)
        db.session.commit()
        payment_id, refund_id, invoice_id = payment.id, refund.id, invoice.id
    client = _client(inv_app, "finance.view", "finance.invoices.view", "finance.invoices.issue")
    page = client.get(f"/finance/payments/{payment_id}").get_data(as_text=True)
    assert 'data-testid="issue-credit-note"' in page
    response = client.post(f"/finance/invoices/refunds/{refund_id}/credit-note", data={"csrf_token": _csrf(page)})
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Credit note" in html and 'data-testid="corrected-invoice"' in html
    with inv_app.app_context():
        note = db.session.query(Invoice).filter_by(kind="credit_note").one()
        assert note.gross_minor == 2500 and note.invoice_id == invoice_id
    again = client.post(f"/finance/invoices/refunds/{refund_id}/credit-note", data={"csrf_token": _csrf(page)},
                        follow_redirects=True)
    assert "Nothing to credit" in again.get_data(as_text=True)


def test_a_missing_font_is_said_clearly(inv_app):
    (invoice_id,) = _issued(inv_app)
    with inv_app.app_context():
        settings.set_many({"finance.invoice.font": "/nonexistent/font.ttf"})
        db.session.commit()
    client = _client(inv_app, "finance.invoices.view")
    response = client.get(f"/finance/invoices/{invoice_id}.pdf", follow_redirects=True)
    assert response.status_code == 200 and "fonts-wqy-microhei" in response.get_data(as_text=True)


def test_the_logo_takes_images_only_and_is_printed(inv_app):
    from PIL import Image

    client = _client(inv_app, "core.settings.manage", "finance.invoices.view")
    page = client.get("/finance/invoices/logo").get_data(as_text=True)
    for name, body in (("evil.svg", b"<svg onload=alert(1)>"), ("fake.png", b"not an image at all")):
        bad = client.post("/finance/invoices/logo", data={"csrf_token": _csrf(page), "logo": (io.BytesIO(body), name)},
                          content_type="multipart/form-data")
        assert bad.status_code == 422
    huge = io.BytesIO()  # 30 million pixels in a few kB: refused before it is decoded
    Image.new("1", (6000, 5000)).save(huge, "PNG")
    huge.seek(0)
    bomb = client.post("/finance/invoices/logo", data={"csrf_token": _csrf(page), "logo": (huge, "flat.png")},
                       content_type="multipart/form-data")
    assert bomb.status_code == 422 and "too many pixels" in bomb.get_data(as_text=True)
    assert client.get("/finance/invoices/logo.png").status_code == 404
    image = io.BytesIO()
    Image.new("RGB", (40, 20), "red").save(image, "JPEG")
    image.seek(0)
    ok = client.post("/finance/invoices/logo", data={"csrf_token": _csrf(page), "logo": (image, "logo.jpg")},
                     content_type="multipart/form-data")
    assert ok.status_code == 302
    served = client.get("/finance/invoices/logo.png")
    assert served.mimetype == "image/png" and served.data.startswith(b"\x89PNG")
    (invoice_id,) = _issued(inv_app)
    assert "logo.png" in client.get(f"/finance/invoices/{invoice_id}").get_data(as_text=True)
    assert client.get(f"/finance/invoices/{invoice_id}.pdf").status_code == 200


def test_the_api_lists_reads_and_issues_invoices(inv_app):
    (invoice_id,) = _issued(inv_app)
    with inv_app.test_request_context(method="POST"):
        order_id = make_order(("10", 1, "0")).id
    api = inv_app.test_client()
    reader = bearer(api_token(inv_app, perms=("finance.invoices.view",)))
    issuer = bearer(api_token(inv_app, perms=("finance.invoices.view", "finance.invoices.issue")))
    listed = api.get("/api/v1/finance/invoices", headers=reader).get_json()
    assert [i["id"] for i in listed["items"]] == [invoice_id]
    one = api.get(f"/api/v1/finance/invoices/{invoice_id}", headers=reader).get_json()
    assert one["number"].startswith("INV-") and one["seller"]["name"] == SELLER["company.legal_name"]
    assert one["lines"][0]["tax_rate"] and one["invoice_type"] == "ordinary"
    assert api.post("/api/v1/finance/invoices", json={"order_id": order_id}, headers=reader).status_code == 403
    made = api.post("/api/v1/finance/invoices", json={"order_id": order_id}, headers=issuer)
    assert made.status_code == 201 and made.get_json()["gross_minor"] == 1000
    twice = api.post("/api/v1/finance/invoices", json={"order_id": order_id}, headers=issuer)
    assert twice.status_code == 422 and twice.get_json()["code"] == "invoice_refused"
    assert api.post("/api/v1/finance/invoices", json={"order_id": order_id, "invoice_type": "x"},
                    headers=issuer).status_code == 422
    assert api.get("/api/v1/finance/invoices/999999", headers=reader).status_code == 404
    spec = api.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/finance/invoices" in spec["paths"] and "InvoiceDetail" in str(spec["components"]["schemas"])
