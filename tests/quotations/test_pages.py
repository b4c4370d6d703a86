"""Quotation pages: every page answers in both languages, forms do what they say, refusals keep
nothing, permissions hold (403), hostile text is escaped, the list stays bounded, the customer's
link views, accepts and declines."""

import re

import pytest

from erp_core.extensions import db
from plugins.orders.public import Order
from plugins.quotations import services, states
from plugins.quotations.models import Quotation
from tests.helpers import QueryCounter, login, make_user
from tests.quotations.common import PLUGINS, make_quotation, setup_data

XSS = "<script>alert(1)</script>"


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS)


@pytest.fixture
def data(app):
    with app.test_request_context():
        data = setup_data()
        sent = make_quotation(data)
        draft = make_quotation(data, send=False)
        data.update(sent=sent.id, draft=draft.id, token=services.token_of(sent))
        return data


def _client(app, perms=None):
    client = app.test_client()
    login(client, app, make_user(app, perms=perms or (), roles=() if perms else ("admin",)))
    return client


def _token(client, url):
    body = client.get(url).get_data(as_text=True)
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body)
    return found.group(1)


def _pages(data):
    return ["/quotations/", "/quotations/?status=sent&q=QUO", f"/quotations/?customer={data['customer']}",
            "/quotations/new", f"/quotations/{data['draft']}/edit", f"/quotations/{data['sent']}",
            f"/quotations/{data['sent']}/print", f"/quotations/{data['sent']}/print?lang=en", "/quotations/report"]


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_every_page_answers_in_both_languages(app, data, language):
    client = _client(app)
    with client.session_transaction() as sess:
        sess["language"] = language
    for url in _pages(data) + [f"/q/{data['sent']}/{data['token']}"]:
        response = client.get(url, headers={"Accept-Language": language})
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        assert "None" not in body, url
    assert "报价单" in client.get(f"/quotations/{data['sent']}/print?lang=zh_CN").get_data(as_text=True)
    assert "Quotation" in client.get(f"/quotations/{data['sent']}/print?lang=en").get_data(as_text=True)


def test_without_permission_every_page_is_refused(app, data):
    client = _client(app, perms=("orders.view",))
    for url in _pages(data):
        assert client.get(url).status_code == 403, url
    viewer = _client(app, perms=("quotations.view",))
    assert viewer.get("/quotations/").status_code == 200
    for url in ("/quotations/new", f"/quotations/{data['draft']}/edit"):
        assert viewer.get(url).status_code == 403, url
    for action in ("send", "accept", "decline", "cancel"):
        assert viewer.post(f"/quotations/{data['sent']}/{action}").status_code == 403, action


def test_staff_create_send_and_accept(app, data):
    client = _client(app)
    token = _token(client, "/quotations/new")
    form = {"csrf_token": token, "customer_id": str(data["customer"]), "ship_line1": "9 Road", "ship_country": "CN",
            "notes": XSS, "lines-0-product": "P-001", "lines-0-quantity": "4", "lines-0-unit_price": "8.00",
            "lines-0-discount": ""}
    response = client.post("/quotations/new", data=form)
    assert response.status_code == 302
    with app.app_context():
        quotation = db.session.query(Quotation).order_by(Quotation.id.desc()).first()
        assert quotation.total_minor == 3200 and quotation.notes == XSS
        quotation_id = quotation.id
    detail = client.get(f"/quotations/{quotation_id}").get_data(as_text=True)
    assert XSS not in detail and "&lt;script&gt;" in detail
    assert XSS not in client.get(f"/quotations/{quotation_id}/print").get_data(as_text=True)
    token = _token(client, f"/quotations/{quotation_id}")
    assert client.post(f"/quotations/{quotation_id}/send", data={"csrf_token": token}).status_code == 302
    assert client.post(f"/quotations/{quotation_id}/accept", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        quotation = db.session.get(Quotation, quotation_id)
        assert quotation.status == states.ACCEPTED
        assert db.session.get(Order, quotation.order_id).total_minor == 3200


def test_a_bad_form_keeps_nothing_and_says_why(app, data):
    client = _client(app)
    token = _token(client, "/quotations/new")
    response = client.post("/quotations/new", data={"csrf_token": token, "customer_id": str(data["customer"]),
                                                    "ship_line1": "9 Road", "lines-0-product": "NOPE",
                                                    "lines-0-quantity": "1"})
    assert response.status_code == 422
    assert "NOPE" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Quotation).count() == 2


def test_the_customer_link_accepts_once_and_hostile_text_is_escaped(app, data):
    with app.test_request_context():
        db.session.get(Quotation, data["sent"]).notes = XSS
        db.session.commit()
    client = app.test_client()
    url = f"/q/{data['sent']}/{data['token']}"
    body = client.get(url).get_data(as_text=True)
    assert XSS not in body and "&lt;script&gt;" in body
    assert client.get(f"/q/{data['sent']}/wrong").status_code == 404
    assert client.get(f"/q/{data['draft']}/{data['token']}").status_code == 404
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body).group(1)
    assert client.post(url + "/accept", data={"csrf_token": token}).status_code == 302
    assert "SO-" in client.get(url).get_data(as_text=True)
    client.post(url + "/accept", data={"csrf_token": token})
    with app.app_context():
        assert db.session.query(Order).count() == 1


def test_the_customer_declines_with_a_reason(app, data):
    client = app.test_client()
    url = f"/q/{data['sent']}/{data['token']}"
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)
    client.post(url + "/decline", data={"csrf_token": token, "reason": XSS})
    with app.app_context():
        quotation = db.session.get(Quotation, data["sent"])
        assert quotation.status == states.DECLINED and quotation.decline_reason == XSS
    staff = _client(app)
    body = staff.get(f"/quotations/{data['sent']}").get_data(as_text=True)
    assert XSS not in body and "&lt;script&gt;" in body


def test_the_list_is_paginated_without_a_query_per_row(app, data):
    client = _client(app)
    with app.app_context():
        engine = db.engine
    client.get("/quotations/")
    with QueryCounter(engine) as few:
        client.get("/quotations/")
    with app.test_request_context():
        for _i in range(30):
            make_quotation(data, send=False)
    with QueryCounter(engine) as many:
        body = client.get("/quotations/").get_data(as_text=True)
    assert len(many.statements) == len(few.statements)
    assert "page=2" in body


def test_report_page_and_csv(app, data):
    client = _client(app)
    assert "text/csv" in client.get("/quotations/report?format=csv").content_type
    assert client.get("/quotations/report?format=csv").get_data(as_text=True).startswith("Month,Currency,Sent")


def test_the_customer_links_posts_are_throttled(make_app):
    app = make_app(plugins=PLUGINS, QUOTATION_LINK_LIMITS={"address_link": "2 per 10 minutes",
                                                           "address": "4 per 10 minutes"})
    with app.test_request_context():
        data = setup_data()
        sent = make_quotation(data)
        url = f"/q/{sent.id}/{services.token_of(sent)}"
    client = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)
    for _ in range(2):  # refused declines (reason too long) change nothing but count
        assert client.post(url + "/decline", data={"csrf_token": token, "reason": "x" * 1001}).status_code == 302
    refused = client.post(url + "/accept", data={"csrf_token": token})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Please wait 10 minutes" in refused.get_data(as_text=True)
    zh = client.post(url + "/decline", data={"csrf_token": token}, headers={"Accept-Language": "zh-CN"})
    assert zh.status_code == 429 and "分钟后再试" in zh.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Quotation, sent.id).status == states.SENT
        assert db.session.query(Order).count() == 0
    # guessing other links from the same address runs into the per-address limit
    assert client.post(f"/q/{sent.id + 100}/guess/accept", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/q/{sent.id + 101}/guess/accept", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/q/{sent.id + 102}/guess/accept", data={"csrf_token": token}).status_code == 429
    # the customer, from another address, still accepts
    other = app.test_client()
    other_token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                            other.get(url).get_data(as_text=True)).group(1)
    assert other.post(url + "/accept", data={"csrf_token": other_token},
                      environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 302
    with app.app_context():
        assert db.session.get(Quotation, sent.id).status == states.ACCEPTED


def test_the_form_finds_any_customer_by_search_not_a_capped_list(app, data):
    from plugins.orders import services as orders

    with app.test_request_context():
        zhao = orders.create_customer("赵 " + XSS, "139 1111 2222", "zhao@example.com",
                                      address={"line1": "8 Jing'an Road", "city": "Shanghai", "country": "CN"})
        db.session.commit()
        zhao_id, engine = zhao.id, db.engine
    client = _client(app)
    page = client.get("/quotations/new").get_data(as_text=True)
    assert "<option" not in page.split('id="quotation-lines"')[0]  # no list of customers to choose from
    assert 'data-role="customer-search"' in page and "quotations.js" in page
    found = client.get("/quotations/customers.json?q=1391111").get_json()["results"]
    assert [c["id"] for c in found] == [zhao_id]
    assert found[0]["address"]["line1"] == "8 Jing'an Road" and found[0]["email"] == "zhao@example.com"
    client.get("/quotations/customers.json?q=example.com")
    with QueryCounter(engine) as counter:  # the customers and their addresses in one statement more
        assert len(client.get("/quotations/customers.json?q=example.com").get_json()["results"]) == 2
    with QueryCounter(engine) as single:
        client.get("/quotations/customers.json?q=zhao")
    assert counter.count == single.count
    assert client.get("/quotations/customers.json?q=").get_json() == {"results": []}
    assert client.get("/quotations/customers.json?q=" + "x" * 500).status_code == 200
    # the chosen customer is shown by name when the form comes back with an error, escaped
    token = _token(client, "/quotations/new")
    again = client.post("/quotations/new", data={"csrf_token": token, "customer_id": str(zhao_id), "ship_line1": ""})
    body = again.get_data(as_text=True)
    assert again.status_code == 422 and "&lt;script&gt;" in body and XSS not in body
    none = client.post("/quotations/new", data={"csrf_token": token, "customer_id": "", "ship_line1": "9 Road",
                                                 "lines-0-product": "P-001", "lines-0-quantity": "1"})
    assert none.status_code == 422 and "Choose a customer." in none.get_data(as_text=True)
    for perms in (("quotations.view",), ("orders.customers.view",)):
        assert _client(app, perms=perms).get("/quotations/customers.json?q=zhao").status_code == 403
