"""Admin > Mail in the browser: the banner leads to the settings, a test e-mail reaches a real
SMTP server over STARTTLS with a login, and the outbox shows what was sent."""

from __future__ import annotations

from erp_core import mail
from erp_core.extensions import db
from tests.e2e.conftest import ADMIN_PASSWORD, LiveServer, sign_in
from tests.helpers import make_user


def test_set_up_mail_and_send_a_test(page, make_app, smtp_server_factory, shot):
    smtp = smtp_server_factory("starttls", users={"shop@example.com": "auth-code"})
    app = make_app(plugins=[], WTF_CSRF_ENABLED=True, MAIL_CA_FILE=smtp.ca_file)
    make_user(app, username="admin", password=ADMIN_PASSWORD, roles=["admin"], email="boss@example.com")
    server = LiveServer(app).start()
    try:
        sign_in(page, server)
        banner = page.get_by_test_id("mail-banner")
        assert banner.is_visible()
        shot(page, "mail-banner")
        banner.get_by_role("link", name="Set up mail").click()
        page.wait_for_url(server.url("/admin/mail/"))
        page.get_by_label("SMTP server").fill(smtp.host)
        page.get_by_label("Port").fill(str(smtp.port))
        page.get_by_label("Security").select_option("starttls")
        page.get_by_label("User name").fill("shop@example.com")
        page.get_by_label("Password").fill("auth-code")
        page.get_by_label("Sender address").fill("shop@example.com")
        page.get_by_label("Sender name").fill("茗香茶具商行")
        page.get_by_role("button", name="Save mail settings").click()
        page.get_by_text("Mail settings saved.").wait_for()
        assert page.get_by_test_id("mail-banner").count() == 0
        assert page.get_by_label("Password").input_value() == ""  # never shown back
        page.get_by_role("button", name="Send a test e-mail").click()
        result = page.get_by_test_id("mail-test-result")
        result.wait_for()
        assert "The server accepted the test e-mail." in result.inner_text() and "250" in result.inner_text()
        shot(page, "mail-settings-test-sent")
        [received] = smtp.messages
        assert received.tls and received.login == "shop@example.com" and received.rcpt_tos == ["boss@example.com"]
        assert received["From"].addresses[0].display_name == "茗香茶具商行"

        with app.test_request_context():
            mail.queue_mail("ann@example.com", "订单已发货：SO-1", "您的订单已发货", html="<p>您的订单已发货</p>",
                            language="zh_CN")
            db.session.commit()
        smtp.reject = "550 5.1.1 Mailbox unavailable"
        with app.test_request_context():
            mail.queue_mail("nobody@example.com", "Return approved", "Body")
            db.session.commit()
        page.get_by_role("link", name="Outbox").click()
        page.wait_for_url(server.url("/admin/mail/outbox"))
        assert page.locator('tr[data-status="sent"]').count() == 1
        assert "550 5.1.1 Mailbox unavailable" in page.locator('tr[data-status="retrying"]').inner_text()
        shot(page, "mail-outbox")
        page.get_by_test_id("language-switch").get_by_role("button", name="简体中文").click()
        page.get_by_role("heading", name="发件箱").wait_for()
        assert "等待重试" in page.locator('tr[data-status="retrying"]').inner_text()
        shot(page, "mail-outbox-zh")
        page.get_by_role("link", name="邮件设置").click()
        page.get_by_role("heading", name="邮件").wait_for()
        shot(page, "mail-settings-zh")
    finally:
        server.stop()
