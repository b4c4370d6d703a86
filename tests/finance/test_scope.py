"""The "own customers only" scope (``orders.scope.own``) in finance: invoices (list, detail,
PDF, API) and the reports built on orders and payments."""

from __future__ import annotations

import pytest

from erp_core.extensions import db
from erp_core.testing import bearer, login, make_user
from plugins.finance.services import invoices as inv
from plugins.orders.public import create_customer
from tests.finance.conftest import make_order
from tests.finance.test_invoices import with_seller

PERMS = ["finance.invoices.view", "finance.reports.view", "finance.view", "orders.view"]


@pytest.fixture
def world(fin_app):
    app = with_seller(fin_app)
    from plugins.orders.services import set_owner

    seller = make_user(app, perms=[*PERMS, "orders.scope.own"])
    ids = {"seller": seller}
    with app.test_request_context(method="POST"):
        from erp_core.auth.models import User

        for key, name in (("mine", "Mine Ltd"), ("theirs", "Theirs Co")):
            customer = create_customer(name, "13800138000", "")
            if key == "mine":
                set_owner(customer, seller)
            order = make_order(("20", 1, "0"), customer=customer)
            invoice = inv.issue_invoice(order, "ordinary")
            ids[key] = {"invoice": invoice.id, "number": invoice.number}
        from erp_core.api.tokens import create_token

        _row, clear = create_token(db.session.get(User, seller), "test")
        db.session.commit()
    ids["token"] = clear
    return app, ids


def _client(app, user_id):
    client = app.test_client()
    login(client, app, user_id)
    return client


def test_a_scoped_user_sees_only_own_customers_invoices(world):
    app, ids = world
    client = _client(app, ids["seller"])
    listed = client.get("/finance/invoices").get_data(as_text=True)
    assert ids["mine"]["number"] in listed and ids["theirs"]["number"] not in listed
    theirs = ids["theirs"]["invoice"]
    assert client.get(f"/finance/invoices/{ids['mine']['invoice']}").status_code == 200
    for path in (f"/finance/invoices/{theirs}", f"/finance/invoices/{theirs}.pdf"):
        assert client.get(path).status_code == 404
    api = app.test_client()
    found = api.get("/api/v1/finance/invoices", headers=bearer(ids["token"])).get_json()
    assert [i["id"] for i in found["items"]] == [ids["mine"]["invoice"]]
    assert api.get(f"/api/v1/finance/invoices/{theirs}", headers=bearer(ids["token"])).status_code == 404
    report = client.get("/finance/reports/customers").get_data(as_text=True)
    assert "Mine Ltd" in report and "Theirs Co" not in report
    other = _client(app, make_user(app, perms=PERMS))
    listed = other.get("/finance/invoices").get_data(as_text=True)
    assert ids["mine"]["number"] in listed and ids["theirs"]["number"] in listed
    assert other.get(f"/finance/invoices/{theirs}").status_code == 200
    assert "Theirs Co" in other.get("/finance/reports/customers").get_data(as_text=True)


def test_payments_and_refunds_of_others_customers_answer_404_by_id(world):
    """A payment or refund page (and its API item) opened by URL: 404 out of scope, 200 unscoped."""
    from plugins.finance import services
    from plugins.finance.testing import make_paid_order

    app, ids = world
    with app.test_request_context(method="POST"):
        from plugins.orders.public import Customer

        records = {}
        for key, name in (("mine", "Mine Ltd"), ("theirs", "Theirs Co")):
            customer = db.session.scalar(db.select(Customer).where(Customer.name == name))
            _order, payment = make_paid_order(customer=customer)
            refund = services.request_refund(payment, "10", "Scratched box")
            db.session.commit()
            records[key] = {"payment": payment.id, "refund": refund.id}
    mine, theirs = records["mine"], records["theirs"]
    client, api, token = _client(app, ids["seller"]), app.test_client(), bearer(ids["token"])
    assert client.get(f"/finance/payments/{mine['payment']}").status_code == 200
    assert api.get(f"/api/v1/finance/payments/{mine['payment']}", headers=token).status_code == 200
    assert client.get(f"/finance/payments/{theirs['payment']}").status_code == 404
    manager = _client(app, make_user(app, perms=[*PERMS, "finance.refunds.manage", "orders.scope.own"]))
    assert manager.post(f"/finance/refunds/{theirs['refund']}/reject").status_code == 404
    assert api.get(f"/api/v1/finance/payments/{theirs['payment']}", headers=token).status_code == 404
    assert api.get(f"/api/v1/finance/refunds/{theirs['refund']}", headers=token).status_code == 404
    assert api.get(f"/api/v1/finance/refunds/{mine['refund']}", headers=token).status_code == 200
    listed = api.get("/api/v1/finance/refunds", headers=token).get_json()["items"]
    assert [r["id"] for r in listed] == [mine["refund"]]
    listed = api.get("/api/v1/finance/payments", headers=token).get_json()["items"]
    assert [p["id"] for p in listed] == [mine["payment"]]
    with app.app_context():  # the refused reject changed nothing
        assert services.get_refund(theirs["refund"]).status == "requested"
    other = _client(app, make_user(app, perms=PERMS))
    assert other.get(f"/finance/payments/{theirs['payment']}").status_code == 200


def test_margin_and_tax_reports_of_a_scoped_user_sum_own_customers_only(world):
    """The margin (product, customer, month), output tax and accounting reports: a scoped user's
    sums hold only own customers' orders; an unscoped user's hold both."""
    from datetime import date, timedelta

    from flask_login import login_user

    from erp_core.auth.models import User
    from plugins.finance import reports

    app, ids = world
    today = date.today()
    f = reports.Filters(start=today - timedelta(days=2), end=today + timedelta(days=2), tz="UTC")
    keys = ("margin_products", "margin_customers", "margin_months", "output_tax", "accounting")
    sums = {}
    for who, user_id in (("seller", ids["seller"]), ("other", make_user(app, perms=PERMS))):
        with app.test_request_context():
            login_user(db.session.get(User, user_id))
            for key in keys:
                result = reports.REPORTS[key].run(f, page=None)
                column = "amount" if key == "accounting" else "net"
                sums[who, key] = sum(row[column] or 0 for row in result.rows)
    for key in keys:
        assert sums["seller", key] == 2000, key  # Mine Ltd's order of 20.00 at 0% tax, unpaid
        assert sums["other", key] == 4000, key
    with app.test_request_context():
        login_user(db.session.get(User, ids["seller"]))
        customers = reports.REPORTS["margin_customers"].run(f, page=None).rows
    assert [r["customer"] for r in customers] == ["Mine Ltd"]
