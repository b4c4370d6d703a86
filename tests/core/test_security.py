"""Every route declares its access; anonymous users are sent to sign in, others get 403."""

import re

import pytest
from werkzeug.security import check_password_hash

from erp_core.auth.models import User
from erp_core.extensions import db
from erp_core.security import PERMISSION, PUBLIC, access_of, is_static_endpoint, safe_next
from tests.helpers import login, make_user

ALPHA = "alpha=tests.core.fakeplugins.alpha"


def _example_url(rule) -> str:
    values = {}
    for arg in rule.arguments:
        converter = rule._converters[arg]
        name = type(converter).__name__
        if name == "IntegerConverter":
            values[arg] = 1
        elif name == "AnyConverter":
            values[arg] = sorted(converter.items)[0] if hasattr(converter, "items") else "x"
        else:
            values[arg] = "x"
    url = rule.rule
    for key, value in values.items():
        url = re.sub(r"<(?:[^:<>]+:)?" + key + r"(?:\([^)]*\))?>", str(value), url)
    return url


class _Route:
    """One URL rule with one of its methods."""

    def __init__(self, rule, method):
        self.rule, self.method = rule.rule, method
        self.endpoint, self.arguments, self._converters = rule.endpoint, rule.arguments, rule._converters
        self.methods = {method}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if is_static_endpoint(rule.endpoint):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield _Route(rule, method), access_of(app.view_functions[rule.endpoint], method)


def test_every_endpoint_declares_its_access(make_app):
    app = make_app(plugins=None)  # every built-in plugin
    unmarked = [(rule.endpoint, rule.method) for rule, mark in _routes(app) if mark is None]
    assert unmarked == []


def test_anonymous_users_are_sent_to_sign_in_everywhere_but_public_pages(make_app):
    app = make_app(plugins=None)
    client = app.test_client()
    for rule, (kind, _code) in _routes(app):
        if kind == PUBLIC:
            continue
        response = client.open(_example_url(rule), method=rule.method)
        if rule.rule.startswith("/api/"):
            assert response.status_code == 401, rule.rule
            assert response.mimetype == "application/problem+json"
            continue
        assert response.status_code == 302, rule.rule
        assert "/login" in response.headers["Location"], rule.rule


def test_users_without_the_permission_get_403(make_app):
    app = make_app(plugins=None)
    client = app.test_client()
    user_id = make_user(app)  # a user with no role at all
    login(client, app, user_id)
    token = _token(app, user_id)
    checked = 0
    for rule, (kind, _code) in _routes(app):
        if kind != PERMISSION:
            continue
        headers = {"Authorization": f"Bearer {token}"} if rule.rule.startswith("/api/") else {}
        response = client.open(_example_url(rule), method=rule.method, headers=headers)
        assert response.status_code == 403, f"{rule.method} {rule.rule} answered {response.status_code}"
        checked += 1
    assert checked >= 8


def _token(app, user_id):
    from erp_core.api.tokens import create_token

    with app.app_context():
        _row, clear = create_token(db.session.get(User, user_id), "walker")
        db.session.commit()
    return clear


def test_permission_through_a_role_opens_the_page(make_app):
    app = make_app(plugins=[ALPHA])
    client = app.test_client()
    login(client, app, make_user(app, perms=["alpha.view"]))
    assert client.get("/alpha/").status_code == 200
    assert client.get("/admin/users").status_code == 403


def test_unmarked_view_is_refused(make_app):
    app = make_app(plugins=[])
    app.add_url_rule("/naked", "naked", lambda: "should not be served")
    client = app.test_client()
    login(client, app, make_user(app, roles=["admin"]))
    assert client.get("/naked").status_code == 403


@pytest.mark.parametrize("target", [
    "//evil.com", "https://evil.com", "/\\evil.com", "\\\\evil.com", "http:/evil.com",
    "javascript:alert(1)", "/\tevil", " //evil.com", "evil.com", "///evil.com",
])
def test_next_refuses_other_sites(target):
    assert safe_next(target, "/dashboard") == "/dashboard"


@pytest.mark.parametrize("target", ["/orders?status=draft", "/admin/users", "/"])
def test_next_keeps_local_paths(target):
    assert safe_next(target, "/dashboard") == target


def test_login_redirects_only_to_local_next(make_app):
    app = make_app(plugins=[])
    make_user(app, username="ann", password="a-long-password")
    client = app.test_client()
    response = client.post("/login?next=//evil.com", data={"username": "ann", "password": "a-long-password"})
    assert response.headers["Location"] == "/dashboard"
    client.post("/logout")
    response = client.post("/login?next=/admin/users", data={"username": "ann", "password": "a-long-password"})
    assert response.headers["Location"] == "/admin/users"


def test_passwords_are_hashed_with_scrypt_by_default(make_app):
    app = make_app(plugins=[], PASSWORD_HASH_METHOD=None)
    user_id = make_user(app, password="a-long-password")
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.password_hash.startswith("scrypt:")
        assert "a-long-password" not in user.password_hash
        assert check_password_hash(user.password_hash, "a-long-password")


def test_session_cookie_is_httponly_samesite_and_secure_over_https(make_app):
    app = make_app(plugins=[])
    make_user(app, username="eve", password="a-long-password")
    client = app.test_client()
    response = client.post("/login", data={"username": "eve", "password": "a-long-password"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = app.test_client().post("/login", data={"username": "eve", "password": "a-long-password"},
                                    base_url="https://localhost")
    assert "Secure" in secure.headers["Set-Cookie"]


def _csrf_exempt(app, rule) -> bool:
    view = app.view_functions[rule.endpoint]
    return f"{view.__module__}.{view.__name__}" in app.extensions["csrf"]._exempt_views


def test_every_post_needs_a_csrf_token(make_app):
    app = make_app(plugins=None, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    login(client, app, make_user(app, roles=["admin"]))
    posts = [rule for rule, _mark in _routes(app) if rule.method == "POST" and not rule.rule.startswith("/api/")]
    assert len(posts) >= 8
    # Only provider webhooks may skip the token: public, and authenticated by their signature.
    for rule in [r for r in posts if _csrf_exempt(app, r)]:
        assert access_of(app.view_functions[rule.endpoint])[0] == PUBLIC, f"{rule.rule}: CSRF-exempt but not public"
    for rule in [r for r in posts if not _csrf_exempt(app, r)]:
        response = client.post(_example_url(rule), data={})
        assert response.status_code == 400, rule.rule
        assert "expired" in response.get_data(as_text=True)


def test_password_change_signs_out_other_sessions(make_app):
    app = make_app(plugins=[])
    user_id = make_user(app, username="fay", password="a-long-password")
    other = app.test_client()
    login(other, app, user_id)
    assert other.get("/profile").status_code == 200
    me = app.test_client()
    login(me, app, user_id)
    response = me.post("/profile", data={"action": "password", "pw-current_password": "a-long-password",
                                         "pw-password": "another-long-password", "pw-confirm": "another-long-password"})
    assert response.status_code == 302
    assert me.get("/profile").status_code == 200
    assert other.get("/profile").status_code == 302


def test_templates_autoescape(make_app):
    app = make_app(plugins=[])
    client = app.test_client()
    login(client, app, make_user(app, roles=["admin"], display_name="<script>x</script>"))
    page = client.get("/dashboard").get_data(as_text=True)
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page


def test_nul_characters_are_refused_before_any_view(make_app):
    app = make_app(plugins=[ALPHA])
    client = app.test_client()
    login(client, app, make_user(app, roles=["admin"]))
    assert client.get("/admin/users?q=a%00b").status_code == 400
    assert client.post("/admin/users/new", data={"username": "x\x00y"}).status_code == 400
    from erp_core.api.tokens import create_token

    with app.app_context():
        _row, token = create_token(db.session.query(User).first(), "t")
        db.session.commit()
    response = app.test_client().post("/api/v1/alpha/notes", data='{"text": "a\\u0000b"}',
                                      headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert response.status_code == 400 and "NUL" in response.json["detail"]
