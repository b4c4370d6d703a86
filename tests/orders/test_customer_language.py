"""The customer's preferred language (of notifications): form, page, API, and its default."""

from sqlalchemy import select

from erp_core import settings
from erp_core.extensions import db
from plugins.orders import services
from plugins.orders.models import Customer
from tests.orders.test_rest_api import token_for


def _customer(app, name):
    with app.app_context():
        return db.session.scalars(select(Customer).where(Customer.name == name)).one()


def test_new_customer_defaults_to_the_company_language_and_the_form_changes_it(orders_app, staff):
    with orders_app.app_context():
        settings.set_many({"company.locale": "zh_CN"})
        db.session.commit()
    page = staff.get("/orders/customers/new").get_data(as_text=True)
    assert '<option selected value="zh_CN">' in page
    assert staff.post("/orders/customers/new", data={"name": "王芳", "language": "zh_CN"}).status_code == 302
    assert staff.post("/orders/customers/new", data={"name": "Jane", "language": "en"}).status_code == 302
    assert _customer(orders_app, "王芳").language == "zh_CN" and _customer(orders_app, "Jane").language == "en"
    jane = _customer(orders_app, "Jane")
    assert staff.post(f"/orders/customers/{jane.id}/edit", data={"name": "Jane", "language": "zh_CN"}).status_code == 302
    assert _customer(orders_app, "Jane").language == "zh_CN"
    assert "简体中文" in staff.get(f"/orders/customers/{jane.id}").get_data(as_text=True)


def test_unknown_language_is_refused_and_changes_nothing(orders_app, staff):
    response = staff.post("/orders/customers/new", data={"name": "X", "language": "fr"})
    assert response.status_code == 422 and "Unknown language: fr" in response.get_data(as_text=True)
    with orders_app.app_context():
        assert db.session.scalar(select(Customer.id)) is None


def test_existing_customers_without_a_language_follow_the_company(orders_app):
    with orders_app.test_request_context():
        customer = services.create_customer("Old", language="en")
        customer.language = None  # as rows made before the column existed
        settings.set_many({"company.locale": "zh_CN"})
        assert services.customer_language(customer) == "zh_CN"
        settings.set_many({"company.locale": "en"})
        assert services.customer_language(customer) == "en"
        db.session.rollback()


def test_api_reads_and_writes_the_language(orders_app):
    from tests.orders.conftest import ALL_ORDER_PERMS

    auth = token_for(orders_app, ALL_ORDER_PERMS)
    client = orders_app.test_client()
    response = client.post("/api/v1/customers", json={"name": "Lucy", "language": "zh_CN"}, headers=auth)
    assert response.status_code == 201 and response.json["language"] == "zh_CN"
    url = response.headers["Location"]
    response = client.patch(url, json={"language": "en"}, headers=auth)
    assert response.status_code == 200 and response.json["language"] == "en"
    response = client.patch(url, json={"language": "fr"}, headers=auth)
    assert response.status_code == 422
    assert client.get(url, headers=auth).json["language"] == "en"
