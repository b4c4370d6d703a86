"""Administration of outgoing webhooks and their delivery log."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, StringField
from wtforms.validators import Length

from .. import webhooks
from ..auth.forms import MultiCheckboxField
from ..extensions import db
from ..forms import attempt, choices
from ..security import requires
from ..ui import paginate
from ..webhooks import Webhook, WebhookDelivery, known_events

bp = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")


class WebhookForm(FlaskForm):
    url = StringField(_l("Receiver URL"), validators=[Length(max=500)])
    description = StringField(_l("Description"), validators=[Length(max=200)])
    events = MultiCheckboxField(_l("Events"), choices=[])
    active = BooleanField(_l("Active"), default=True)


def _form(obj=None) -> WebhookForm:
    form = WebhookForm(obj=obj)
    form.events.choices = choices((key, str(label)) for key, label in known_events().items())
    return form


@bp.route("/")
@requires("core.webhooks.manage")
def index():
    hooks = db.session.scalars(select(Webhook).order_by(Webhook.id)).all()
    return render_template("webhooks/index.html", hooks=hooks, events=known_events())


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:hook_id>", methods=["GET", "POST"])
@requires("core.webhooks.manage")
def edit(hook_id: int | None = None):
    hook = db.session.get(Webhook, hook_id) if hook_id else None
    if hook_id and hook is None:
        abort(404)
    form = _form(hook)
    if form.validate_on_submit():
        with attempt(form) as outcome:
            if hook is None:
                hook = webhooks.create_webhook(form.url.data, form.events.data, form.description.data)
            else:
                webhooks.update_webhook(hook, form.url.data, form.events.data, form.active.data, form.description.data)
        if outcome.ok:
            flash(_("Webhook saved."), "success")
            return redirect(url_for("webhooks.edit", hook_id=hook.id))
    deliveries = None
    if hook is not None:
        deliveries = paginate(select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
                              .order_by(WebhookDelivery.id.desc()))
    return render_template("webhooks/edit.html", form=form, hook=hook, deliveries=deliveries)


@bp.route("/<int:hook_id>/ping", methods=["POST"])
@requires("core.webhooks.manage")
def ping(hook_id: int):
    hook = db.session.get(Webhook, hook_id) or abort(404)
    webhooks.ping(hook)
    db.session.commit()
    flash(_("A test delivery was sent; see its answer below."), "info")
    return redirect(url_for("webhooks.edit", hook_id=hook.id))


@bp.route("/<int:hook_id>/secret", methods=["POST"])
@requires("core.webhooks.manage")
def rotate(hook_id: int):
    hook = db.session.get(Webhook, hook_id) or abort(404)
    secret = webhooks.rotate_secret(hook)
    db.session.commit()
    form = _form(hook)
    deliveries = paginate(select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
                          .order_by(WebhookDelivery.id.desc()))
    return render_template("webhooks/edit.html", form=form, hook=hook, deliveries=deliveries, new_secret=secret)


@bp.route("/deliveries/<int:delivery_id>/retry", methods=["POST"])
@requires("core.webhooks.manage")
def retry(delivery_id: int):
    delivery = db.session.get(WebhookDelivery, delivery_id) or abort(404)
    with attempt(on_error=lambda _form, exc: flash(str(exc), "warning")) as outcome:
        webhooks.retry_now(delivery)
    if outcome.ok:
        flash(_("The delivery is being tried again."), "info")
    return redirect(url_for("webhooks.edit", hook_id=delivery.webhook_id))
