"""The core's own hook implementations, registered under the name ``core`` (always on)."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from .. import hookimpl
from ..contrib import NavItem, Permission, Schedule, SettingField
from ..money import is_currency
from ..timeutil import valid_timezone


@hookimpl
def erp_blueprints():
    from ..auth.views import bp as auth_bp
    from .accounts import bp as accounts_bp
    from .admin import bp as admin_bp
    from .jobs_views import bp as jobs_bp
    from .mail_views import bp as mail_bp
    from .search_views import bp as search_bp
    from .views import bp as web_bp
    from .webhook_views import bp as webhooks_bp

    return [web_bp, auth_bp, accounts_bp, admin_bp, webhooks_bp, mail_bp, jobs_bp, search_bp]


@hookimpl
def erp_api_blueprints():
    from ..api.core_api import bp

    return [bp]


@hookimpl
def erp_permissions():
    return [
        Permission("core.users.manage", _l("Manage users")),
        Permission("core.roles.manage", _l("Manage roles and permissions")),
        Permission("core.plugins.manage", _l("Switch plugins on and off")),
        Permission("core.settings.manage", _l("Change site settings")),
        Permission("core.audit.view", _l("Read the audit log")),
        Permission("core.webhooks.manage", _l("Manage outgoing webhooks")),
        Permission("core.jobs.manage", _l("See, retry and discard background work")),
    ]


@hookimpl
def erp_nav_items():
    return [
        NavItem(_l("Dashboard"), "web.dashboard", None, icon="speedometer2", order=0),
        NavItem(_l("Users"), "accounts.users", "core.users.manage", icon="people", order=900, group="admin"),
        NavItem(_l("Roles"), "accounts.roles", "core.roles.manage", icon="shield-lock", order=910, group="admin"),
        NavItem(_l("Plugins"), "admin.plugins", "core.plugins.manage", icon="puzzle", order=920, group="admin"),
        NavItem(_l("Settings"), "admin.settings_page", "core.settings.manage", icon="gear", order=930, group="admin"),
        NavItem(_l("Mail"), "mail.settings", "core.settings.manage", icon="envelope", order=935, group="admin"),
        NavItem(_l("Audit log"), "admin.audit_log", "core.audit.view", icon="journal-text", order=940, group="admin"),
        NavItem(_l("Webhooks"), "webhooks.index", "core.webhooks.manage", icon="broadcast", order=950, group="admin"),
        NavItem(_l("Background work"), "jobs.index", "core.jobs.manage", icon="hourglass-split", order=960,
                group="admin"),
    ]


def _check_timezone(value):
    if value and not valid_timezone(value):
        return _l("Unknown time zone.")
    return None


def _check_currency(value):
    if value and not is_currency(value):
        return _l("Unknown currency code.")
    return None


@hookimpl
def erp_settings_fields():
    from ..mail.config import setting_fields as mail_fields

    section = _l("Company")
    return [*mail_fields(),
        SettingField("company.name", _l("Company name"), "string", "My Company", section, required=True),
        SettingField("company.timezone", _l("Time zone"), "timezone", lambda: current_app.config["TIMEZONE"], section,
                     help=_l("Reports count days in this zone; users may choose their own for display."),
                     required=True, validate=_check_timezone),
        SettingField("company.currency", _l("Default currency"), "currency", lambda: current_app.config["CURRENCY"], section,
                     required=True, validate=_check_currency),
        SettingField("company.locale", _l("Default language"), "choice", "", section,
                     choices=(("", _l("Automatic")), ("zh_CN", "简体中文"), ("en", "English"))),
        SettingField("company.legal_name", _l("Legal name"), "string", "", section,
                     help=_l("As registered, for invoices and messages to customers.")),
        SettingField("company.address", _l("Address"), "text", "", section),
        SettingField("company.phone", _l("Phone"), "string", "", section),
        SettingField("company.email", _l("E-mail"), "email_list", "", section,
                     help=_l("The company's own e-mail address.")),
        SettingField("core.webhooks.allow_internal", _l("Webhooks may reach internal addresses"), "boolean", False,
                     _l("Webhooks"), help=_l("Off: subscriptions to loopback, private and link-local addresses "
                                             "(this server, its network) are refused. Turn on only for a trusted "
                                             "receiver inside your own network.")),
    ]


@hookimpl
def erp_setup_checklist():
    from .checklist import core_items

    return core_items()


@hookimpl
def erp_dashboard_widgets(user):
    from .checklist import widget

    return widget(user)


@hookimpl
def erp_schedules():
    return [Schedule("core.webhooks.retry", 60, "erp_core.webhooks:retry_due", _l("Retry failed webhook deliveries")),
            Schedule("core.mail.retry", 60, "erp_core.mail.sending:retry_due", _l("Retry e-mails that could not be sent")),
            Schedule("core.jobs.purge", 86400, "erp_core.background:purge_finished",
                     _l("Remove finished background jobs"))]


# Outgoing webhooks follow the domain events of every plugin.

@hookimpl
def erp_demo_data(ctx):
    from .. import settings

    values = {}
    if settings.get("company.name") in ("", "My Company"):
        values["company.name"] = "茗香茶具商行 (Demo)"
    if not settings.get("company.timezone") or settings.get("company.timezone") == "UTC":
        values["company.timezone"] = "Asia/Shanghai"
    if not settings.get("company.locale"):
        values["company.locale"] = "zh_CN"
    if values:
        settings.set_many(values)


@hookimpl
def erp_audit_vocabulary():
    from .core_history import vocabulary

    return vocabulary()
