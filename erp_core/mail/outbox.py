"""Queueing mail: every message is an outbox row written in the caller's transaction."""

from __future__ import annotations

from datetime import timedelta

from flask import flash, g, has_request_context, request
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..jobs import enqueue
from ..timeutil import utcnow
from . import config
from .models import NOT_CONFIGURED, QUEUED, MailMessage
from .sending import deliver

NOT_SENT_CATEGORY = "mail-not-sent"


def queue_mail(to: list[str] | str, subject: str, body: str, *, html: str | None = None,
               language: str | None = None) -> bool:
    """Queue an e-mail (``body`` is the plain text, ``html`` an optional HTML alternative;
    ``language`` the one it is written in) and return True.

    The message is written to the outbox in the caller's transaction and sent by a job after
    commit (a rollback drops both). When mail is not set up nothing is sent: the message is kept
    as "not sent: mail is not set up", the staff member who caused it is told so (see
    :func:`not_sent_notice`) and False is returned. No recipients: False, nothing recorded.
    """
    recipients = [to] if isinstance(to, str) else list(to)
    recipients = [r.strip() for r in recipients if r and r.strip()]
    if not recipients:
        return False
    configured = config.mail_configured()
    message = MailMessage(recipients=recipients, subject=str(subject), body_text=str(body),
                          body_html=str(html) if html else None, language=language,
                          status=QUEUED if configured else NOT_CONFIGURED, attempts=0,
                          next_attempt_at=utcnow() + timedelta(minutes=2) if configured else None)
    db.session.add(message)
    db.session.flush()
    if not configured:
        not_sent_notice()
        return False
    enqueue(deliver, message.id)
    return True


def not_sent_notice() -> None:
    """Tell the signed-in staff member, once per request, that a mail their action would have
    sent was not sent because mail is not set up (a flash message linking to Admin > Mail).

    :func:`queue_mail` calls it; plugins call it themselves only for a mail they decided not to
    queue. Public pages and the API get nothing (customers are not told about the site's setup).
    """
    if not has_request_context() or g.get("_erp_mail_notice") or request.path.startswith("/api/"):
        return
    if not getattr(current_user, "is_authenticated", False):
        return
    g._erp_mail_notice = True
    flash(_("Not sent: mail is not set up."), NOT_SENT_CATEGORY)

