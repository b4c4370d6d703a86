"""What every template can use: the menu, permission checks, languages, contributions."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from babel import Locale
from flask import current_app, g, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from .. import settings
from ..i18n import LANGUAGE_NAMES, languages
from ..security import has_permission

log = logging.getLogger(__name__)


@dataclass
class Rendered:
    """A widget, panel or block rendered to HTML (or to an error note when it failed)."""

    title: str
    html: Markup
    width: int = 12
    failed: bool = False


def render_contributions(items) -> list[Rendered]:
    """Render widgets/panels/blocks in order; one that raises is replaced by a note and logged."""
    rendered = []
    for item in sorted(items, key=lambda i: getattr(i, "order", 100)):
        try:
            context = item.context() if callable(item.context) else dict(item.context)
            html = Markup(render_template(item.template, **context))
            rendered.append(Rendered(str(item.title), html, getattr(item, "width", 12)))
        except Exception:
            log.exception("could not render %s", item.template)
            note = Markup("<p class='text-danger mb-0'>%s</p>") % _("This part could not be shown; the error is logged.")
            rendered.append(Rendered(str(item.title), note, getattr(item, "width", 12), failed=True))
    return rendered


def nav_items():
    """Menu entries of enabled plugins the user may open, split into main and admin groups."""
    cached = g.get("_erp_nav")
    if cached is not None:
        return cached
    manager = current_app.extensions["erp_plugins"]
    items = []
    for contributed in manager.hook.erp_nav_items():
        for item in contributed or []:
            if item.permission is None or has_permission(item.permission):
                items.append(item)
    items.sort(key=lambda i: (i.order, str(i.label)))
    cached = {"main": [i for i in items if i.group != "admin"], "admin": [i for i in items if i.group == "admin"]}
    g._erp_nav = cached
    return cached


def _context():
    return {
        "nav_items": nav_items if current_user.is_authenticated else (lambda: {"main": [], "admin": []}),
        "can": has_permission,
        "languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in languages()],
        "current_locale": _current_language(),
        "company_name": settings.get("company.name", "ERP"),
        "setting": settings.get,
        "request_path": request.full_path if request.query_string else request.path,
        "mail_banner": _mail_banner,
    }


def _mail_banner() -> bool:
    """Administrators (those who may change settings) see that mail is not set up."""
    if not current_user.is_authenticated or not has_permission("core.settings.manage"):
        return False
    return not _mail_ready()


def _current_language() -> str:
    """The code of the switcher's language in use ("zh_CN", not Babel's "zh_Hans_CN")."""
    locale = get_locale()
    for code in languages():
        if locale is not None and Locale.parse(code) == locale:
            return code
    return str(locale or "en")


def _mail_ready() -> bool:
    from ..mail import mail_configured

    return mail_configured()


def register(app) -> None:
    app.context_processor(_context)
    app.jinja_env.globals["mail_ready"] = _mail_ready  # also for macros imported without context
