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
