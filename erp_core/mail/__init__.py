"""Outgoing e-mail: settings (Admin > Mail, else ``MAIL_*``), an outbox, sending and retries.

- :func:`queue_mail` writes the message to the outbox (``core_mail_outbox``) in the caller's
  transaction and queues a job that sends it after commit; :func:`render_mail` writes a mail
  from templates in the recipient's language.
- :mod:`.sending` hands messages to the SMTP server (plain, STARTTLS, implicit TLS), records
  sent / retrying / failed with the server's answer, and retries with back-off
  (``core.mail.retry`` schedule).
- While mail is not set up, administrators see a banner and staff are told "not sent"
  (:func:`not_sent_notice`).
"""

from __future__ import annotations

from .config import MailSettings, current, mail_configured
from .models import STATUSES, MailMessage
from .outbox import NOT_SENT_CATEGORY, not_sent_notice, queue_mail
from .render import RenderedMail, render_mail
from .sending import SendError, deliver, retry_due, retry_now, send_test

__all__ = [
    "NOT_SENT_CATEGORY", "STATUSES", "MailMessage", "MailSettings", "RenderedMail", "SendError", "current",
    "deliver", "mail_configured", "not_sent_notice", "queue_mail", "render_mail", "retry_due", "retry_now",
    "send_test",
]
