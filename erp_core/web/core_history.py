"""How the core's own audit entries read (users, roles, settings, plugins, webhooks, API tokens)."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..contrib import AuditVocabulary, HistoryField
from ..extensions import db
from ..i18n import LANGUAGE_NAMES


def _users(ids: list[str]) -> dict:
    from ..auth.models import User

    wanted = [int(i) for i in ids if i.isdigit()]
    rows = db.session.execute(select(User.id, User.username, User.display_name)
                              .where(User.id.in_(wanted))).all() if wanted else []
    return {str(u.id): (u.display_name or u.username, url_for("accounts.edit_user", user_id=u.id)) for u in rows}


def _roles(ids: list[str]) -> dict:
    from ..auth.models import Role

    wanted = [int(i) for i in ids if i.isdigit()]
    rows = db.session.scalars(select(Role).where(Role.id.in_(wanted))).all() if wanted else []
    return {str(r.id): (r.label, url_for("accounts.edit_role", role_id=r.id)) for r in rows}


def _webhooks(ids: list[str]) -> dict:
    from ..webhooks import Webhook

    wanted = [int(i) for i in ids if i.isdigit()]
    rows = db.session.scalars(select(Webhook).where(Webhook.id.in_(wanted))).all() if wanted else []
    return {str(h.id): (h.url, url_for("webhooks.edit", hook_id=h.id)) for h in rows}


def _permission_labels() -> dict:
    from ..auth.services import declared_permissions

    return dict(declared_permissions())


def _role_labels() -> dict:
    from ..auth.models import BUILTIN_ROLE_TITLES

    return dict(BUILTIN_ROLE_TITLES)


def _plugin_labels() -> dict:
    from flask import current_app

    manager = current_app.extensions["erp_plugins"]
    return {name: record.meta.title or name for name, record in manager.records.items()}


def _settings_fields() -> dict:
    from .. import settings

    fields = {}
    for _plugin, f in settings.fields(enabled_only=False):
        kind = {"boolean": "boolean", "choice": "code"}.get(f.kind, "text")
        fields[f.key] = HistoryField(f.label, kind, choices=dict(f.choices) if f.choices else None)
    return fields


def vocabulary() -> list[AuditVocabulary]:
    """The core's record types."""
    profile = {"display_name": _l("Full name"), "email": _l("E-mail"), "active": HistoryField(_l("Active"), "boolean"),
               "locale": HistoryField(_l("Language"), "code", choices=LANGUAGE_NAMES),
               "timezone": _l("Time zone"), "username": _l("Login name"),
               "roles": HistoryField(_l("Roles"), "code", choices=_role_labels)}
    return [
        AuditVocabulary("user", _l("User"), {
            "created": _l("User created"), "updated": _l("User changed"), "password_changed": _l("Password changed"),
            "login": _l("Signed in"), "profile_changed": _l("Profile changed")}, profile, resolve=_users),
        AuditVocabulary("role", _l("Role"), {
            "created": _l("Role created"), "permissions_changed": _l("Permissions changed"), "deleted": _l("Role deleted")},
            {"name": _l("Name"), "codes": HistoryField(_l("Permissions"), "code", choices=_permission_labels),
             "value": HistoryField(_l("Permissions"), "code", choices=_permission_labels)}, resolve=_roles),
        AuditVocabulary("settings", _l("Site settings"), {"changed": _l("Settings changed")}, _settings_fields()),
        AuditVocabulary("plugin", _l("Plugin"), {"enabled": _l("Plugin switched on"), "disabled": _l("Plugin switched off")},
                        {"enabled": HistoryField(_l("Switched on"), "boolean")},
                        resolve=lambda ids: {i: (str(_plugin_labels().get(i, i)), None) for i in ids}),
        AuditVocabulary("webhook", _l("Webhook"), {
            "created": _l("Webhook created"), "changed": _l("Webhook changed"), "secret_rotated": _l("New signing secret")},
            {"url": _l("Address"), "events": HistoryField(_l("Events"), "list"), "active": HistoryField(_l("Active"), "boolean"),
             "description": _l("Description")}, resolve=_webhooks),
        AuditVocabulary("api_token", _l("API token"), {"created": _l("API token created"), "revoked": _l("API token revoked")},
                        {"name": _l("Name"), "user": _l("User"), "expires_at": HistoryField(_l("Expires"), "datetime")}),
    ]
