"""Throttling of guessable forms (sign-in, public order lookup) with Flask-Limiter.

Counters live in Flask-Limiter's storage: Redis when ``REDIS_URL`` is configured (shared by every
worker and host), memory otherwise (per process: fine for one worker or a test). Windows are
moving windows, so a limit never resets all at once at a clock boundary.

Failures are counted under several keys at once, each with its own limits:

* ``(account, client address)``: tight, with tiers that make the wait grow (a minute, then an
  hour, then a day); only this key stops one address guessing one account;
* the client address alone: looser (an office behind one address has many users);
* the account alone: looser still, against guessing from many addresses.

An attacker therefore locks only themselves out: the owner, from another address, still signs in,
and failures refused with 429 are not counted again. Every limit is a Flask-Limiter string and
a site may override it (``LOGIN_LIMITS``, ``LOOKUP_LIMITS``). A plugin throttles a public form of
its own by :func:`register`-ing a kind with its limits.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many

log = logging.getLogger(__name__)

EXTENSION = "erp_throttle"

LOGIN_LIMITS = {
    "account_address": "3 per minute; 10 per hour; 20 per day",
    "address": "30 per minute; 300 per day",
    "account": "100 per hour; 1000 per day",
}
LOOKUP_LIMITS = {
    "address_order": "5 per 10 minutes; 20 per day",
    "address": "10 per 10 minutes; 100 per day",
}

KINDS: dict[str, tuple[str, dict[str, str]]] = {
    "login": ("LOGIN_LIMITS", LOGIN_LIMITS),
    "lookup": ("LOOKUP_LIMITS", LOOKUP_LIMITS),
}


def register(kind: str, config_name: str, defaults: dict[str, str]) -> None:
    """Add a kind of attempt (a plugin's public form): ``defaults`` maps scopes (part names joined
    by ``_``, e.g. ``address_link``) to Flask-Limiter strings; a site overrides them in the
    ``config_name`` setting. Registering a kind again replaces its limits."""
    KINDS[kind] = (config_name, dict(defaults))


@dataclass
class Refusal:
    """A throttled attempt: which key was over its limit and how long until it may try again."""

    scope: str
    retry_after: int  # seconds

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


def init_app(app) -> Limiter:
    """Give ``app`` its own limiter (Redis storage when ``REDIS_URL`` is set, memory otherwise)."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "erp")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    limiter = Limiter(key_func=get_remote_address, app=app)
    app.extensions[EXTENSION] = limiter
    return limiter


def _limiter() -> Limiter:
    return current_app.extensions[EXTENSION]


def _limits(config_name: str, defaults: dict[str, str], scope: str):
    configured = current_app.config.get(config_name) or {}
    return parse_many(configured.get(scope) or defaults[scope])


def _keys(kind: str, parts: dict[str, str]) -> list[tuple[str, str]]:
    """``(scope, identifier)`` pairs; a key missing one of its parts is left out."""
    found = []
    for scope in _config_name(kind)[1]:
        names = scope.split("_")
        if all(parts.get(n) for n in names):
            found.append((scope, "|".join(parts[n] for n in names)))
    return found


def _config_name(kind: str) -> tuple[str, dict[str, str]]:
    return KINDS[kind]


def check(kind: str, **parts: str | None) -> Refusal | None:
    """The refusal when any key of ``kind`` ("login", "lookup" or a registered kind) is at its
    limit, else None.

    ``parts`` are ``account``, ``address`` and ``order`` (or a registered kind's parts) as they
    apply. A storage failure (Redis down) is logged and lets the attempt through: the form must
    not break with the cache.
    """
    config_name, defaults = _config_name(kind)
    worst = None
    try:
        strategy = _limiter().limiter
        for scope, ident in _keys(kind, {k: _norm(v) for k, v in parts.items()}):
            for limit in _limits(config_name, defaults, scope):
                if not strategy.test(limit, kind, scope, ident):
                    reset_at = strategy.get_window_stats(limit, kind, scope, ident).reset_time
                    wait = max(1, math.ceil(reset_at - time.time()))
                    if worst is None or wait > worst.retry_after:
                        worst = Refusal(scope, wait)
    except Exception:
        log.exception("throttle storage failed; %s attempt let through", kind)
        return None
    return worst


def hit(kind: str, **parts: str | None) -> None:
    """Count one failed (login) or made (lookup) attempt under every key of ``kind``."""
    config_name, defaults = _config_name(kind)
    try:
        strategy = _limiter().limiter
        for scope, ident in _keys(kind, {k: _norm(v) for k, v in parts.items()}):
            for limit in _limits(config_name, defaults, scope):
                strategy.hit(limit, kind, scope, ident)
    except Exception:
        log.exception("throttle storage failed; %s attempt not counted", kind)


def forgive(kind: str, **parts: str | None) -> None:
    """Forget the tight ``(account, address)`` failures after a successful sign-in.

    The looser per-address and per-account counters are kept, so signing in to one's own account
    between guesses at others does not reset the count of an address.
    """
    config_name, defaults = _config_name(kind)
    try:
        strategy = _limiter().limiter
        for scope, ident in _keys(kind, {k: _norm(v) for k, v in parts.items()}):
            if scope.count("_"):
                for limit in _limits(config_name, defaults, scope):
                    strategy.clear(limit, kind, scope, ident)
    except Exception:
        log.exception("throttle storage failed; %s counters not cleared", kind)


def reset() -> None:
    """Forget every counter (tests; an operator after an incident)."""
    _limiter().reset()


def _norm(value: str | None) -> str:
    return (value or "").strip().lower()[:200]
