"""Handing messages to the SMTP server: plain, STARTTLS or implicit TLS, with or without login.

:func:`deliver` is the job that sends one outbox message. It claims the row with a conditional
UPDATE and commits before talking to the server (so the database is never held while it waits
on the network, and a message is sent once however many runners pick it), then records the
answer: ``sent``, ``retrying`` (with the next attempt's time) or, after the last try, ``failed``.
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from ..errors import DomainError
from ..extensions import db
from ..jobs import enqueue
from ..timeutil import utcnow
from . import config
from .models import FAILED, NOT_CONFIGURED, QUEUED, RETRYING, SENDING, SENT, MailMessage

# Waits before the 2nd, 3rd... attempt; the message fails after the last one.
RETRY_DELAYS = (60, 300, 1800, 7200)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
LEASE = timedelta(minutes=10)  # a claimed message not answered by then is tried again
TEST_TIMEOUT = 15


class SendError(Exception):
    """The server refused the message or could not be reached; ``str()`` says how."""


def build_message(settings: config.MailSettings, recipients: list[str], subject: str, text: str,
                  html: str | None = None, language: str | None = None) -> EmailMessage:
    """A MIME message: text/plain, or multipart/alternative with an HTML part; UTF-8 headers."""
    msg = EmailMessage()
    sender_domain = settings.sender.rpartition("@")[2] or None
    msg["From"] = Address(display_name=settings.sender_name or "", addr_spec=settings.sender)
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = make_msgid(domain=sender_domain)
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    if language:  # after the content: setting it clears the Content-* headers
        msg["Content-Language"] = language.replace("_", "-")
    return msg


def _tls_context(settings: config.MailSettings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=settings.ca_file or None)


def transmit(settings: config.MailSettings, msg: EmailMessage, timeout: float | None = None) -> str:
    """Send ``msg`` to its ``To`` addresses; returns the server's answer to the message
    (e.g. ``250 OK queued as ...``); raises :class:`SendError` with the reason otherwise."""
    timeout = timeout or settings.timeout
    recipients = [a.strip() for a in msg["To"].split(",") if a.strip()]
    try:
        if settings.security == config.SECURITY_SSL:
            smtp = smtplib.SMTP_SSL(settings.server, settings.port, timeout=timeout, context=_tls_context(settings))
        else:
            smtp = smtplib.SMTP(settings.server, settings.port, timeout=timeout)
        with smtp:
            smtp.ehlo()
            if settings.security == config.SECURITY_STARTTLS:
                smtp.starttls(context=_tls_context(settings))
                smtp.ehlo()
            if settings.username:
                smtp.login(settings.username, settings.password)
            return _send(smtp, settings.sender, recipients, msg)
    except smtplib.SMTPResponseException as exc:
        raise SendError(f"{exc.smtp_code} {_text(exc.smtp_error)}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise SendError("; ".join(f"{addr}: {code} {_text(err)}" for addr, (code, err) in exc.recipients.items())) from exc
    except (smtplib.SMTPException, OSError) as exc:  # connection refused, time-out, TLS, DNS...
        raise SendError(f"{type(exc).__name__}: {exc}") from exc


def _send(smtp: smtplib.SMTP, sender: str, recipients: list[str], msg: EmailMessage) -> str:
    """MAIL, RCPT and DATA by hand, to keep the server's answer to DATA."""
    options = ["SMTPUTF8"] if smtp.has_extn("smtputf8") else []
    code, reply = smtp.mail(sender, options)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused = {}
    for rcpt in recipients:
        code, reply = smtp.rcpt(rcpt)
        if code not in (250, 251):
            refused[rcpt] = (code, reply)
    if len(refused) == len(recipients):
        smtp.rset()
        raise smtplib.SMTPRecipientsRefused(refused)
    code, reply = smtp.data(msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")))
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)
    answer = f"{code} {_text(reply)}"
    if refused:
        answer += " (" + "; ".join(f"{a}: {c} {_text(r)}" for a, (c, r) in refused.items()) + ")"
    return answer[:500]


def _text(reply) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


# ----------------------------------------------------------------------------- the outbox job


def claim(message_id: int) -> bool:
    """Take a queued or retrying message for sending (conditional UPDATE, committed): True when
    this caller got it; a message claimed elsewhere, sent or failed is left alone."""
    now = utcnow()
    result = db.session.execute(
        update(MailMessage)
        .where(MailMessage.id == message_id,
               or_(MailMessage.status.in_((QUEUED, RETRYING)),
                   (MailMessage.status == SENDING) & (MailMessage.next_attempt_at <= now)))
        .values(status=SENDING, attempts=MailMessage.attempts + 1, next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


def deliver(message_id: int) -> str | None:
    """Job: send one outbox message and record the outcome; returns its new status."""
    if not claim(message_id):
        return None
    message = db.session.get(MailMessage, message_id)
    settings = config.current()
    msg = None
    if settings.complete:
        msg = build_message(settings, message.recipients, message.subject, message.body_text,
                            message.body_html, message.language)
    db.session.commit()  # end the read transaction: nothing is held while the server answers
    reply, error = None, None
    if msg is not None:
        try:
            reply = transmit(settings, msg)
        except SendError as exc:
            error = str(exc)[:2000]
    message = db.session.get(MailMessage, message_id)
    if msg is None:  # mail was switched off since: kept, to be sent again from the outbox
        message.status, message.attempts, message.next_attempt_at = NOT_CONFIGURED, 0, None
    else:
        _record(message, reply, error, msg["Message-ID"] if reply else None)
    db.session.commit()
    return message.status


def _record(message: MailMessage, reply: str | None, error: str | None, message_id: str | None) -> None:
    now = utcnow()
    if reply is not None:
        message.status, message.server_reply, message.sent_at = SENT, reply, now
        message.message_id, message.last_error, message.next_attempt_at = message_id, None, None
    elif message.attempts >= MAX_ATTEMPTS:
        message.status, message.last_error, message.next_attempt_at = FAILED, error, None
    else:
        message.status, message.last_error = RETRYING, error
        message.next_attempt_at = now + timedelta(seconds=RETRY_DELAYS[message.attempts - 1])


def retry_due() -> int:
    """Schedule job: queue the messages whose retry time has come, those whose first job was
    lost (queued more than two minutes ago) and those whose sender died while sending."""
    now = utcnow()
    due = db.session.scalars(select(MailMessage.id).where(
        MailMessage.status.in_((QUEUED, RETRYING, SENDING)), MailMessage.next_attempt_at <= now)
        .order_by(MailMessage.id).limit(500)).all()
    for message_id in due:
        enqueue(deliver, message_id)
    return len(due)


def retry_now(message: MailMessage) -> None:
    """An administrator asked to send a failed (or never sent) message again: a fresh round."""
    if message.status not in (FAILED, NOT_CONFIGURED, RETRYING):
        raise DomainError(_("Only failed, retrying or unsent messages can be sent again."))
    if not config.mail_configured():
        raise DomainError(_("Mail is not set up yet."))
    message.status, message.attempts, message.next_attempt_at = QUEUED, 0, utcnow() + timedelta(minutes=2)
    message.last_error = None
    enqueue(deliver, message.id)


def send_test(to: str) -> str:
    """Send a test message now, in the current language (an administrator's explicit action,
    short time-out); returns the server's answer or raises :class:`SendError` / :class:`DomainError`."""
    from flask_babel import get_locale
    from flask_babel import lazy_gettext as _l

    from .render import render_mail

    settings = config.current()
    if not settings.complete:
        raise DomainError(_("Mail is not set up yet."))
    to = (to or "").strip()
    problem = config.check_address(to) if to else _("Enter an e-mail address.")
    if problem:
        raise DomainError(problem, field="to")
    language = str(get_locale() or "en")
    mail = render_mail("mail/test", subject=_l("Test e-mail"), language=language, server=settings.server)
    msg = build_message(settings, [to], mail.subject, mail.text, mail.html, language)
    return transmit(settings, msg, timeout=TEST_TIMEOUT)
