"""The JSON API: tokens, problem+json errors, idempotent creates, pagination, OpenAPI."""

import threading
from datetime import timedelta

import pytest

from erp_core.api.models import ApiToken, IdempotencyRecord
from erp_core.api.tokens import create_token, revoke_token
from erp_core.auth.models import User
from erp_core.extensions import db
from erp_core.timeutil import utcnow
from tests.core.fakeplugins.alpha import AlphaNote
from tests.helpers import login, make_user

ALPHA = "alpha=tests.core.fakeplugins.alpha"


@pytest.fixture
def api_app(make_app):
    return make_app(plugins=[ALPHA])


def _token(app, user_id, **kw):
    with app.app_context():
        _row, clear = create_token(db.session.get(User, user_id), "test", **kw)
        db.session.commit()
    return clear


def _auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_token_is_shown_once_and_stored_hashed(api_app):
    user_id = make_user(api_app, perms=["alpha.view"])
    token = _token(api_app, user_id)
    with api_app.app_context():
        row = db.session.query(ApiToken).one()
        assert token not in (row.token_hash, row.prefix) and len(row.token_hash) == 64
        assert token.startswith(row.prefix)


def test_me_with_a_token(api_app):
    user_id = make_user(api_app, perms=["alpha.view"], username="robot")
    client = api_app.test_client()
    response = client.get("/api/v1/me", headers=_auth(_token(api_app, user_id)))
    assert response.status_code == 200
    assert response.json["username"] == "robot" and response.json["permissions"] == ["alpha.view"]


def test_no_token_gives_401_problem_json(api_app):
    response = api_app.test_client().get("/api/v1/me")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "unauthorized" and "Bearer" in response.headers["WWW-Authenticate"]


def test_session_cookies_do_not_open_the_api(api_app):
    client = api_app.test_client()
    login(client, api_app, make_user(api_app, roles=["admin"]))
    assert client.get("/dashboard").status_code == 200
    assert client.get("/api/v1/me").status_code == 401


def test_expired_and_revoked_tokens_are_refused(api_app):
    user_id = make_user(api_app, perms=["alpha.view"])
    expired = _token(api_app, user_id, days=1)
    revoked = _token(api_app, user_id)
    with api_app.app_context():
        rows = db.session.query(ApiToken).order_by(ApiToken.id).all()
        rows[0].expires_at = utcnow() - timedelta(seconds=1)
        revoke_token(rows[1])
        db.session.commit()
    client = api_app.test_client()
    assert client.get("/api/v1/me", headers=_auth(expired)).status_code == 401
    assert client.get("/api/v1/me", headers=_auth(revoked)).status_code == 401
    assert client.get("/api/v1/me", headers=_auth("erp_made-up")).status_code == 401


def test_token_acts_with_its_users_permissions(api_app):
    nobody = _token(api_app, make_user(api_app))
    response = api_app.test_client().get("/api/v1/alpha/notes", headers=_auth(nobody))
    assert response.status_code == 403 and response.json["code"] == "forbidden"


def test_validation_errors_are_problem_json_in_the_asked_language(api_app):
    token = _token(api_app, make_user(api_app, perms=["alpha.view"]))
    client = api_app.test_client()
    response = client.post("/api/v1/alpha/notes", json={"text": ""}, headers=_auth(token))
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert "text" in response.json["errors"]
    response = client.post("/api/v1/alpha/notes", json={"text": "forbidden"},
                           headers={**_auth(token), "Accept-Language": "zh-CN"})
    assert response.status_code == 422 and response.json["errors"] == {"text": ["forbidden text"]}
    missing = client.get("/api/v1/alpha/nothing", headers={**_auth(token), "Accept-Language": "zh-CN"})
    assert missing.status_code == 404 and missing.json["title"] == "页面不存在"


def test_pagination_has_links(api_app):
    token = _token(api_app, make_user(api_app, perms=["alpha.view"]))
    with api_app.app_context():
        db.session.add_all([AlphaNote(text=f"n{i}") for i in range(5)])
        db.session.commit()
    response = api_app.test_client().get("/api/v1/alpha/notes?per_page=2&page=2", headers=_auth(token))
    body = response.json
    assert [n["text"] for n in body["items"]] == ["n2", "n3"] and body["total"] == 5
    assert "page=3" in body["links"]["next"] and "page=1" in body["links"]["prev"]
    assert 'rel="next"' in response.headers["Link"]


def test_idempotency_key_replays_the_first_answer(api_app):
    token = _token(api_app, make_user(api_app, perms=["alpha.view"]))
    client = api_app.test_client()
    headers = {**_auth(token), "Idempotency-Key": "abc-1"}
    first = client.post("/api/v1/alpha/notes", json={"text": "once"}, headers=headers)
    again = client.post("/api/v1/alpha/notes", json={"text": "once"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json == again.json and again.headers["Idempotent-Replayed"] == "true"
    other = client.post("/api/v1/alpha/notes", json={"text": "different"}, headers=headers)
    assert other.status_code == 422
    with api_app.app_context():
        assert db.session.query(AlphaNote).count() == 1


def test_a_refused_create_can_be_retried_under_the_same_key(api_app):
    token = _token(api_app, make_user(api_app, perms=["alpha.view"]))
    client = api_app.test_client()
    headers = {**_auth(token), "Idempotency-Key": "k2"}
    assert client.post("/api/v1/alpha/notes", json={"text": "forbidden"}, headers=headers).status_code == 422
    with api_app.app_context():
        assert db.session.query(IdempotencyRecord).count() == 0


def test_concurrent_retries_with_one_key_create_once(api_app):
    token = _token(api_app, make_user(api_app, perms=["alpha.view"]))
    statuses = []

    def post():
        with api_app.test_client() as client:
            statuses.append(client.post("/api/v1/alpha/notes", json={"text": "race"},
                                        headers={**_auth(token), "Idempotency-Key": "race-1"}).status_code)

    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 500 not in statuses and statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}
    with api_app.app_context():
        assert db.session.query(AlphaNote).count() == 1


def test_hook_erp_api_blueprints(api_app):
    """A plugin's API endpoints and their OpenAPI paths follow the plugin switch."""
    from erp_core.plugins import switch_plugin

    client = api_app.test_client()
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.") and "/api/v1/alpha/notes" in spec["paths"]
    assert "/api/v1/me" in spec["paths"]
    with api_app.app_context():
        switch_plugin("alpha", False)
        db.session.commit()
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/alpha/notes" not in spec["paths"] and "/api/v1/me" in spec["paths"]
    token = _token(api_app, make_user(api_app, roles=["admin"]))
    assert client.get("/api/v1/alpha/notes", headers=_auth(token)).status_code == 404


def test_docs_groups_have_readable_titles(api_app):
    spec = api_app.test_client().get("/api/v1/openapi.json").json
    names = [t["name"] for t in spec["tags"]]
    assert "Account" in names and not any(n.endswith("_api") for n in names)
    used = {t for ops in spec["paths"].values() for op in ops.values() if isinstance(op, dict) for t in op["tags"]}
    assert used <= set(names)


def test_docs_page_uses_vendored_assets(api_app):
    page = api_app.test_client().get("/api/v1/docs").get_data(as_text=True)
    assert "vendor/swagger-ui/swagger-ui-bundle.js" in page and "http" not in page.split("<body>")[1]


def test_tokens_are_created_shown_once_and_revoked_from_the_profile(api_app):
    user_id = make_user(api_app, perms=["alpha.view"])
    client = api_app.test_client()
    login(client, api_app, user_id)
    created = client.post("/profile/tokens", data={"name": "shop sync", "days": "30", "password": "correct-horse-battery"})
    assert created.status_code == 302 and created.headers["Location"].endswith("/profile#api-tokens")
    from flask.sessions import SecureCookieSessionInterface

    cookie = created.headers["Set-Cookie"].split("=", 1)[1].split(";", 1)[0]
    carried = SecureCookieSessionInterface().get_signing_serializer(api_app).loads(cookie)
    assert carried["erp_new_api_token"].startswith("enc:v1:")  # it crosses the redirect sealed
    page = client.get("/profile")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "shop sync" in text
    import re

    token = re.search(r"(erp_[A-Za-z0-9_-]{20,})", text).group(1)
    assert api_app.test_client().get("/api/v1/me", headers=_auth(token)).status_code == 200
    assert token not in client.get("/profile").get_data(as_text=True)  # never shown again
    with api_app.app_context():
        token_id = db.session.query(ApiToken).one().id
    assert client.post(f"/profile/tokens/{token_id}/revoke").status_code == 302
    assert api_app.test_client().get("/api/v1/me", headers=_auth(token)).status_code == 401
    bad = client.post("/profile/tokens", data={"name": "", "days": "0", "password": "correct-horse-battery"})
    assert bad.status_code == 422 and "Give the token a name" in bad.get_data(as_text=True)


def test_a_user_cannot_revoke_someone_elses_token(api_app):
    owner = make_user(api_app, perms=["alpha.view"])
    _token(api_app, owner)
    other = api_app.test_client()
    login(other, api_app, make_user(api_app))
    with api_app.app_context():
        token_id = db.session.query(ApiToken).one().id
    assert other.post(f"/profile/tokens/{token_id}/revoke").status_code == 404
    with api_app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is None


def test_every_plugins_schemas_have_distinct_names(make_app, recwarn):
    """Two plugins' schemas under one name would be renamed silently (RefundIn1) by apispec."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        app = make_app()  # every built-in plugin
        with app.test_request_context():
            from erp_core.api.setup import filtered_spec

            schemas = filtered_spec()["components"]["schemas"]
    assert not [name for name in schemas if name[-1].isdigit()]
