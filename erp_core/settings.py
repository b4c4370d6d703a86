"""Site settings declared by plugins (``erp_settings_fields``) and stored in ``core_setting``."""

from __future__ import annotations

from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app, g, has_app_context
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from .contrib import SettingField
from .extensions import db
from .models import Setting
from .secretbox import is_sealed, seal, unseal
from .timeutil import utcnow


def fields(enabled_only: bool = True) -> list[tuple[str, SettingField]]:
    """``(plugin_name, field)`` for every declared setting, in plugin order."""
    manager = current_app.extensions["erp_plugins"]
    result = []
    for plugin, contributed in manager.call_each("erp_settings_fields", only_enabled=enabled_only):
        for f in contributed or []:
            result.append((plugin, f))
    return result


def _field_map() -> dict[str, SettingField]:
    cached = g.get("_erp_setting_fields") if has_app_context() else None
    if cached is None:
        cached = {f.key: f for _, f in fields(enabled_only=False)}
        if has_app_context():
            g._erp_setting_fields = cached
    return cached


def _stored() -> dict[str, Any]:
    cached = g.get("_erp_settings")
    if cached is None:
        try:
            cached = {k: v for k, v in db.session.execute(select(Setting.key, Setting.value)).all()}
        except DBAPIError:
            db.session.rollback()
            cached = {}
        g._erp_settings = cached
    return cached


def in_reader_language(key: str) -> str:
    """A prose setting customers read, kept once per language as ``<key>.zh_CN`` and ``<key>.en``:
    the reader's language, else the other one when that is empty."""
    from flask_babel import get_locale

    locale = get_locale()
    reader = "zh_CN" if locale is not None and locale.language == "zh" else "en"
    other = "en" if reader == "zh_CN" else "zh_CN"
    for code in (reader, other):
        value = (get(f"{key}.{code}") or "").strip()
        if value:
            return value
    return ""


def get(key: str, default: Any = None) -> Any:
    """The stored value of ``key``, else the field's default, else ``default``."""
    stored = _stored()
    if key in stored:
        value = stored[key]
        return unseal(value, f"The setting {key}") if is_sealed(value) else value
    field = _field_map().get(key)
    if field is not None:
        return field.default() if callable(field.default) else field.default
    return default


def set_many(values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Store several settings in the caller's transaction; returns ``{key: (before, after)}``
    for those that changed (for the audit log)."""
    stored = _stored()
    field_map = _field_map()
    changed = {}
    for key, value in values.items():
        before = get(key)
        if before == value and key in stored and not _needs_sealing(field_map.get(key), stored[key]):
            continue
        if before != value:
            changed[key] = (before, value)
        if _is_secret(field_map.get(key)):
            value = seal(value)
        row = db.session.get(Setting, key)
        if row is None:
            db.session.add(Setting(key=key, value=value, changed_at=utcnow()))
        else:
            row.value = value
            row.changed_at = utcnow()
    g.pop("_erp_settings", None)
    return changed


def clean_value(field: SettingField, raw: Any) -> tuple[Any, str | None]:
    """Normalise and check one submitted value of ``field``; returns ``(value, error message)``.

    Text kinds are trimmed (currencies upper-cased, e-mail lists checked and rejoined), then the
    field's own ``validate(value)`` runs; its message (if any) is the error.
    """
    if field.kind in ("string", "text", "timezone", "currency", "email_list", "choice", "secret"):
        raw = (raw or "").strip() if field.kind != "secret" else (raw or "")
    if field.kind == "currency":
        raw = raw.upper()
    if field.kind == "choice" and field.choices and raw and raw not in {value for value, _label in field.choices}:
        return raw, _("Not a valid choice.")
    if field.kind == "email_list" and raw:
        addresses = [a.strip() for a in raw.replace(";", ",").split(",") if a.strip()]
        for address in addresses:
            try:
                validate_email(address, check_deliverability=False)
            except EmailNotValidError:
                return raw, _("%(address)s is not a valid e-mail address.", address=address)
        raw = ", ".join(addresses)
    if field.validate is not None:
        problem = field.validate(raw)
        if problem:
            return raw, str(problem)
    return raw, None


def store(values: dict[str, Any], declared: list[SettingField]) -> dict[str, tuple[Any, Any]]:
    """Store checked values (see :func:`clean_value`) and audit what changed, secrets masked;
    returns ``{key: (before, after)}`` of the changes. In the caller's transaction."""
    from . import audit

    changed = set_many(values)
    if changed:
        secret_keys = {f.key for f in declared if f.kind == "secret"}
        audit.record("settings", "site", "changed",
                     before={k: ("***" if k in secret_keys else b) for k, (b, _a) in changed.items()},
                     after={k: ("***" if k in secret_keys else a) for k, (_b, a) in changed.items()})
    return changed


def _is_secret(field: SettingField | None) -> bool:
    return field is not None and field.kind == "secret"


def _needs_sealing(field: SettingField | None, stored_value: Any) -> bool:
    return _is_secret(field) and bool(stored_value) and not is_sealed(stored_value)


def seal_plaintext_secrets() -> list[str]:
    """Seal secret settings stored before secrets were encrypted (``erp db upgrade`` calls it);
    returns the keys it sealed. The caller commits."""
    field_map = _field_map()
    sealed = []
    for row in db.session.scalars(select(Setting)):
        if _needs_sealing(field_map.get(row.key), row.value):
            row.value = seal(row.value)
            sealed.append(row.key)
    g.pop("_erp_settings", None)
    return sealed


def company_timezone() -> str:
    """The company's IANA time zone: reports count days in it."""
    return get("company.timezone") or current_app.config.get("TIMEZONE", "UTC")


def company_currency() -> str:
    """The default currency of new orders and of money shown without one."""
    return get("company.currency") or current_app.config.get("CURRENCY", "CNY")
