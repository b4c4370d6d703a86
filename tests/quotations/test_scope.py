"""The "own customers only" scope (``orders.scope.own``) on quotations: list, detail, edit, API
and the form's customer search."""

from __future__ import annotations

import pytest

from erp_core.extensions import db
from erp_core.testing import bearer, login, make_user
from plugins.orders import services as orders
from tests.quotations.common import PLUGINS, make_quotation, setup_data

PERMS = ["quotations.view", "quotations.manage", "orders.customers.view"]


@pytest.fixture
def world(make_app):
    app = make_app(plugins=PLUGINS)
    seller = make_user(app, perms=[*PERMS, "orders.scope.own"])
    with app.test_request_context():
        data = setup_data()
        mine = orders.create_customer("Mine Ltd", "139 0000 0000", "mine@example.com")
        orders.set_owner(mine, seller)
        db.session.commit()
        theirs = make_quotation(data)
        own = make_quotation({**data, "customer": mine.id})
        from erp_core.api.tokens import create_token
        from erp_core.auth.models import User

        _row, clear = create_token(db.session.get(User, seller), "test")
        db.session.commit()
        ids = {"mine": own.id, "mine_no": own.number, "theirs": theirs.id, "theirs_no": theirs.number}
    return app, seller, clear, ids


def _client(app, user_id):
    client = app.test_client()
    login(client, app, user_id)
    return client


def test_a_scoped_user_sees_only_quotations_of_own_customers(world):
    app, seller, token, ids = world
    client = _client(app, seller)
    listed = client.get("/quotations/").get_data(as_text=True)
    assert ids["mine_no"] in listed and ids["theirs_no"] not in listed
    assert client.get(f"/quotations/{ids['mine']}").status_code == 200
    for path in (f"/quotations/{ids['theirs']}", f"/quotations/{ids['theirs']}/edit"):
        assert client.get(path).status_code == 404
    assert client.get("/quotations/customers.json?q=Wang").get_json()["results"] == []
    assert [r["name"] for r in client.get("/quotations/customers.json?q=Mine").get_json()["results"]] == ["Mine Ltd"]
    api = app.test_client()
    items = api.get("/api/v1/quotations", headers=bearer(token)).get_json()["items"]
    assert [q["id"] for q in items] == [ids["mine"]]
    assert api.get(f"/api/v1/quotations/{ids['theirs']}", headers=bearer(token)).status_code == 404
    other = _client(app, make_user(app, perms=PERMS))
    listed = other.get("/quotations/").get_data(as_text=True)
    assert ids["mine_no"] in listed and ids["theirs_no"] in listed
    assert other.get(f"/quotations/{ids['theirs']}").status_code == 200
    assert other.get("/quotations/customers.json?q=Wang").get_json()["results"]
