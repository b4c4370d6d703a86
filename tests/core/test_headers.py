"""Security headers (erp_core/headers.py), the request id a proxy may send, and role titles shown
as data: what keeps the next escaping slip from running script."""

import re

import pytest

from erp_core.auth.models import Role
from erp_core.extensions import db
from tests.helpers import api_token, bearer, login, make_user

SCRIPT = '<script>alert("role-xss")</script>'


def _policy(response) -> dict[str, str]:
    parts = [p.strip().split(None, 1) for p in response.headers["Content-Security-Policy"].split(";")]
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts if p}


def test_every_header_is_present_on_pages_api_and_errors(make_app):
    app = make_app(plugins=[])
    client = app.test_client()
    for path in ("/login", "/", "/api/v1/openapi.json", "/no-such-page"):
        response = client.get(path)
        policy = _policy(response)
        assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"], path
        assert re.fullmatch(r"'self' 'nonce-[A-Za-z0-9_-]{20,}'", policy["script-src"]), path
        assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_the_nonce_changes_per_request_and_is_the_one_templates_get(make_app):
    app = make_app(plugins=[])
    client = app.test_client()
    first, second = client.get("/login"), client.get("/login")
    assert _policy(first)["script-src"] != _policy(second)["script-src"]
    with app.test_request_context("/"):
        template = app.jinja_env.from_string("{{ csp_nonce() }}|{{ csp_nonce() }}")
        a, b = template.render().split("|")
        assert a == b and len(a) >= 20


def test_no_inline_script_without_the_nonce_on_signed_in_pages(admin_client):
    body = admin_client.get("/").get_data(as_text=True)
    for tag in re.findall(r"<script\b[^>]*>", body):
        assert "src=" in tag or "application/json" in tag or "nonce=" in tag, tag
    assert not re.search(r"\son[a-z]+=\"", body)


def test_signed_in_pages_are_not_stored_but_static_files_are_cached(make_app):
    app = make_app(plugins=[])
    client = app.test_client()
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    login(client, app, make_user(app, roles=["admin"], username="admin"))
    for path in ("/", "/admin/users", "/api/v1/openapi.json"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    static = client.get("/static/js/erp.js")
    assert static.status_code == 200
    assert "no-store" not in static.headers.get("Cache-Control", "")
    assert static.headers["X-Content-Type-Options"] == "nosniff"
    static.close()


def test_api_answers_to_a_token_are_not_stored(make_app):
    app = make_app(plugins=[])
    client = app.test_client()
    assert "no-store" not in client.get("/api/v1/openapi.json").headers.get("Cache-Control", "")
    headers = bearer(api_token(app, roles=["admin"]))
    assert client.get("/api/v1/me", headers=headers).headers["Cache-Control"] == "no-store"


def test_a_response_with_its_own_policy_keeps_it(make_app):
    app = make_app(plugins=[])

    from erp_core.security import public

    @app.route("/own-policy")
    @public
    def own_policy():
        return "x", 200, {"Content-Security-Policy": "default-src 'none'; sandbox"}

    assert app.test_client().get("/own-policy").headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


@pytest.mark.parametrize("incoming", [
    "abc\tdef", "a%0Ab", "x" * 65, "<script>", "a b", "id\"quoted", "ünïcode", "a;b", "",
])
def test_an_unsafe_request_id_is_replaced(make_app, incoming):
    app = make_app(plugins=[])
    response = app.test_client().get("/login", headers={"X-Request-ID": incoming})
    assert response.headers["X-Request-ID"] != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


@pytest.mark.parametrize("incoming", ["req-123", "A.b_C-9", "x" * 64])
def test_a_safe_request_id_is_kept(make_app, incoming):
    app = make_app(plugins=[])
    assert app.test_client().get("/login", headers={"X-Request-ID": incoming}).headers["X-Request-ID"] == incoming


def test_role_titles_are_data_on_roles_and_users_pages(admin_client, app):
    with app.app_context():
        role = Role(name="scripted", title=SCRIPT, builtin=False)
        db.session.add(role)
        db.session.commit()
        role_id = role.id
    make_user(app, roles=["scripted"], username="victim")
    pages = ["/admin/roles", f"/admin/roles/{role_id}", "/admin/users", "/admin/users/new"]
    for path in pages:
        body = admin_client.get(path).get_data(as_text=True)
        assert SCRIPT not in body, path
        assert "&lt;script&gt;alert(" in body, path


def test_built_in_role_titles_are_translated_by_key_and_renamed_ones_shown_as_typed(admin_client, app):
    admin_client.post("/language", data={"lang": "zh_CN"})
    body = admin_client.get("/admin/roles").get_data(as_text=True)
    assert ">管理员</a>" in body and ">财务</a>" in body
    with app.app_context():
        finance = db.session.query(Role).filter_by(name="finance").one()
        finance.title = "Money people"
        db.session.commit()
    body = admin_client.get("/admin/roles").get_data(as_text=True)
    assert ">Money people</a>" in body and ">财务</a>" not in body
