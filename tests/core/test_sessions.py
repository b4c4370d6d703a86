"""Sessions end on logout, password change and deactivation; API tokens need the password again."""

from datetime import timedelta

from erp_core.api.models import ApiToken
from erp_core.auth.models import User
from erp_core.extensions import db
from tests.helpers import login, make_user

PASSWORD = "correct-horse-battery"


def _signed_in_pair(app, user_id=None, **user):
    """Two clients sharing one session cookie: the second one is the copied cookie."""
    user_id = user_id or make_user(app, username="fay", password=PASSWORD, **user)
    mine = app.test_client()
    assert mine.post("/login", data={"username": "fay", "password": PASSWORD}).status_code == 302
    copy = app.test_client()
    cookie = mine.get_cookie("erp_session")
    copy.set_cookie("erp_session", cookie.value)
    assert copy.get("/profile").status_code == 200
    return user_id, mine, copy


def _token_count(app) -> int:
    with app.app_context():
        return db.session.query(ApiToken).count()


def test_a_cookie_copied_before_logout_opens_nothing_after_it(make_app):
    app = make_app(plugins=[])
    _user_id, mine, copy = _signed_in_pair(app)
    assert mine.post("/logout").status_code == 302
    assert copy.get("/profile").status_code == 302  # sent to sign in
    refused = copy.post("/profile/tokens", data={"name": "stolen", "password": PASSWORD})
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]
    assert _token_count(app) == 0


def test_a_password_change_ends_the_copied_session_and_keeps_this_one(make_app):
    app = make_app(plugins=[])
    _user_id, mine, copy = _signed_in_pair(app)
    changed = mine.post("/profile", data={"action": "password", "pw-current_password": PASSWORD,
                                          "pw-password": "another-long-password", "pw-confirm": "another-long-password"})
    assert changed.status_code == 302
    assert mine.get("/profile").status_code == 200
    assert copy.get("/profile").status_code == 302


def test_set_password_from_the_command_line_ends_sessions(make_app):
    from erp_core.auth import services

    app = make_app(plugins=[])
    user_id, mine, copy = _signed_in_pair(app)
    with app.app_context():
        services.set_password(db.session.get(User, user_id), "brand-new-staircase")
        db.session.commit()
    assert mine.get("/profile").status_code == 302
    assert copy.get("/profile").status_code == 302


def test_deactivation_by_an_administrator_ends_the_users_sessions(make_app):
    app = make_app(plugins=[])
    user_id, mine, _copy = _signed_in_pair(app)
    admin = app.test_client()
    login(admin, app, make_user(app, roles=["admin"]))
    saved = admin.post(f"/admin/users/{user_id}", data={"username": "fay", "display_name": "", "email": "",
                                                        "locale": "", "timezone": ""})
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.get(User, user_id).active is False
    assert mine.get("/profile").status_code == 302


def test_creating_a_token_asks_for_the_password(make_app):
    app = make_app(plugins=[])
    client = app.test_client()
    login(client, app, make_user(app))
    refused = client.post("/profile/tokens", data={"name": "shop", "password": "not-my-password"})
    assert refused.status_code == 422
    assert "The password is wrong; no token was created." in refused.get_data(as_text=True)
    assert client.post("/profile/tokens", data={"name": "shop"}).status_code == 422
    assert _token_count(app) == 0
    created = client.post("/profile/tokens", data={"name": "shop", "password": PASSWORD})
    assert created.status_code == 302 and _token_count(app) == 1


def test_the_profile_lists_tokens_with_their_last_use(make_app):
    from erp_core.testing import bearer

    app = make_app(plugins=[])
    client = app.test_client()
    login(client, app, make_user(app))
    client.post("/profile/tokens", data={"name": "shop sync", "password": PASSWORD})
    page = client.get("/profile").get_data(as_text=True)
    import re

    token = re.search(r"(erp_[A-Za-z0-9_-]{20,})", page).group(1)
    assert app.test_client().get("/api/v1/me", headers=bearer(token)).status_code == 200
    with app.app_context():
        row = db.session.query(ApiToken).one()
        first = row.last_used_at
        assert first is not None
    app.test_client().get("/api/v1/me", headers=bearer(token))
    with app.app_context():
        assert db.session.query(ApiToken).one().last_used_at == first  # no write within the minute
        row = db.session.query(ApiToken).one()
        row.last_used_at = first - timedelta(minutes=2)
        db.session.commit()
    app.test_client().get("/api/v1/me", headers=bearer(token))
    with app.app_context():
        assert db.session.query(ApiToken).one().last_used_at > first - timedelta(minutes=2)
    profile = client.get("/profile").get_data(as_text=True)
    assert "shop sync" in profile and "Revoke" in profile
