"""Admin > Mail: settings (the password never shown back), the test e-mail, the outbox, the
banner while mail is not set up, and the "not sent" notice."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from erp_core import mail, settings
from erp_core.extensions import db
from erp_core.mail import MailMessage
from erp_core.models import AuditLog
from tests.helpers import QueryCounter, login, make_user

FORM = {"server": "smtp.qq.com", "port": "465", "security": "ssl", "username": "shop@qq.com",
        "password": "auth-code-4f9", "sender": "shop@qq.com", "sender_name": "茗香茶具商行"}


@pytest.fixture
def admin(app, client):
    login(client, app, make_user(app, roles=["admin"], username="boss", email="boss@example.com"))
    return client


def _stored(app, key):
    with app.test_request_context():
        return settings.get(key)


@pytest.mark.parametrize(("method", "url"), [("get", "/admin/mail/"), ("post", "/admin/mail/"),
                                             ("post", "/admin/mail/test"), ("get", "/admin/mail/outbox"),
                                             ("post", "/admin/mail/outbox/1/retry")])
def test_only_settings_managers_may_open_mail(app, client, method, url):
    login(client, app, make_user(app, perms=["core.audit.view"]))
    assert getattr(client, method)(url, data={}).status_code == 403


def test_saving_settings_never_shows_the_password_back(app, admin):
    answer = admin.post("/admin/mail/", data=FORM, follow_redirects=True)
    assert answer.status_code == 200
    assert _stored(app, "mail.server") == "smtp.qq.com" and _stored(app, "mail.port") == 465
    assert _stored(app, "mail.password") == "auth-code-4f9"
    page = admin.get("/admin/mail/").get_data(as_text=True)
    assert "smtp.qq.com" in page and "茗香茶具商行" in page
    assert "auth-code" not in page and "4f9" not in page  # not even its end
    with app.app_context():
        entry = db.session.scalar(select(AuditLog).where(AuditLog.object_id == "mail"))
        assert entry.after["mail.password"] == "***" and "auth-code" not in str(entry.before)
    # An empty password field keeps the stored one.
    admin.post("/admin/mail/", data={**FORM, "password": "", "sender_name": "Shop"})
    assert _stored(app, "mail.password") == "auth-code-4f9" and _stored(app, "mail.sender_name") == "Shop"


def test_mail_fields_are_not_on_the_general_settings_page(app, admin):
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert "mail__server" not in page and "mail__password" not in page


@pytest.mark.parametrize(("field", "value", "message"), [
    ("sender", "not-an-address", "is not a valid e-mail address"),
    ("sender", "", "Enter the address mails are sent from"),
    ("server", "smtp qq com", "Enter a host name"),
    ("port", "70000", "Number must be between 1 and 65535"),
    ("security", "rot13", "Not a valid choice"),
    ("sender_name", "x" * 101, "too long"),
])
def test_bad_settings_are_refused_and_change_nothing(app, admin, field, value, message):
    answer = admin.post("/admin/mail/", data={**FORM, field: value})
    assert answer.status_code == 400 and message in answer.get_data(as_text=True)
    assert _stored(app, "mail.server") == ""


def test_the_test_email_shows_the_servers_answer(make_app, smtp_server):
    app = make_app(plugins=[], MAIL_CA_FILE=smtp_server.ca_file)
    client = app.test_client()
    login(client, app, make_user(app, roles=["admin"], email="boss@example.com"))
    page = client.get("/admin/mail/").get_data(as_text=True)
    assert 'value="boss@example.com"' in page  # the test goes to the admin by default
    client.post("/admin/mail/", data={**FORM, "server": smtp_server.host, "port": str(smtp_server.port),
                                      "security": "none", "username": "", "sender": "shop@example.com"})
    answer = client.post("/admin/mail/test", data={"to": "boss@example.com"})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "The server accepted the test e-mail." in text and "250 2.0.0 Ok" in text
    [received] = smtp_server.messages
    assert received.rcpt_tos == ["boss@example.com"] and received["Subject"] == "Test e-mail"
    assert received.html() and smtp_server.host in received.text()
    # The server refuses: its answer is shown.
    smtp_server.reject = "554 5.7.1 Sender address rejected"
    answer = client.post("/admin/mail/test", data={"to": "boss@example.com"})
    assert answer.status_code == 400 and "554 5.7.1 Sender address rejected" in answer.get_data(as_text=True)
    answer = client.post("/admin/mail/test", data={"to": "nobody"})
    assert answer.status_code == 400 and "is not a valid e-mail address" in answer.get_data(as_text=True)
    assert len(smtp_server.messages) == 1


def test_the_test_email_when_the_server_cannot_be_reached(make_app, smtp_server):
    app = make_app(plugins=[], **smtp_server.app_config())
    smtp_server.stop()
    client = app.test_client()
    login(client, app, make_user(app, roles=["admin"]))
    answer = client.post("/admin/mail/test", data={"to": "boss@example.com"})
    assert answer.status_code == 400 and "ConnectionRefusedError" in answer.get_data(as_text=True)


def test_the_test_email_before_mail_is_set_up(app, admin):
    answer = admin.post("/admin/mail/test", data={"to": "boss@example.com"})
    assert answer.status_code == 400 and "Mail is not set up yet." in answer.get_data(as_text=True)


def test_banner_for_admins_while_mail_is_not_set_up(app, admin):
    assert 'data-testid="mail-banner"' in admin.get("/dashboard").get_data(as_text=True)
    staff = app.test_client()
    login(staff, app, make_user(app, perms=["core.audit.view"]))
    assert 'data-testid="mail-banner"' not in staff.get("/dashboard").get_data(as_text=True)
    admin.post("/admin/mail/", data={**FORM, "security": "starttls"})
    assert 'data-testid="mail-banner"' not in admin.get("/dashboard").get_data(as_text=True)


def test_no_banner_when_the_config_file_sets_mail_up(make_app, smtp_server):
    app = make_app(plugins=[], **smtp_server.app_config())
    client = app.test_client()
    login(client, app, make_user(app, roles=["admin"]))
    assert 'data-testid="mail-banner"' not in client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="mail-from-config"' in client.get("/admin/mail/").get_data(as_text=True)


def _queue_many(app, count, **kwargs):
    with app.test_request_context():
        for n in range(count):
            mail.queue_mail(f"c{n}@example.com", f"Message {n}", "Body", **kwargs)
        db.session.commit()


def test_outbox_lists_filters_and_pages_without_n_plus_1(app, admin):
    _queue_many(app, 3)  # mail is not set up: kept as not sent
    with app.app_context():
        db.session.add(MailMessage(recipients=["x@example.com"], subject="<script>alert(1)</script>", body_text="b",
                                   status="failed", attempts=5, last_error="550 <b>no such user</b>"))
        db.session.commit()
    page = admin.get("/admin/mail/outbox").get_data(as_text=True)
    assert page.count('data-status="not_configured"') == 3 and page.count('data-status="failed"') == 1
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page and "&lt;b&gt;no such user" in page
    failed = admin.get("/admin/mail/outbox?status=failed").get_data(as_text=True)
    assert failed.count("<tr data-status=") == 1 and "550" in failed
    with app.app_context():
        engine = db.engine
    with QueryCounter(engine) as few:
        admin.get("/admin/mail/outbox")
    _queue_many(app, 30)
    with QueryCounter(engine) as many:
        second = admin.get("/admin/mail/outbox?page=2").get_data(as_text=True)
    assert many.count == few.count and "Message 0" in second


def test_retry_from_the_outbox(make_app, smtp_server):
    app = make_app(plugins=[])  # mail not set up yet
    client = app.test_client()
    login(client, app, make_user(app, roles=["admin"]))
    _queue_many(app, 1)
    with app.app_context():
        message_id = db.session.scalar(select(MailMessage.id))
    answer = client.post(f"/admin/mail/outbox/{message_id}/retry", follow_redirects=True)
    assert "Mail is not set up yet." in answer.get_data(as_text=True) and smtp_server.messages == []
    with app.test_request_context():
        settings.set_many(smtp_server.settings())
        db.session.commit()
    answer = client.post(f"/admin/mail/outbox/{message_id}/retry", follow_redirects=True)
    assert "The message is being sent again." in answer.get_data(as_text=True)
    assert [m["Subject"] for m in smtp_server.messages] == ["Message 0"]
    with app.app_context():
        assert db.session.get(MailMessage, message_id).status == "sent"
    answer = client.post(f"/admin/mail/outbox/{message_id}/retry", follow_redirects=True)
    assert "Only failed, retrying or unsent messages can be sent again." in answer.get_data(as_text=True)
    assert client.post("/admin/mail/outbox/999/retry").status_code == 404


def test_no_notice_for_visitors(app):
    """A customer on a public page is not told about the site's mail setup."""
    from flask import get_flashed_messages

    with app.test_request_context("/contact", method="POST"):
        assert mail.queue_mail("a@example.com", "S", "B") is False
        assert get_flashed_messages() == []
