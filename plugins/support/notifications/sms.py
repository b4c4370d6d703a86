"""Text-message (SMS) adapters: a provider plugs in through ``erp_sms_adapters``.

An adapter is a class with a unique ``key``, a ``label``, ``offline`` (True when ``send`` makes no
network call, so it may run inside the transaction) and ``send(phone, text) -> SmsResult``. The
built-in :class:`RecordingAdapter` sends nothing: it records the message, which the order's page
shows, so the notifications can be set up and checked before a provider is chosen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l

from . import kinds

KEY_RE = re.compile(r"[a-z][a-z0-9_]+")


@dataclass(frozen=True)
class SmsResult:
    """What an adapter did: ``status`` is ``recorded``, ``sent`` or ``failed``; ``reference`` the
    provider's message id, ``error`` a short reason when it failed."""

    status: str
    reference: str = ""
    error: str = ""


class SmsAdapter:
    """The interface of an SMS provider."""

    key = ""
    label = ""
    offline = False

    def send(self, phone: str, text: str) -> SmsResult:  # pragma: no cover - the interface
        """Send ``text`` to ``phone``; return how it went (never raise for a refused message)."""
        raise NotImplementedError


class RecordingAdapter(SmsAdapter):
    """Built in: keeps the message on the order's page and sends nothing."""

    key = "record"
    label = _l("Record only (no text is sent)")
    offline = True

    def send(self, phone: str, text: str) -> SmsResult:
        """Nothing leaves the site: the notification log keeps the text."""
        return SmsResult(kinds.RECORDED)


def adapters() -> dict[str, type[SmsAdapter]]:
    """The adapters of the enabled plugins by key (an invalid or repeated key is ignored)."""
    found: dict[str, type[SmsAdapter]] = {}
    for adapter in current_app.extensions["erp_plugins"].collect("erp_sms_adapters"):
        key = getattr(adapter, "key", "")
        if isinstance(key, str) and KEY_RE.fullmatch(key) and key not in found:
            found[key] = adapter
    return found


def chosen() -> SmsAdapter | None:
    """The adapter chosen in the settings, or None when text messages are off (or its plugin is)."""
    from erp_core import settings

    key = settings.get(kinds.SMS_SETTING) or ""
    adapter = adapters().get(key) if key else None
    return adapter() if adapter is not None else None
