"""Public home page, dashboard, language switch and health check."""

from __future__ import annotations

import logging

from babel.lists import format_list
from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import text

from ..extensions import db
from ..i18n import languages
from ..security import login_only, public, safe_next
from .templating import render_contributions

log = logging.getLogger(__name__)

bp = Blueprint("web", __name__)


@bp.route("/")
@public
def home():
    """The public home page: the company, ways to reach support, staff sign-in."""
    manager = current_app.extensions["erp_plugins"]
    blocks = render_contributions(_collect(manager.hook.erp_public_blocks()))
    return render_template("web/home.html", blocks=blocks)


@bp.route("/dashboard")
@login_only
def dashboard():
    manager = current_app.extensions["erp_plugins"]
    widgets = []
    for widget in _collect(manager.hook.erp_dashboard_widgets(user=current_user._get_current_object())):
        if widget.permission and not current_user.can(widget.permission):
            continue
        widgets.append(widget)
    overdue = []
    if current_user.can("core.jobs.manage"):
        from ..background import overdue_schedules

        overdue = overdue_schedules()
    overdue_list = format_list([str(title) for title in overdue], locale=get_locale()) if overdue else ""
    return render_template("web/dashboard.html", widgets=render_contributions(widgets), overdue=overdue_list)


@bp.route("/language", methods=["POST"])
@public
def set_language():
    lang = request.form.get("lang", "")
    if lang in languages():
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
            db.session.commit()
    return redirect(safe_next(request.form.get("next"), url_for("web.home")))


@bp.route("/favicon.ico")
@public
def favicon():
    """Browsers and bookmarks that ask for /favicon.ico get the site icon."""
    return redirect(url_for("static", filename="img/favicon.svg"), 301)


@bp.route("/healthz")
@public
def healthz():
    manager = current_app.extensions["erp_plugins"]
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # the answer must say what is wrong, not crash
        log.error("health check: database unreachable: %s", exc)
        db.session.rollback()
        database = "unreachable"
    enabled = sorted(manager.enabled()) if database == "ok" else sorted(manager.default_enabled())
    body = {
        "status": "ok" if database == "ok" else "error",
        "database": database,
        "plugins": {
            "enabled": enabled,
            "failed": {r.name: r.error for r in manager.failed},
        },
    }
    return jsonify(body), (200 if database == "ok" else 503)


def _collect(results) -> list:
    flat = []
    for contributed in results or []:
        flat.extend(contributed or [])
    return flat
