"""The administrator's "set up your company" checklist: steps contributed by the core and the
enabled plugins (``erp_setup_checklist``), each ticked when done and linking to its page."""

from __future__ import annotations

import logging

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l

from .. import settings
from ..contrib import SetupItem, Widget
from ..mail import mail_configured

log = logging.getLogger(__name__)

COMPANY_DETAILS = ("company.legal_name", "company.address", "company.phone", "company.email")


def core_items() -> list[SetupItem]:
    """The core's steps: the company's details and mail."""
    return [
        SetupItem("company", _l("Company details: legal name, address, phone and e-mail"),
                  lambda: all(str(settings.get(key) or "").strip() for key in COMPANY_DETAILS),
                  "admin.settings_page", order=10),
        SetupItem("mail", _l("Mail: a server to send e-mail from"), mail_configured, "mail.settings",
                  order=20),
    ]


def _done(item: SetupItem) -> bool:
    try:
        return bool(item.done() if callable(item.done) else item.done)
    except Exception:  # one plugin's broken check must not hide the dashboard
        log.exception("setup checklist: the check of %s failed", item.key)
        return False


def steps() -> list[dict]:
    """The steps of the enabled plugins in order, each with its link and whether it is done."""
    items = current_app.extensions["erp_plugins"].collect("erp_setup_checklist")
    rows = []
    for item in sorted((i for i in items if isinstance(i, SetupItem)), key=lambda i: (i.order, i.key)):
        rows.append({"key": item.key, "label": item.label, "help": item.help, "done": _done(item),
                     "url": url_for(item.endpoint, **item.values)})
    return rows


def widget(user) -> list[Widget]:
    """The checklist card for a user who may change the settings, while a step is still open."""
    if not user.can("core.settings.manage"):
        return []
    rows = steps()
    if not rows or all(row["done"] for row in rows):
        return []
    return [Widget(_l("Set up your company"), "web/_setup_checklist.html",
                   {"steps": rows, "done": sum(row["done"] for row in rows)},
                   permission="core.settings.manage", order=1, width=6)]
