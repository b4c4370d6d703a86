"""Inputs that used to give 500: text the database cannot store, deep JSON, a refused form while
the database is down. Each is a 4xx with a clear message (erp_core.inputs)."""

import io

import pytest

from erp_core.inputs import MAX_JSON_DEPTH, find_text_problem, json_depth, text_problem
from erp_core.testing import api_token, bearer

JSON = {"Content-Type": "application/json"}


def test_text_problem_names_nul_and_lone_surrogates():
    assert text_problem("fine 文本\t\n") is None
    assert "NUL" in text_problem("a\x00b")
    assert "surrogate" in text_problem("a\ud800b")
    assert find_text_problem({"a": [1, {"b": "x\udfff"}]}) and find_text_problem({"k\x00": 1})
    assert find_text_problem({"a": [1, {"b": "ok"}]}) is None


def test_json_depth_ignores_brackets_in_strings():
    assert json_depth(b'{"a": [1, {"b": "[[[[{{{"}]}') == 3
    assert json_depth(b'"\\"[["') == 0
    assert json_depth(b"[" * 10_000) == 10_000


@pytest.fixture
def api(make_app):
    app = make_app()
    return app, app.test_client(), bearer(api_token(app, roles=["admin"]), **JSON)


def test_a_lone_surrogate_in_an_api_text_field_is_a_400(api):
    _app, client, headers = api
    response = client.post("/api/v1/customers", data='{"name": "a\\ud800b"}', headers=headers)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert "surrogate" in response.json["detail"]
    chinese = client.post("/api/v1/customers", data='{"name": "a\\udc00"}',
                          headers={**headers, "Accept-Language": "zh-CN"})
    assert chinese.status_code == 400 and "代理" in chinese.json["detail"]


def test_json_nested_10000_deep_is_a_400(api):
    _app, client, headers = api
    for body in ("[" * 10_000 + "]" * 10_000, '{"name": ' + "[" * 10_000 + "]" * 10_000 + "}"):
        response = client.post("/api/v1/customers", data=body, headers=headers)
        assert response.status_code == 400, response.data[:200]
        assert str(MAX_JSON_DEPTH) in response.json["detail"]


def test_a_nul_in_a_url_path_is_a_400(make_app):
    client = make_app().test_client()
    for path in ("/logistics/webhooks/a%00b", "/finance/callback/a%00b", "/api/v1/orders?status=a%00"):
        response = client.post(path, data="{}", headers=JSON)
        assert response.status_code in (400, 401), path
        if response.status_code == 400:
            assert b"NUL" in response.data, path


def test_the_schema_layer_refuses_unstorable_text_beside_the_field(make_app):
    from marshmallow import ValidationError

    from plugins.finance.rest_api import RefundInSchema
    from plugins.orders.rest_api import CustomerCreateSchema

    app = make_app()
    with app.test_request_context():
        for schema, field in ((RefundInSchema(), "reason"), (CustomerCreateSchema(), "name")):
            with pytest.raises(ValidationError) as caught:
                schema.load({field: "a\x00b"})
            assert "NUL" in caught.value.messages[field][0]
            with pytest.raises(ValidationError) as caught:
                schema.load({field: "a\ud800"})
            assert "surrogate" in caught.value.messages[field][0]


def test_a_nul_in_a_csv_cell_is_refused_with_a_message(make_app):
    from erp_core.extensions import db
    from plugins.orders.models import Product
    from tests.orders.conftest import client_with

    app = make_app()
    client = client_with(app, perms=["orders.import", "orders.view", "orders.products.view"])
    data = {"file": (io.BytesIO(b"sku,name,price\nA,B\x00C,1\n"), "data.csv")}
    response = client.post("/orders/products/import", data=data, content_type="multipart/form-data")
    assert response.status_code == 422 and "NUL" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Product).count() == 0


@pytest.mark.parametrize("language, text", [("en", "The form had expired"), ("zh-CN", "表单已过期")])
def test_a_post_without_csrf_token_while_the_database_is_down_is_a_400(tmp_path, language, text):
    from erp_core.app import create_app
    from tests.conftest import base_config

    app = create_app(base_config(f"sqlite:///{tmp_path / 'gone' / 'erp.sqlite'}", WTF_CSRF_ENABLED=True),
                     instance=tmp_path / "instance")
    app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    response = app.test_client().post("/login", data={"username": "a", "password": "b"},
                                      headers={"Accept-Language": language})
    assert response.status_code == 400
    assert text in response.get_data(as_text=True)
