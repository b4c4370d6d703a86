"""What every template can use: the menu, permission checks, languages, contributions."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from babel import Locale
from flask import before_render_template, current_app, g, has_request_context, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from .. import settings
from ..contrib import ScriptUrl
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
            rendered.append(Rendered(str(item.title), _failure_note(), getattr(item, "width", 12), failed=True))
    return rendered


def _failure_note() -> Markup:
    return Markup("<p class='text-danger mb-0'>%s</p>") % _("This part could not be shown; the error is logged.")


def record_panels(hook_name: str, user=None, **record) -> list[Rendered]:
    """The panels other plugins add to a record's page, rendered, for ``user`` (default: the
    signed-in user).

    Calls the panel hook ``hook_name`` (``erp_order_panels``, ``erp_customer_panels``, ...) with
    ``user`` and ``record`` (e.g. ``customer=customer``) on each enabled plugin on its own: a
    plugin whose hook raises shows one error note titled with the plugin's name and the others
    still show. Panels whose ``permission`` the user lacks are left out; the rest are rendered by
    :func:`render_contributions` (a panel whose context or template fails becomes an error note).
    Every record page uses this, with the ``panel_cards`` macro of ``macros/ui.html``.
    """
    manager = current_app.extensions["erp_plugins"]
    if user is None:
        user = current_user._get_current_object()
    panels, failed = [], []
    for plugin, answer, error in manager.call_isolated(hook_name, user=user, **record):
        if error is not None:
            failed.append(Rendered(manager.title_of(plugin), _failure_note(), failed=True))
            continue
        for panel in answer if isinstance(answer, (list, tuple)) else ([answer] if answer is not None else []):
            if not panel.permission or user.can(panel.permission):
                panels.append(panel)
    return render_contributions(panels) + failed


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


def _viewer():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _extras(hook_name: str, template: str) -> list:
    """The isolated answers of an extra-assets hook; none when they cannot be asked (an error
    page drawn while the database is unreachable must still be drawn)."""
    try:
        return current_app.extensions["erp_plugins"].call_isolated(hook_name, template=template, user=_viewer())
    except Exception:
        log.exception("could not ask the plugins' %s", hook_name)
        return []


def _add_extra_vars(sender, template, context, **_extra) -> None:
    """``before_render_template``: note the template's name (``erp_template``, read by
    ``base.html`` for the extra scripts and styles) and add the plugins' extra variables."""
    if not has_request_context():
        return
    context.setdefault("erp_template", template.name)
    for plugin, answer, error in _extras("erp_extra_template_vars", template.name):
        if error is None and answer:
            if not isinstance(answer, dict):
                log.warning("plugin %s answered erp_extra_template_vars with %r, not a dict", plugin, answer)
                continue
            for name, value in answer.items():
                context.setdefault(name, value)


def same_origin_path(url) -> bool:
    """True for a path on this site (``/x/static/a.js``): not ``//host``, no scheme, no control
    characters or backslashes (which browsers may read as ``/``)."""
    return (isinstance(url, str) and url.startswith("/") and not url.startswith("//") and "\\" not in url
            and all(ch.isprintable() and not ch.isspace() for ch in url))


def extra_urls(kind: str, template: str | None) -> list[ScriptUrl]:
    """The scripts (``kind="js"``) or style sheets (``"css"``) plugins add to the page drawn from
    ``template``; URLs that are not same-origin paths are dropped and logged."""
    found: list[ScriptUrl] = []
    for plugin, answer, error in _extras(f"erp_extra_{kind}_urls", template or ""):
        if error is not None or not answer:
            continue
        for item in answer:
            entry = item if isinstance(item, ScriptUrl) else ScriptUrl(item)
            if not same_origin_path(entry.url):
                log.warning("plugin %s: %s URL %r refused (same-origin paths only)", plugin, kind, entry.url)
            elif entry not in found:
                found.append(entry)
    return found


def _mail_ready() -> bool:
    from ..mail import mail_configured

    return mail_configured()


def register(app) -> None:
    """Install the template context, the extra variables and the ``extra_urls`` global on ``app``."""
    app.context_processor(_context)
    before_render_template.connect(_add_extra_vars, app)
    app.add_template_global(extra_urls, "extra_urls")
    app.jinja_env.globals["mail_ready"] = _mail_ready  # also for macros imported without context
    from ..auth.people import person_name

    app.jinja_env.filters["person"] = person_name
