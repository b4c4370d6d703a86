"""Outgoing e-mail, always sent by a queued job after commit, and only when mail is configured."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app

from .jobs import enqueue


def mail_configured() -> bool:
    """True when ``MAIL_SERVER`` and ``MAIL_FROM`` are set."""
    return bool(current_app.config.get("MAIL_SERVER") and current_app.config.get("MAIL_FROM"))


def queue_mail(to: list[str] | str, subject: str, body: str, *, html: str | None = None,
               language: str | None = None) -> bool:
    """Queue an e-mail (plain ``body``, and ``html`` as its alternative when given; ``language``
    is the recipient's, sent as Content-Language); returns False (and queues nothing) when mail is
    not configured."""
    if not mail_configured():
        return False
    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        return False
    enqueue(send_mail, recipients, subject, body, html=html, language=language, retries=3)
    return True


def send_mail(recipients: list[str], subject: str, body: str, html: str | None = None,
              language: str | None = None) -> None:
    """Job: deliver one message through the configured SMTP server."""
    cfg = current_app.config
    msg = EmailMessage()
    msg["From"] = cfg["MAIL_FROM"]
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    if language:  # after the content: setting it clears the Content-* headers
        msg["Content-Language"] = language.replace("_", "-")
    with smtplib.SMTP(cfg["MAIL_SERVER"], int(cfg.get("MAIL_PORT") or 25), timeout=30) as smtp:
        if cfg.get("MAIL_USE_TLS"):
            smtp.starttls()
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD", ""))
        smtp.send_message(msg)
