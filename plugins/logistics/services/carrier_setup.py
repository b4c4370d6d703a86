"""Carriers and their adapters: which adapters are offered, a carrier's adapter, configuring
carriers (credentials, switching on and off, webhook secrets).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from flask import current_app, g, has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from erp_core import audit, settings
from erp_core.errors import DomainError, NotFound
from erp_core.extensions import db
from erp_core.plugins import current_manager
from erp_core.secretbox import seal, unseal
from erp_core.timeutil import utcnow
from erp_core.ui import path_for

from .. import adapters as a
from ..models import Carrier
from ._common import Invalid


def adapter_classes() -> dict[str, type[a.CarrierAdapter]]:
    """``{key: class}`` of the adapters switched-on plugins offer (``erp_carrier_adapters``)."""
    enabled = current_app.extensions["erp_plugins"].enabled()
    cached = g.get("_logistics_adapters")
    if cached is None or cached[0] != enabled:
        found: dict[str, type[a.CarrierAdapter]] = {}
        for cls in current_manager().collect("erp_carrier_adapters"):
            key = getattr(cls, "key", "")
            if a.is_valid_key(key) and key not in found:
                found[key] = cls
        cached = g._logistics_adapters = (enabled, found)
    return cached[1]


def webhook_secret(carrier: Carrier) -> str:
    """The carrier's webhook signing secret, derived from SECRET_KEY and its stored nonce.

    The site shows it on the carrier's page for the carrier's staff to enter on their side; the
    adapter receives it as ``config.webhook_secret``. Tests sign a push for a configured carrier
    with it (``adapter.sign_test_webhook(body)`` of an adapter built with this secret). Rotating
    the secret (on the carrier's page) changes it."""
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    return hmac.new(key, f"logistics.webhook:{carrier.webhook_nonce}".encode(), hashlib.sha256).hexdigest()


def webhook_url(carrier: Carrier) -> str:
    """The absolute address of the carrier's webhook: the ``logistics.public_url`` setting, else
    the address of the current request; "" from a background job without either."""
    path = path_for("logistics.webhook", code=carrier.code)
    base = (settings.get("logistics.public_url") or "").strip().rstrip("/")
    if not base and has_request_context():
        base = request.host_url.rstrip("/")
    return base + path if base else ""


def test_connection(carrier: Carrier) -> tuple[bool, str]:
    """Ask the carrier whether its credentials work (the adapter's ``test_connection``).

    Call it outside a transaction: the carrier is asked over the network. Refused (DomainError)
    when the adapter cannot test its connection.
    """
    adapter = adapter_for(carrier)
    if not a.offers_connection_test(type(adapter)):
        raise DomainError(_("Carrier %(name)s cannot test its connection.", name=carrier.name))
    try:
        ok, message = adapter.test_connection()
    except a.AdapterError as exc:
        ok, message = False, str(exc)
    return bool(ok), str(message or "")[:500]


def adapter_for(carrier: Carrier) -> a.CarrierAdapter:
    """An adapter configured for the carrier; refused when its adapter is not installed or switched off."""
    cls = adapter_classes().get(carrier.adapter)
    if cls is None:
        raise DomainError(_("Carrier %(name)s uses the adapter %(adapter)s, which is not installed or switched off.",
                            name=carrier.name, adapter=carrier.adapter))
    return cls(a.CarrierConfig(code=carrier.code, name=carrier.name, credentials=stored_credentials(carrier, cls),
                               webhook_secret=webhook_secret(carrier)))


def stored_credentials(carrier: Carrier, cls: type[a.CarrierAdapter] | None = None) -> dict[str, str]:
    """The carrier's credentials in plain text: its secret ones are stored sealed
    (:mod:`erp_core.secretbox`) and opened here, for its adapter only; never put them on a page."""
    cls = cls or adapter_classes().get(carrier.adapter)
    values = dict(carrier.credentials or {})
    secret = {f.key for f in cls.credential_fields if f.secret} if cls is not None else set(values)
    return {k: (unseal(v, f"The credential {k} of carrier {carrier.code}") if k in secret else v)
            for k, v in values.items()}


def _sealed(cls, values: dict) -> dict:
    """Credentials as stored: the secret ones sealed."""
    secret = {f.key for f in cls.credential_fields if f.secret}
    return {k: (seal(v) if k in secret else v) for k, v in values.items()}


def try_adapter(carrier: Carrier | None) -> a.CarrierAdapter | None:
    """The carrier's adapter, or None when there is no carrier or its adapter is gone."""
    if carrier is None:
        return None
    try:
        return adapter_for(carrier)
    except DomainError:
        return None


def masked(value) -> str:
    """A secret as shown on pages: dots and its last two characters."""
    value = str(value or "")
    if not value:
        return ""
    return "•" * 6 + value[-2:] if len(value) > 6 else "•" * 6


def carriers(enabled_only: bool = False) -> list[Carrier]:
    """The configured carriers by name (only those switched on with ``enabled_only``)."""
    stmt = select(Carrier).order_by(Carrier.name, Carrier.id)
    if enabled_only:
        stmt = stmt.where(Carrier.enabled.is_(True))
    return list(db.session.scalars(stmt))


def get_carrier(carrier_id) -> Carrier:
    """The carrier with this id; NotFound otherwise."""
    carrier = db.session.get(Carrier, int(carrier_id)) if str(carrier_id or "").isdigit() else None
    if carrier is None:
        raise NotFound(_("No such carrier."), field="carrier_id")
    return carrier


def _carrier_values(cls, name: str, credentials: dict, stored: dict, errors: dict) -> tuple[str, dict]:
    """The carrier's name and credentials as stored; problems go into ``errors`` per field."""
    name = (name or "").strip()[:120]
    if not name:
        errors.setdefault("name", []).append(_("The carrier needs a name."))
    values = {}
    for f in cls.credential_fields:
        raw = (credentials.get(f.key) or "").strip()[:500]
        if f.secret and not raw:
            raw = stored.get(f.key, "")  # blank keeps the stored secret
        values[f.key] = raw
    for key, problem in cls.validate_credentials(values).items():
        message = {"required": _("This is required."), "choice": _("Choose one of the listed values.")}.get(problem, problem)
        errors.setdefault("cred_" + key, []).append(message)
    return name, values


def _credential_audit(cls, values: dict) -> dict:
    """Credentials as the audit log keeps them: secrets masked."""
    secret = {f.key for f in cls.credential_fields if f.secret}
    return {k: ("***" if k in secret and v else v) for k, v in values.items()}


def create_carrier(name: str, code: str, adapter_key: str, credentials: dict, enabled: bool = True) -> Carrier:
    """Configure a carrier run by the adapter ``adapter_key``; ``code`` names its webhook URL.

    ``name`` is shown to people; ``code`` has 2 to 40 lower-case letters, digits or dashes and is
    unique (pushes go to ``/logistics/webhooks/<code>``); ``credentials`` is ``{field key:
    value}`` for the adapter's ``credential_fields``, checked with its ``validate_credentials``.
    Refused with an ``Invalid`` error listing every bad field.
    """
    errors: dict[str, list[str]] = {}
    cls = adapter_classes().get(adapter_key or "")
    if cls is None:
        raise Invalid({"adapter": [_("Choose one of the available adapters.")]})
    code = (code or "").strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,39}", code):
        errors.setdefault("code", []).append(_("A code has 2 to 40 lower-case letters, digits or dashes."))
    elif db.session.scalar(select(Carrier.id).where(Carrier.code == code)):
        errors.setdefault("code", []).append(_("The code %(code)s is already used by another carrier.", code=code))
    name, values = _carrier_values(cls, name, credentials or {}, {}, errors)
    if errors:
        raise Invalid(errors)
    now = utcnow()
    carrier = Carrier(code=code, name=name, adapter=cls.key, enabled=bool(enabled), credentials=_sealed(cls, values),
                      webhook_nonce=secrets.token_hex(16), created_at=now, updated_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(carrier)
            db.session.flush()
    except IntegrityError:  # the same code taken a moment ago by another request
        raise Invalid({"code": [_("The code %(code)s is already used by another carrier.", code=code)]}) from None
    audit.record("carrier", carrier.id, "created", after={"name": name, "code": code, "adapter": cls.key,
                                                         "enabled": carrier.enabled,
                                                         **_credential_audit(cls, values)})
    return carrier


def update_carrier(carrier: Carrier, name: str, credentials: dict) -> None:
    """Change a carrier's name and credentials; a blank secret keeps the stored one."""
    cls = adapter_classes().get(carrier.adapter)
    if cls is None:
        raise DomainError(_("Carrier %(name)s uses the adapter %(adapter)s, which is not installed or switched off.",
                            name=carrier.name, adapter=carrier.adapter))
    errors: dict[str, list[str]] = {}
    stored = stored_credentials(carrier, cls)
    name, values = _carrier_values(cls, name, credentials or {}, stored, errors)
    if errors:
        raise Invalid(errors)
    before = {"name": carrier.name, **_credential_audit(cls, stored)}
    secret = {f.key for f in cls.credential_fields if f.secret}
    after = {"name": name, **{k: ("*** (changed)" if k in secret and v != stored.get(k) else
                                  _credential_audit(cls, {k: v})[k]) for k, v in values.items()}}
    carrier.name, carrier.credentials, carrier.updated_at = name, _sealed(cls, values), utcnow()
    b, af = audit.diff(before, after)
    if af:
        audit.record("carrier", carrier.id, "changed", before=b, after=af)


def set_carrier_enabled(carrier: Carrier, enabled: bool) -> None:
    """Switch a carrier on or off (audited)."""
    if carrier.enabled == bool(enabled):
        return
    carrier.enabled, carrier.updated_at = bool(enabled), utcnow()
    audit.record("carrier", carrier.id, "enabled" if enabled else "disabled",
                 before={"enabled": not enabled}, after={"enabled": bool(enabled)})


def rotate_webhook_secret(carrier: Carrier) -> str:
    """Give the carrier a new webhook secret (the old one stops working); returns it."""
    carrier.webhook_nonce, carrier.updated_at = secrets.token_hex(16), utcnow()
    audit.record("carrier", carrier.id, "webhook_secret_rotated")
    return webhook_secret(carrier)
