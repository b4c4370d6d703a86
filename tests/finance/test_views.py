"""Finance pages: access, forms with errors beside fields, flashes, lists without N+1."""

import re

import pytest

from erp_core.extensions import db
from erp_core.web.templating import render_contributions
from plugins.finance import services
from plugins.finance.models import Payment, Refund
from plugins.orders.models import Order
from tests.finance.conftest import make_order
from tests.helpers import QueryCounter, login, make_user


def _client(app, *perms, roles=()):
    client = app.test_client()
    login(client, app, make_user(app, perms=list(perms), roles=list(roles)))
    return client


@pytest.fixture
def order_id(fin_app):
    with fin_app.test_request_context(method="POST"):
        return make_order(("100", 1, "0")).id


def test_pages_need_their_permission(fin_app, order_id):
    nobody = _client(fin_app)
    viewer = _client(fin_app, "finance.view")
    for url in ("/finance/payments", "/finance/refunds", f"/finance/orders/{order_id}",
                f"/finance/orders/{order_id}/receipt", "/finance/reports", "/finance/reports/takings",
                "/finance/reports/takings/export.xlsx"):
        assert nobody.get(url).status_code == 403, url
    assert viewer.get("/finance/payments").status_code == 200
    assert viewer.get("/finance/reports/takings").status_code == 403  # reports need finance.reports.view
    assert viewer.post(f"/finance/orders/{order_id}/payments", data={"pay-amount": "1"}).status_code == 403


def test_customer_service_records_payments_but_does_not_refund(fin_app, order_id):
    service = _client(fin_app, roles=["customer_service"])
    answer = service.post(f"/finance/orders/{order_id}/payments",
                          data={"pay-method": "cash", "pay-amount": "100", "pay-next": "/orders/1"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/orders/1"
    with fin_app.app_context():
        payment_id = db.session.query(Payment.id).scalar()
    assert service.post(f"/finance/payments/{payment_id}/refunds",
                        data={"refund-amount": "10", "refund-reason": "x"}).status_code == 403
    page = service.get(f"/finance/payments/{payment_id}").get_data(as_text=True)
    assert "refund-form" not in page
    finance = _client(fin_app, roles=["finance"])
    assert finance.post(f"/finance/payments/{payment_id}/refunds",
                        data={"refund-amount": "10", "refund-reason": "Late", "refund-pay_now": "y"}).status_code == 302
    with fin_app.app_context():
        assert db.session.query(Refund).one().status == "refunded"


def test_recording_a_payment_through_the_page(fin_app, order_id):
    client = _client(fin_app, "finance.view", "finance.payments.record")
    page = client.get(f"/finance/orders/{order_id}").get_data(as_text=True)
    assert 'value="100.00"' in page  # the amount due is proposed
    answer = client.post(f"/finance/orders/{order_id}/payments",
                         data={"pay-method": "cash", "pay-amount": "40", "pay-paid_at": "2025-03-01T10:30",
                               "pay-note": "deposit"}, follow_redirects=True)
    html = answer.get_data(as_text=True)
    assert "Payment of CN¥40.00 recorded" in html
    assert 'data-testid="payment-state">Partially paid' in html
    with fin_app.app_context():
        payment = db.session.query(Payment).one()
        assert payment.paid_at.isoformat() == "2025-03-01T10:30:00+00:00"  # the user's zone is UTC here


@pytest.mark.parametrize("data,field,text", [
    ({"pay-method": "cash", "pay-amount": "500"}, "pay-amount", "more than the CN¥100.00 still due"),
    ({"pay-method": "cash", "pay-amount": "ten"}, "pay-amount", "not a number"),
    ({"pay-method": "cash", "pay-amount": ""}, "pay-amount", "Type an amount"),
    ({"pay-method": "bank_transfer", "pay-amount": "5"}, "pay-reference", "reference"),
    ({"pay-method": "cash", "pay-amount": "5", "pay-paid_at": "tomorrow"}, "pay-paid_at", "Type a date"),
    ({"pay-method": "cash", "pay-amount": "5", "pay-paid_at": "2999-01-01T00:00"}, "pay-paid_at", "future"),
    ({"pay-method": "demo_gateway", "pay-amount": "5"}, "pay-method", "Not a valid choice"),
])
def test_bad_payments_are_shown_beside_the_field(fin_app, order_id, data, field, text):
    client = _client(fin_app, "finance.view", "finance.payments.record")
    answer = client.post(f"/finance/orders/{order_id}/payments", data=data)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    tag = re.search(r'<(?:input|select|textarea)[^>]*id="' + field + r'"[^>]*>', html)
    assert tag and "is-invalid" in tag.group(0)
    assert text in html
    with fin_app.app_context():
        assert db.session.query(Payment).count() == 0


def test_a_stale_double_refund_post_is_refused(fin_app, order_id):
    with fin_app.test_request_context(method="POST"):
        payment = services.record_payment(db.session.get(Order, order_id), "cash", "100")
        refund = services.request_refund(payment, "20", "x")
        db.session.commit()
        refund_id = refund.id
    client = _client(fin_app, "finance.view", "finance.refunds.manage")
    first = client.post(f"/finance/refunds/{refund_id}/approve", data={}, follow_redirects=True)
    assert "paid out" in first.get_data(as_text=True)
    second = client.post(f"/finance/refunds/{refund_id}/approve", data={}, follow_redirects=True)
    assert "already decided" in second.get_data(as_text=True)
    rejected = client.post(f"/finance/refunds/{refund_id}/reject", data={"note": "no"}, follow_redirects=True)
    assert "already decided" in rejected.get_data(as_text=True)


def test_online_payment_through_the_pages(fin_app, order_id):
    client = _client(fin_app, "finance.view", "finance.payments.record")
    start = client.post(f"/finance/orders/{order_id}/online",
                        data={"online-method": "demo_gateway", "online-amount": "100"})
    assert start.status_code == 302 and "/finance/demo-gateway/pay?" in start.headers["Location"]
    gateway = start.headers["Location"].replace("http://localhost", "")
    assert "CN¥100.00" in client.get(gateway).get_data(as_text=True)
    done = client.post(gateway, data={"action": "pay"}, follow_redirects=True)
    html = done.get_data(as_text=True)
    assert "confirmed payment PAY-" in html and 'data-testid="payment-state">Paid' in html


def _many_payments(app, count):
    with app.test_request_context(method="POST"):
        for _ in range(count):
            order = make_order(("10", 1, "0"))
            payment = services.record_payment(order, "cash", "10")
            services.request_refund(payment, "1", "x")
        db.session.commit()


def test_lists_run_a_fixed_number_of_statements(fin_app):
    client = _client(fin_app, "finance.view", "finance.refunds.manage")
    _many_payments(fin_app, 3)
    with fin_app.app_context():
        engine = db.engine
    counts = {}
    for url in ("/finance/payments?sort=-amount", "/finance/refunds?status=requested"):
        client.get(url)
        with QueryCounter(engine) as small:
            assert client.get(url).status_code == 200
        counts[url] = small.count
    _many_payments(fin_app, 12)
    for url, before in counts.items():
        with QueryCounter(engine) as large:
            page = client.get(url)
        assert page.status_code == 200 and large.count == before, (url, large.statements)
    assert client.get("/finance/payments?per_page=5&page=3").status_code == 200


def test_list_filters_live_in_the_url(fin_app):
    _many_payments(fin_app, 2)
    client = _client(fin_app, "finance.view")
    with fin_app.app_context():
        number = db.session.query(Order.number).order_by(Order.id).first()[0]
    html = client.get(f"/finance/payments?q={number}&method=cash&status=paid&currency=CNY").get_data(as_text=True)
    assert html.count("PAY-0000") == 1
    assert "No payments match" in client.get("/finance/payments?method=bank_transfer").get_data(as_text=True)
    assert client.get("/finance/payments?start=bad&end=2025-99-99&sort=nonsense").status_code == 200


def test_receipt_prints_the_order_and_its_money(fin_app, order_id):
    with fin_app.test_request_context(method="POST"):
        payment = services.record_payment(db.session.get(Order, order_id), "cash", "100")
        services.approve_refund(services.request_refund(payment, "25", "Broken lid"))
        db.session.commit()
    client = _client(fin_app, "finance.view")
    html = client.get(f"/finance/orders/{order_id}/receipt").get_data(as_text=True)
    assert "data-print" in html and "Broken lid" in html and "erp-sidebar" not in html
    assert 'data-testid="receipt-total">CN¥100.00' in html and 'data-testid="receipt-due">CN¥0.00' in html


def test_order_panel_through_the_hook(fin_app, order_id):
    with fin_app.test_request_context(method="POST"):
        services.record_payment(db.session.get(Order, order_id), "cash", "30")
        db.session.commit()
    client = _client(fin_app, "finance.view", "finance.payments.record")
    with fin_app.test_request_context("/orders/1"):
        from flask_login import login_user

        from erp_core.auth.models import User

        user = db.session.query(User).order_by(User.id.desc()).first()
        login_user(user)
        order = db.session.get(Order, order_id)
        manager = fin_app.extensions["erp_plugins"]
        panels = [p for group in manager.hook.erp_order_panels(order=order, user=user) for p in group]
        assert [(str(p.title), p.permission) for p in panels] == [("Payments", "finance.view")]
        html = str(render_contributions(panels)[0].html)
        assert 'data-testid="finance-balance">CN¥30.00' in html and 'data-testid="finance-due">CN¥70.00' in html
        assert 'name="pay-next" value="/orders/1"' in html
    assert client  # the panel's forms post to finance, tested above


def test_public_order_panel_shows_only_the_payment_state(fin_app, order_id):
    with fin_app.test_request_context("/track/x"):
        order = db.session.get(Order, order_id)
        manager = fin_app.extensions["erp_plugins"]
        panels = [p for group in manager.hook.erp_order_public_panels(order=order) for p in group]
        html = str(render_contributions(panels)[0].html)
        assert "Unpaid" in html and "Still to pay: CN¥100.00" in html
        assert "PAY-" not in html and "pay-amount" not in html  # nothing internal


def test_dashboard_widgets(fin_app, order_id):
    with fin_app.test_request_context(method="POST"):
        services.record_payment(db.session.get(Order, order_id), "cash", "60")
        db.session.commit()
    html = _client(fin_app, "finance.view").get("/dashboard").get_data(as_text=True)
    assert "Today&#39;s takings" in html or "Today's takings" in html
    assert re.search(r'finance-widget-takings.*?CN¥60\.00', html, re.S)
    assert re.search(r'finance-widget-unpaid.*?CN¥40\.00', html, re.S)
    assert "finance-widget" not in _client(fin_app).get("/dashboard").get_data(as_text=True)


def test_settings_switch_methods_and_the_policy(fin_app, order_id):
    admin = _client(fin_app, roles=["admin"])
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert "Payment before shipping" in page and "Accept payments by Demo online gateway" in page
    with fin_app.test_request_context():
        from erp_core import settings

        settings.set_many({"finance.method.demo_gateway": False})
        db.session.commit()
    html = admin.get(f"/finance/orders/{order_id}").get_data(as_text=True)
    assert "online-payment-form" not in html and "record-payment-form" in html


def test_chinese_pages(fin_app, order_id):
    client = _client(fin_app, roles=["admin"])
    client.post("/language", data={"lang": "zh_CN"})
    html = client.get(f"/finance/orders/{order_id}").get_data(as_text=True)
    assert "记录收款" in html and "未付款" in html
    report = client.get("/finance/reports/takings").get_data(as_text=True)
    assert "收付实现口径" in report and "按期间的收款" in report


def test_nul_characters_are_refused_not_a_500(fin_app, order_id):
    client = _client(fin_app, "finance.view", "finance.payments.record")
    answer = client.post(f"/finance/orders/{order_id}/payments",
                         data={"pay-method": "cash", "pay-amount": "10", "pay-note": "a\x00b", "pay-reference": "\x00"})
    assert answer.status_code == 400 and "NUL" in answer.get_data(as_text=True)
    with fin_app.app_context():
        assert db.session.query(Payment).count() == 0
    assert client.get("/finance/payments?q=SO\x00").status_code == 400
    assert client.get("/finance/refunds?q=\x00").status_code == 400
