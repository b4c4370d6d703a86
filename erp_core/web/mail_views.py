"""Admin > Mail: the mail settings, a test e-mail sent at once, and the outbox."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import NumberRange, Optional

from .. import audit
from .. import mail as mailer
from ..errors import DomainError
from ..extensions import db
from ..forms import attempt, choices
from ..mail import config as mail_config
from ..mail.models import STATUSES, MailMessage
from ..security import requires
from ..ui import paginate

bp = Blueprint("mail", __name__, url_prefix="/admin/mail")

STATUS_LABELS = {
    "queued": _l("Queued"), "sending": _l("Sending"), "sent": _l("Sent"), "retrying": _l("Retrying"),
    "failed": _l("Failed"), "not_configured": _l("Not sent: mail is not set up"),
}
STATUS_STYLES = {"queued": "info", "sending": "info", "sent": "success", "retrying": "warning", "failed": "danger",
                 "not_configured": "secondary"}


class MailSettingsForm(FlaskForm):
    server = StringField(_l("SMTP server"))
    port = IntegerField(_l("Port"), validators=[Optional(), NumberRange(1, 65535)])
    security = SelectField(_l("Security"), choices=[])
    username = StringField(_l("User name"))
    password = PasswordField(_l("Password"))
    sender = StringField(_l("Sender address"))
    sender_name = StringField(_l("Sender name"))


class TestMailForm(FlaskForm):
    to = StringField(_l("Send a test e-mail to"))


def _settings_form() -> MailSettingsForm:
    form = MailSettingsForm()
    form.security.choices = choices((v, str(label)) for v, label in mail_config.SECURITY_CHOICES)
    return form


def _page(form: MailSettingsForm, test_form: TestMailForm, test_result=None, status: int = 200):
    current = mail_config.current()
    return render_template("admin/mail.html", form=form, test_form=test_form, current=current,
                           password_stored=bool(current.password), test_result=test_result,
                           default_ports=mail_config.DEFAULT_PORTS), status


@bp.route("/", methods=["GET", "POST"])
@requires("core.settings.manage")
def settings():
    form = _settings_form()
    if request.method == "GET":
        current = mail_config.current()
        if current.source == "settings":
            form.process(data={"server": current.server, "port": current.port, "security": current.security,
                               "username": current.username, "sender": current.sender,
                               "sender_name": current.sender_name})
        else:
            form.security.data = mail_config.SECURITY_STARTTLS
    elif form.validate_on_submit():
        with attempt(form) as outcome:
            mail_config.save(form.server.data, form.port.data, form.security.data, form.username.data,
                             form.password.data, form.sender.data, form.sender_name.data)
        if outcome.ok:
            flash(_("Mail settings saved."), "success")
            return redirect(url_for("mail.settings"))
    test_form = TestMailForm(formdata=None, data={"to": getattr(current_user, "email", "") or ""})
    return _page(form, test_form, status=200 if request.method == "GET" or not form.errors else 400)


@bp.route("/test", methods=["POST"])
@requires("core.settings.manage")
def test():
    test_form = TestMailForm()
    result = None
    if test_form.validate_on_submit():
        to = (test_form.to.data or "").strip()
        try:
            reply = mailer.send_test(to)
        except DomainError as exc:
            test_form.to.errors = [str(exc)] if exc.field == "to" else []
            result = {"ok": False, "text": str(exc)}
        except mailer.SendError as exc:
            result = {"ok": False, "text": str(exc)}
        else:
            result = {"ok": True, "text": reply}
        audit.record("mail", "test", "sent" if result["ok"] else "failed", after={"to": to, "answer": result["text"]})
        db.session.commit()
    form = _settings_form()
    current = mail_config.current()
    form.process(data={"server": current.server, "port": current.port, "security": current.security,
                       "username": current.username, "sender": current.sender, "sender_name": current.sender_name})
    return _page(form, test_form, test_result=result, status=200 if result and result["ok"] else 400)


@bp.route("/outbox")
@requires("core.settings.manage")
def outbox():
    status = request.args.get("status") or ""
    stmt = select(MailMessage)
    if status in STATUSES:
        stmt = stmt.where(MailMessage.status == status)
    page = paginate(stmt.order_by(MailMessage.id.desc()))
    return render_template("admin/mail_outbox.html", page=page, labels=STATUS_LABELS, styles=STATUS_STYLES,
                           statuses=[(s, str(STATUS_LABELS[s])) for s in STATUSES])


@bp.route("/outbox/<int:message_id>/retry", methods=["POST"])
@requires("core.settings.manage")
def retry(message_id: int):
    message = db.session.get(MailMessage, message_id) or abort(404)
    with attempt(on_error=lambda _form, exc: flash(str(exc), "warning")) as outcome:
        mailer.retry_now(message)
        audit.record("mail", message.id, "retried")
    if outcome.ok:
        flash(_("The message is being sent again."), "info")
    return redirect(url_for("mail.outbox", status=request.args.get("status") or None))
