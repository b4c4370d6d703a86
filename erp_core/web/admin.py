"""Plugin switches, site settings and the audit log."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from .. import history, settings
from ..extensions import db
from ..forms import choices
from ..models import AuditLog
from ..plugins import PluginError, missing_tables_of, switch_plugin
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
    # Installed since the last `erp db upgrade`: its pages would fail, and switching it on is refused.
    missing = {name: tables for name, tables in missing_tables_of(manager.loaded_names).items() if tables}
    return render_template("admin/plugins.html", rows=rows, failed=manager.failed, enabled=enabled,
                           missing=missing)


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


@bp.route("/settings", methods=["GET", "POST"])
@requires("core.settings.manage")
def settings_page():
    declared = [(plugin, f) for plugin, f in settings.fields() if f.page is None]
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
            value, error = settings.clean_value(f, field.data)
            if error:
                field.errors = list(field.errors) + [error]
                ok = False
            values[f.key] = value
        if ok:
            settings.store(values, [f for _p, f in declared])
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

