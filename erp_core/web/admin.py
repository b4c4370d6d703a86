"""Plugin switches, site settings and the audit log."""

from __future__ import annotations

from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from .. import audit, history, settings
from ..extensions import db
from ..forms import choices
from ..models import AuditLog
from ..plugins import PluginError, switch_plugin
from ..security import requires
from ..timeutil import local_day_bounds
from ..ui import paginate

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/plugins")
@requires("core.plugins.manage")
def plugins():
    manager = current_app.extensions["erp_plugins"]
    enabled = manager.enabled()
    rows = [manager.records[n] for n in manager.loaded_names]
    return render_template("admin/plugins.html", rows=rows, failed=manager.failed, enabled=enabled)


@bp.route("/plugins/<name>/<any(enable, disable):action>", methods=["POST"])
@requires("core.plugins.manage")
def switch(name: str, action: str):
    try:
        switch_plugin(name, action == "enable")
        db.session.commit()
    except PluginError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    else:
        title = current_app.extensions["erp_plugins"].records[name].meta.title
        flash((_("%(title)s is switched on.", title=title) if action == "enable"
               else _("%(title)s is switched off. Its data is kept.", title=title)), "success")
    return redirect(url_for("admin.plugins"))


# ----------------------------------------------------------------------------- settings

def _field_name(key: str) -> str:
    return key.replace(".", "__")


def _settings_form(declared):
    class SettingsForm(FlaskForm):
        pass

    for _plugin, f in declared:
        validators = [InputRequired()] if f.required and f.kind not in ("boolean", "secret") else [Optional()]
        kw = {"label": f.label, "description": f.help, "validators": validators}
        if f.kind == "text":
            field = TextAreaField(**kw)
        elif f.kind == "integer":
            field = IntegerField(**kw)
        elif f.kind == "boolean":
            field = BooleanField(label=f.label, description=f.help)
        elif f.kind == "choice":
            field = SelectField(choices=choices((v, str(lbl)) for v, lbl in f.choices), **kw)
        elif f.kind == "secret":
            field = PasswordField(**kw)
        else:
            field = StringField(**kw)
        setattr(SettingsForm, _field_name(f.key), field)
    return SettingsForm


def _clean(f, raw):
    """Normalise and check one submitted value; returns (value, error)."""
    if f.kind in ("string", "text", "timezone", "currency", "email_list", "choice"):
        raw = (raw or "").strip()
    if f.kind == "currency":
        raw = raw.upper()
    if f.kind == "email_list" and raw:
        addresses = [a.strip() for a in raw.replace(";", ",").split(",") if a.strip()]
        for address in addresses:
            try:
                validate_email(address, check_deliverability=False)
            except EmailNotValidError:
                return raw, _("%(address)s is not a valid e-mail address.", address=address)
        raw = ", ".join(addresses)
    if f.validate is not None:
        problem = f.validate(raw)
        if problem:
            return raw, str(problem)
    return raw, None


@bp.route("/settings", methods=["GET", "POST"])
@requires("core.settings.manage")
def settings_page():
    declared = settings.fields()
    form = _settings_form(declared)()
    if request.method == "GET":
        for _plugin, f in declared:
            if f.kind != "secret":
                getattr(form, _field_name(f.key)).data = settings.get(f.key)
    if form.validate_on_submit():
        values, ok = {}, True
        for _plugin, f in declared:
            field = getattr(form, _field_name(f.key))
            if f.kind == "secret" and not field.data:
                continue  # blank keeps the stored secret
            value, error = _clean(f, field.data)
            if error:
                field.errors = list(field.errors) + [error]
                ok = False
            values[f.key] = value
        if ok:
            changed = settings.set_many(values)
            if changed:
                secret_keys = {f.key for _p, f in declared if f.kind == "secret"}
                audit.record("settings", "site", "changed",
                             before={k: ("***" if k in secret_keys else b) for k, (b, _a) in changed.items()},
                             after={k: ("***" if k in secret_keys else a) for k, (_b, a) in changed.items()})
            db.session.commit()
            flash(_("Settings saved."), "success")
            return redirect(url_for("admin.settings_page"))
    sections: dict[str, list] = {}
    for _plugin, f in declared:
        sections.setdefault(str(f.section or _("General")), []).append(
            (f, getattr(form, _field_name(f.key)), _masked(settings.get(f.key)) if f.kind == "secret" else None))
    return render_template("admin/settings.html", form=form, sections=sections)


def _masked(secret) -> str:
    secret = str(secret or "")
    if not secret:
        return ""
    return "•" * 6 + secret[-2:] if len(secret) > 6 else "•" * 6


# ----------------------------------------------------------------------------- audit log


@bp.route("/audit")
@requires("core.audit.view")
def audit_log():
    args = request.args
    stmt = select(AuditLog)
    if args.get("object_type"):
        stmt = stmt.where(AuditLog.object_type == args["object_type"])
    if args.get("object_id"):
        stmt = stmt.where(AuditLog.object_id == args["object_id"])
    if args.get("actor"):
        stmt = stmt.where(AuditLog.actor_name == args["actor"].strip().lower())
    tz = settings.company_timezone()
    for name, is_start in (("from", True), ("to", False)):
        if args.get(name):
            try:
                day = datetime.strptime(args[name], "%Y-%m-%d").date()
            except ValueError:
                flash(_("Dates are written YYYY-MM-DD."), "warning")
                continue
            start, end = local_day_bounds(day, tz)
            stmt = stmt.where(AuditLog.at >= start) if is_start else stmt.where(AuditLog.at < end)
    page = paginate(stmt.order_by(AuditLog.id.desc()))
    vocab = history.vocabulary()
    types = [(t, str(vocab[t].label) if t in vocab else history.humanise(t))
             for t in db.session.scalars(select(AuditLog.object_type).distinct().order_by(AuditLog.object_type))]
    return render_template("admin/audit.html", page=page, types=sorted(types, key=lambda t: t[1]))

