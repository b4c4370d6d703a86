"""Defects found by the security review: huge ids answer 404/422 (never 500), the edit form
shows a discount as typed, the API's ``product_id`` is an id (never read as a product code)."""

import pytest

from erp_core.extensions import db
from plugins.orders import services as orders
from plugins.quotations import services
from plugins.quotations.models import Quotation
from tests.quotations import test_pages
from tests.quotations.test_pages import _client, _token
from tests.quotations.test_rest_api import PERMS, token_for

BIG = "9" * 30


app, data = test_pages.app, test_pages.data  # the same fixtures as the pages' tests


@pytest.mark.parametrize("url", [f"/q/{BIG}/abc", f"/quotations/{BIG}", f"/quotations/{BIG}/print",
                                 f"/quotations/{BIG}/edit"])
def test_a_huge_id_is_not_found(app, data, url):
    assert _client(app).get(url).status_code == 404, url


def test_a_huge_customer_filter_lists_nothing(app, data):
    response = _client(app).get(f"/quotations/?customer={BIG}")
    assert response.status_code == 200
    assert "QUO-" not in response.get_data(as_text=True)


@pytest.mark.parametrize("field", ["customer_id", "lines-0-product"])
def test_a_huge_customer_or_product_in_the_form_is_refused(app, data, field):
    client = _client(app)
    form = {"csrf_token": _token(client, "/quotations/new"), "customer_id": str(data["customer"]),
            "ship_line1": "9 Road", "lines-0-product": "P-001", "lines-0-quantity": "1", field: BIG}
    assert client.post("/quotations/new", data=form).status_code == 422
    with app.app_context():
        assert db.session.query(Quotation).count() == 2


def test_the_edit_form_shows_a_round_discount_as_typed(app, data):
    with app.app_context():
        db.session.get(Quotation, data["draft"]).lines[0].discount_percent = 10
        db.session.commit()
    body = _client(app).get(f"/quotations/{data['draft']}/edit").get_data(as_text=True)
    assert "1E+1" not in body and 'value="10"' in body


def test_the_api_product_id_is_never_read_as_a_product_code(app, data):
    pen = data["products"][0]
    with app.test_request_context():
        orders.create_product(str(pen), "Decoy", "99", "CNY")  # a product whose code is the pen's id
        db.session.commit()
    body = {"customer_id": data["customer"], "ship_line1": "1 Road", "lines": [{"product_id": pen, "quantity": 1}]}
    created = app.test_client().post("/api/v1/quotations", json=body, headers=token_for(app, PERMS))
    assert created.status_code == 201, created.json
    line = created.json["lines"][0]
    assert line["product_id"] == pen and line["sku"] == "P-001"


def test_sending_again_a_quotation_past_its_validity_makes_it_valid_again(app, data):
    from datetime import timedelta

    with app.test_request_context():
        quotation = db.session.get(Quotation, data["sent"])
        quotation.valid_until = services.today() - timedelta(days=1)  # the expiry job has not run yet
        db.session.commit()
        services.send_quotation(quotation, mail=False)
        db.session.commit()
        assert quotation.valid_until >= services.today()
        assert services.accept(quotation).number.startswith("SO-")


def test_only_who_may_decide_sees_the_customer_link(app, data):
    viewer = _client(app, perms=("quotations.view",))
    body = viewer.get(f"/quotations/{data['sent']}").get_data(as_text=True)
    assert data["token"] not in body and 'data-testid="customer-link"' not in body
    api = app.test_client()
    seen = api.get(f"/api/v1/quotations/{data['sent']}", headers=token_for(app, ["quotations.view"])).json
    assert seen["customer_link"] is None
    listed = api.get("/api/v1/quotations", headers=token_for(app, ["quotations.view"])).json
    assert all(item["customer_link"] is None for item in listed["items"])
    manager = _client(app, perms=("quotations.view", "quotations.manage"))
    assert data["token"] in manager.get(f"/quotations/{data['sent']}").get_data(as_text=True)
    managed = api.get(f"/api/v1/quotations/{data['sent']}", headers=token_for(app, PERMS)).json
    assert data["token"] in managed["customer_link"]


def test_a_quotation_whose_total_no_order_could_take_is_refused(app, data):
    from erp_core.errors import DomainError
    from tests.quotations.common import quote_input

    price = "60000000"  # x 100,000 = 6e14 minor units a line: each line fits, the two do not
    lines = [services.LineInput("P-001", "100000", price), services.LineInput("P-002", "100000", price)]
    with app.test_request_context():
        with pytest.raises(DomainError):
            services.create_quotation(quote_input(data, lines=lines))
