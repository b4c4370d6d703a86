"""Common and trivially guessable passwords are refused everywhere, with the reason."""

import pytest

from erp_core.auth import passwords
from erp_core.auth.models import User
from erp_core.errors import DomainError
from erp_core.extensions import db
from tests.helpers import login, make_user

PASSWORD = "correct-horse-battery"


@pytest.mark.parametrize("weak, why", [
    ("aaaaaaaaaa", "repeats characters"),
    ("1234567890", "most common passwords"),
    ("password12", "most common passwords"),
    ("abcdefghijk", "sequence"),
    ("short", "at least 10 characters"),
])
def test_weak_passwords_are_refused_with_the_reason(make_app, weak, why):
    app = make_app(plugins=[])
    with app.test_request_context():
        with pytest.raises(DomainError) as refused:
            passwords.check(weak, "someone")
        assert why in str(refused.value) and refused.value.field == "password"


def test_the_user_name_and_e_mail_count_against_the_password(make_app):
    app = make_app(plugins=[])
    with app.test_request_context():
        with pytest.raises(DomainError, match="user name or e-mail"):
            passwords.check("zhangwei2026", "zhangwei", "zhangwei@example.com")
        passwords.check(PASSWORD, "zhangwei", "zhangwei@example.com")


def test_generated_passwords_always_pass(make_app):
    from erp_core.auth.services import random_password

    app = make_app(plugins=[])
    with app.test_request_context():
        for _ in range(20):
            passwords.check(random_password())


@pytest.mark.parametrize("weak", ["aaaaaaaaaa", "1234567890", "password12"])
def test_the_profile_refuses_a_weak_new_password(make_app, weak):
    app = make_app(plugins=[])
    user_id = make_user(app)
    client = app.test_client()
    login(client, app, user_id)
    response = client.post("/profile", data={"action": "password", "pw-current_password": PASSWORD,
                                             "pw-password": weak, "pw-confirm": weak})
    assert response.status_code == 200
    assert "The password is too easy to guess" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user_id).check_password(PASSWORD)


def test_admin_user_forms_refuse_weak_passwords(make_app):
    app = make_app(plugins=[])
    client = app.test_client()
    login(client, app, make_user(app, roles=["admin"]))
    data = {"username": "newbie", "display_name": "", "email": "", "locale": "", "timezone": "",
            "active": "y", "password": "password12"}
    response = client.post("/admin/users/new", data=data)
    assert "The password is too easy to guess" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(User).filter_by(username="newbie").count() == 0
    other = make_user(app)
    response = client.post(f"/admin/users/{other}", data={**data, "username": "x1", "password": "1234567890"})
    assert "The password is too easy to guess" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, other).check_password(PASSWORD)


def test_the_refusal_is_translated(make_app):
    app = make_app(plugins=[])
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        from flask_babel import refresh

        refresh()
        with pytest.raises(DomainError) as refused:
            passwords.check("aaaaaaaaaa")
        assert "password" not in str(refused.value).lower()
