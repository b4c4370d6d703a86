"""Payment methods: the adapters enabled plugins offer, whether each is switched on, and an
adapter instance with its settings."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from erp_core import settings
from erp_core.contrib import SettingField
from erp_core.errors import NotFound
from erp_core.plugins import current_manager

from ..adapters import PaymentAdapter
from ._common import PaymentRefused, SettingsInvalid


def adapter_classes() -> dict[str, type[PaymentAdapter]]:
    """Every payment adapter offered by enabled plugins, by code (first one wins on a clash)."""
    found: dict[str, type[PaymentAdapter]] = {}
    for cls in current_manager().collect("erp_payment_adapters"):
        if cls.code and cls.code not in found:
            found[cls.code] = cls
    return dict(sorted(found.items(), key=lambda item: item[0]))


def method_setting_key(code: str) -> str:
    return f"finance.method.{code}"


def method_configured(cls: type[PaymentAdapter]) -> bool:
    """True when every setting the method cannot work without has a value (off until configured)."""
    return all(str(settings.get(f"finance.{cls.code}.{name}") or "").strip() for name in cls.required_settings)


def method_enabled(code: str, classes: dict | None = None) -> bool:
    """Switched on in the settings, and configured."""
    cls = (classes or adapter_classes()).get(code)
    if cls is None:
        return False
    return bool(settings.get(method_setting_key(code), cls.enabled_by_default)) and method_configured(cls)


def enabled_methods(online: bool | None = None) -> list[type[PaymentAdapter]]:
    """Adapters switched on in the settings (optionally only online or only manual ones)."""
    classes = adapter_classes()
    return [cls for code, cls in classes.items()
            if method_enabled(code, classes) and (online is None or cls.online == online)]


def method_label(code: str) -> str:
    cls = adapter_classes().get(code)
    return str(cls.label) if cls else code


def method_labels() -> dict[str, str]:
    return {code: str(cls.label) for code, cls in adapter_classes().items()}


def derived_secret(purpose: str) -> str:
    """A secret derived from the site's SECRET_KEY for ``purpose`` (never stored)."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"finance:{purpose}".encode(), hashlib.sha256).hexdigest()


def get_adapter(code: str, *, must_be_enabled: bool = True) -> PaymentAdapter:
    """An adapter instance with its settings; refuses unknown or switched-off methods."""
    classes = adapter_classes()
    cls = classes.get(code)
    if cls is None:
        raise PaymentRefused(_("Unknown payment method %(code)s.", code=code), field="method")
    if must_be_enabled and not method_configured(cls):
        raise PaymentRefused(_("The payment method %(method)s is not configured yet: fill in its settings.",
                               method=cls.label), field="method")
    if must_be_enabled and not method_enabled(code, classes):
        raise PaymentRefused(_("The payment method %(method)s is switched off.", method=cls.label), field="method")
    prefix = f"finance.{code}."
    values = {f.key[len(prefix):]: settings.get(f.key) for f in cls.settings_fields() if f.key.startswith(prefix)}
    if code == "demo_gateway" and not values.get("secret"):
        values["secret"] = derived_secret("demo_gateway")
    return cls(values)


MAX_SETTING_LENGTH = 2000


def method_settings(code: str) -> dict[str, SettingField]:
    """The settings fields of a payment method by their name (the key after ``finance.<code>.``)."""
    cls = adapter_classes().get(code)
    if cls is None:
        raise NotFound(_("Unknown payment method %(code)s.", code=code), field="code")
    prefix = f"finance.{code}."
    return {f.key[len(prefix):]: f for f in cls.settings_fields() if f.key.startswith(prefix)}


def _type_problem(field: SettingField, raw: Any) -> str | None:
    """A value of the wrong JSON type for the field's kind (the settings page's form types its own)."""
    if field.kind == "boolean":
        return None if isinstance(raw, bool) else _("Not a valid boolean.")
    if field.kind == "integer":
        return None if isinstance(raw, int) and not isinstance(raw, bool) else _("Not a valid whole number.")
    if not isinstance(raw, str):
        return _("Not a valid string.")
    if len(raw) > MAX_SETTING_LENGTH:
        return _("At most %(n)d characters.", n=MAX_SETTING_LENGTH)
    return None


def configure_method(code: str, enabled: bool | None = None, values: Mapping[str, Any] | None = None) -> dict:
    """Switch payment method ``code`` on or off and set its settings fields by name, as the site
    settings page does: each value checked by its kind and the field's ``validate``, a secret sent
    empty keeps the stored one, the change audited with secrets masked. All or nothing: raises
    :class:`SettingsInvalid` (nothing stored) when any value is refused. Returns the changes,
    ``{key: (before, after)}``."""
    fields = method_settings(code)
    errors: dict[str, list[str]] = {}
    chosen: dict[str, Any] = {}
    for name, raw in (values or {}).items():
        field = fields.get(name)
        problem = (_("The payment method %(method)s has no setting %(name)s.", method=code, name=name)
                   if field is None else _type_problem(field, raw))
        if problem is None and field.kind == "secret" and not raw:
            continue  # blank keeps the stored secret
        if problem is None:
            raw, problem = settings.clean_value(field, raw)
        if problem is None and field.required and field.kind != "boolean" and raw in ("", None):
            problem = _("This is required.")
        if problem:
            errors[name] = [problem]
        else:
            chosen[field.key] = raw
    if errors:
        raise SettingsInvalid(errors)
    declared = list(fields.values())
    if enabled is not None:
        switch = SettingField(method_setting_key(code), _l("Accept payments by %(method)s", method=code), "boolean")
        declared.append(switch)
        chosen[switch.key] = bool(enabled)
    return settings.store(chosen, declared)
