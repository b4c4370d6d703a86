"""Mail: the outbox, sending through a real SMTP server (plain, STARTTLS, implicit TLS, login),
retries, multipart and Chinese headers, rendering in a language."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from erp_core import mail, settings
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.mail import MailMessage, sending
from erp_core.timeutil import utcnow


def _queue(app, *args, **kwargs):
    with app.test_request_context():
        result = mail.queue_mail(*args, **kwargs)
        db.session.commit()  # the send job runs after commit
    return result


def _rows(app):
    with app.app_context():
        rows = db.session.scalars(select(MailMessage).order_by(MailMessage.id)).all()
        db.session.expunge_all()
        return rows


def test_plain_message_goes_through_the_outbox(make_app, smtp_server):
    app = make_app(plugins=[], **smtp_server.app_config())
    assert _queue(app, "ann@example.com", "Hello", "Plain body") is True
    [received] = smtp_server.messages
    assert received.rcpt_tos == ["ann@example.com"] and received.mail_from == "shop@example.com"
    assert received["Subject"] == "Hello" and received.text().strip() == "Plain body"
    assert not received.message.is_multipart() and received.login is None and not received.tls
    [row] = _rows(app)
    assert row.status == "sent" and row.attempts == 1 and row.server_reply.startswith("250")
    assert row.sent_at is not None and row.message_id == received["Message-ID"]


def test_rollback_drops_the_message(make_app, smtp_server):
    app = make_app(plugins=[], **smtp_server.app_config())
    with app.test_request_context():
        assert mail.queue_mail(["ann@example.com"], "Hello", "Body") is True
        db.session.rollback()
    assert smtp_server.messages == [] and _rows(app) == []


def test_no_recipients_queue_nothing(make_app, smtp_server):
    app = make_app(plugins=[], **smtp_server.app_config())
    assert _queue(app, [], "Hello", "Body") is False
    assert _queue(app, ["  "], "Hello", "Body") is False
    assert _rows(app) == []


def test_starttls_with_login(make_app, smtp_server_factory):
    server = smtp_server_factory("starttls", users={"shop": "s3cret"})
    app = make_app(plugins=[], **server.app_config())
    assert _queue(app, "ann@example.com", "Over TLS", "Body") is True
    [received] = server.messages
    assert received.tls and received.login == "shop"


def test_implicit_tls_from_the_admin_settings(make_app, smtp_server_factory):
    """Port 465 style (QQ, 163, Aliyun): TLS from the first byte, then login; set in Admin > Mail."""
    server = smtp_server_factory("ssl", users={"shop@example.com": "auth-code"})
    app = make_app(plugins=[], MAIL_CA_FILE=server.ca_file)
    with app.test_request_context():
        settings.set_many(server.settings())
        db.session.commit()
    assert _queue(app, "ann@example.com", "Over SSL", "Body") is True
    [received] = server.messages
    assert received.tls and received.login == "shop@example.com"


def test_wrong_password_is_recorded(make_app, smtp_server_factory):
    server = smtp_server_factory("starttls", users={"shop": "s3cret"})
    app = make_app(plugins=[], **server.app_config(MAIL_PASSWORD="wrong"))
    _queue(app, "ann@example.com", "Hello", "Body")
    [row] = _rows(app)
    assert server.messages == [] and row.status == "retrying" and "535" in row.last_error


def test_an_untrusted_certificate_is_refused(make_app, smtp_server_factory):
    server = smtp_server_factory("ssl")
    app = make_app(plugins=[], **server.app_config(MAIL_CA_FILE=""))
    _queue(app, "ann@example.com", "Hello", "Body")
    [row] = _rows(app)
    assert server.messages == [] and row.status == "retrying" and "CERTIFICATE_VERIFY_FAILED" in row.last_error


def test_multipart_with_chinese_subject_and_sender(make_app, smtp_server):
    app = make_app(plugins=[], **smtp_server.app_config(MAIL_FROM_NAME="茗香茶具商行"))
    html = "<p>您的订单 <b>SO-1</b> 已发货</p>"
    assert _queue(app, "张三@example.com", "订单已发货：SO-1", "您的订单 SO-1 已发货", html=html, language="zh_CN")
    [received] = smtp_server.messages
    raw_headers = received.data.split(b"\r\n\r\n", 1)[0]
    assert "订单".encode() not in raw_headers  # encoded words, not raw bytes, in the headers
    assert received["Subject"] == "订单已发货：SO-1"
    assert received["From"].addresses[0].display_name == "茗香茶具商行"
    assert received["Content-Language"] == "zh-CN"
    assert received.message.get_content_type() == "multipart/alternative"
    assert received.text().strip() == "您的订单 SO-1 已发货" and received.html().strip() == html


def test_failure_retries_then_fails_and_an_admin_sends_it_again(make_app, smtp_server):
    app = make_app(plugins=[], **smtp_server.app_config())
    smtp_server.reject = "451 4.3.0 Mailbox busy, try later"
    _queue(app, "ann@example.com", "Hello", "Body")
    [row] = _rows(app)
    assert row.status == "retrying" and row.attempts == 1 and "451" in row.last_error
    assert row.next_attempt_at > utcnow() + timedelta(seconds=50)
    with app.app_context():
        assert sending.retry_due() == 0  # not due yet
    for attempt in range(2, sending.MAX_ATTEMPTS + 1):
        with app.app_context():
            db.session.execute(update(MailMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
            db.session.commit()
        with app.test_request_context():
            assert sending.retry_due() == 1
            db.session.commit()
        [row] = _rows(app)
        assert row.attempts == attempt
    assert row.status == "failed" and row.next_attempt_at is None and "451" in row.last_error
    assert smtp_server.messages == []
    smtp_server.reject = None
    with app.test_request_context():
        sending.retry_now(db.session.get(MailMessage, row.id))
        db.session.commit()
    [row] = _rows(app)
    assert row.status == "sent" and row.attempts == 1 and row.last_error is None
    assert len(smtp_server.messages) == 1


def test_unreachable_server(make_app, smtp_server):
    app = make_app(plugins=[], **smtp_server.app_config())
    smtp_server.stop()
    _queue(app, "ann@example.com", "Hello", "Body")
    [row] = _rows(app)
    assert row.status == "retrying" and "ConnectionRefusedError" in row.last_error


def test_a_message_is_sent_once_however_many_runners(make_app, smtp_server):
    """Four runners pick the same message at once: the conditional UPDATE lets one send it."""
    app = make_app(plugins=[], **smtp_server.app_config())
    with app.app_context():  # a queued row without its job: the runners below are the jobs
        db.session.add(MailMessage(recipients=["ann@example.com"], subject="Once", body_text="Body", status="queued",
                                   attempts=0, next_attempt_at=utcnow()))
        db.session.commit()
        message_id = db.session.scalar(select(MailMessage.id))
    barrier, results = threading.Barrier(4), []

    def runner():
        with app.app_context():
            barrier.wait()
            results.append(sending.deliver(message_id))
            db.session.remove()

    threads = [threading.Thread(target=runner) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results, key=str) == [None, None, None, "sent"]
    assert len(smtp_server.messages) == 1


def test_not_configured_records_the_message_and_sends_nothing(make_app):
    app = make_app(plugins=[])
    assert _queue(app, "ann@example.com", "Hello", "Body") is False
    [row] = _rows(app)
    assert row.status == "not_configured" and row.attempts == 0
    with app.test_request_context(), pytest.raises(DomainError):
        sending.retry_now(db.session.get(MailMessage, row.id))


def test_render_mail_in_the_recipients_language(make_app):
    app = make_app(plugins=[])
    from flask_babel import lazy_gettext as _l

    with app.test_request_context():
        zh = mail.render_mail("mail/test", subject=_l("Test e-mail"), language="zh_CN", server="smtp.qq.com")
        en = mail.render_mail("mail/test", subject=_l("Test e-mail"), language="en", server="smtp.qq.com")
    assert zh.subject == "测试邮件" and en.subject == "Test e-mail"
    assert "smtp.qq.com" in zh.text and "<html" in zh.html and 'lang="zh-CN"' in zh.html
    assert "测试" in zh.text and "test e-mail" in en.text



def test_mail_switched_off_before_the_job_runs(make_app, smtp_server):
    app = make_app(plugins=[], **smtp_server.app_config())
    with app.app_context():
        db.session.add(MailMessage(recipients=["ann@example.com"], subject="Hi", body_text="Body", status="queued",
                                   attempts=0, next_attempt_at=utcnow()))
        db.session.commit()
        message_id = db.session.scalar(select(MailMessage.id))
    app.config["MAIL_SERVER"] = ""
    with app.app_context():
        assert sending.deliver(message_id) == "not_configured"
    [row] = _rows(app)
    assert row.attempts == 0 and row.last_error is None and smtp_server.messages == []
