"""Language and time-zone selection, and the formatting filters templates use."""

from __future__ import annotations

import functools
import json
import re
from datetime import date, datetime
from typing import Any

import flask_babel
from babel import Locale
from flask import current_app, request, session
from flask_babel import format_date, format_datetime, format_decimal, format_time, get_locale
from flask_babel.speaklater import LazyString
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from . import settings
from .money import format_money

LANGUAGE_NAMES = {"en": "English", "zh_CN": "简体中文"}


def languages() -> list[str]:
    return list(current_app.config.get("LANGUAGES", ["en", "zh_CN"]))


def select_locale() -> str:
    """The user's choice, then the session's, then Accept-Language, then the site default."""
    langs = languages()
    if request and request.path.startswith("/api/") and request.headers.get("Accept-Language"):
        best = request.accept_languages.best_match(langs)
        if best:
            return best  # an API client asks per request
    try:
        user_locale = getattr(current_user, "locale", None) if current_user else None
    except SQLAlchemyError:  # the database is down: the error page still needs a language
        user_locale = None
    if user_locale in langs:
        return user_locale
    chosen = browser_locale(langs) if request else None
    if chosen:
        return chosen
    try:
        return settings.get("company.locale") or current_app.config.get("DEFAULT_LOCALE", "en")
    except SQLAlchemyError:
        return current_app.config.get("DEFAULT_LOCALE", "en")


def browser_locale(langs: list[str]) -> str | None:
    """The session's choice, else the browser's (Accept-Language), among ``langs``; no database."""
    chosen = session.get("lang")
    if chosen in langs:
        return chosen
    best = request.accept_languages.best_match(langs)
    if best:
        return best
    # "zh-TW", "zh-Hans" and bare "zh" still mean Chinese rather than English.
    for tag, _quality in request.accept_languages:
        if tag.lower().startswith("zh") and "zh_CN" in langs:
            return "zh_CN"
        if tag.lower().startswith("en") and "en" in langs:
            return "en"
    return None


def company_locale() -> str:
    """The language records written by the system are stored in (follow-up tickets, notes):
    the company's default language, else the site's default locale."""
    return settings.get("company.locale") or current_app.config.get("DEFAULT_LOCALE", "en")


def select_timezone() -> str:
    """The user's zone, else the company's."""
    user_tz = getattr(current_user, "timezone", None) if current_user else None
    return user_tz or settings.company_timezone()


def filter_money(minor, currency: str | None = None) -> str:
    return format_money(minor, currency or settings.company_currency(), str(get_locale() or "en"))


def filter_datetime(value: datetime | None, fmt: str = "medium") -> str:
    """A moment in the reader's zone. ``short`` is the locale's medium date with a short time
    (``Dec 7, 2026, 3:05 PM`` / ``2026年12月7日 15:05``): CLDR's short date (``12/7/26``) is
    ambiguous between countries."""
    if value is None:
        return ""
    if fmt == "short":
        return f"{format_date(value, 'medium')} {format_time(value, 'short')}"
    return format_datetime(value, fmt)


def filter_date(value: date | datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    # flask_babel shifts an aware datetime into the user's zone before taking its date.
    return format_date(value, "medium" if fmt == "short" else fmt)


# Offered first in country lists: where a shop in China sends most of its parcels.
NEAR_COUNTRIES = ("CN", "HK", "MO", "TW")


def _territories() -> dict[str, str]:
    return _territories_of(str(get_locale() or "en"))


@functools.lru_cache(maxsize=8)
def _territories_of(locale: str) -> dict[str, str]:
    # Filtered once per language: an address list names a country on every row.
    return {code: name for code, name in Locale.parse(locale).territories.items()
            if len(code) == 2 and code.isalpha() and code not in ("EU", "EZ", "UN", "QO", "XA", "XB", "ZZ")}


def country_name(code: str | None) -> str:
    """A two-letter country code as the reader calls the country (``CN`` -> China / 中国); an
    unknown code is shown as stored."""
    if not code:
        return ""
    return _territories().get(str(code).upper(), str(code))


def country_choices(current: str | None = None) -> list[tuple[str, str]]:
    """``(code, name)`` for a country select in the reader's language: the near ones first, then
    all by name. A stored code that is not a known country is kept as the first choice, so that
    saving a form never changes it silently."""
    names = _territories()
    near = [(c, names[c]) for c in NEAR_COUNTRIES if c in names]
    rest = sorted(((c, n) for c, n in names.items() if c not in NEAR_COUNTRIES), key=lambda cn: cn[1])
    choices = near + rest
    if current and current.upper() not in names:
        choices.insert(0, (current, current))
    return choices


def filter_number(value, fmt: str | None = None) -> str:
    if value is None:
        return ""
    return format_decimal(value, fmt)


# ----------------------------------------------------------------------------- system text

def system_text(key: str, **params: Any) -> str:
    """The stored form of a sentence the system writes for people (a note, a history line): its
    key and parameters as JSON text, translated only when shown (:func:`render_system_text`).

    ``key`` is declared by a plugin's ``erp_system_texts`` hook. A parameter may be another
    ``system_text(...)`` or a ``lazy_gettext`` label (translated when shown), ``{"date": iso}`` or
    ``{"datetime": iso}`` (shown in the reader's format and zone), ``{"money": minor, "currency": code}``, or plain text and numbers
    (shown as they are).
    """
    clean = {k: _stored_param(v) for k, v in params.items()}
    return json.dumps({"key": key, "params": clean}, ensure_ascii=False, separators=(",", ":"), default=str)


def _stored_param(value: Any) -> Any:
    if _is_stored(value):
        return json.loads(value)
    if isinstance(value, LazyString):  # a lazy_gettext / lazy_pgettext label: its msgid, translated when shown
        args = value._args
        if value._func is flask_babel.gettext and len(args) == 1:
            return {"msgid": args[0]}
        if value._func is flask_babel.pgettext and len(args) == 2:
            return {"msgid": args[1], "context": args[0]}
        return str(value)
    return value


def _is_stored(value: Any) -> bool:
    return isinstance(value, str) and value.startswith('{"key":')


def parse_system_text(value: Any) -> dict | None:
    """``{"key", "params"}`` of a stored system text, or ``None`` for typed text."""
    if isinstance(value, dict) and isinstance(value.get("key"), str):
        return value
    if not _is_stored(value):
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("key"), str):
        return None
    if not isinstance(data.get("params"), dict):
        data["params"] = {}
    return data


def system_text_catalog() -> dict[str, Any]:
    """Every loaded plugin's ``erp_system_texts``, merged (built once per app)."""
    cached = current_app.extensions.get("erp_system_texts")
    if cached is None:
        cached = {}
        manager = current_app.extensions["erp_plugins"]
        for _name, answer in manager.call_each("erp_system_texts", only_enabled=False):
            cached.update(answer or {})
        current_app.extensions["erp_system_texts"] = cached
    return cached


def _param(value: Any) -> Any:
    if isinstance(value, dict):
        if "key" in value:
            return _render(value)
        if "msgid" in value:
            msgid = str(value["msgid"])
            context = value.get("context")
            return str(flask_babel.pgettext(str(context), msgid) if context else flask_babel.gettext(msgid))
        if "date" in value:
            return filter_date(date.fromisoformat(str(value["date"])[:10]))
        if "datetime" in value:
            return filter_datetime(datetime.fromisoformat(str(value["datetime"])))
        if "money" in value:
            return format_money(int(value["money"]), str(value.get("currency") or settings.company_currency()),
                                str(get_locale() or "en"))
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return value


def _render(data: dict) -> str:
    message = system_text_catalog().get(data["key"])
    try:
        params = {k: _param(v) for k, v in data["params"].items()}
    except (TypeError, ValueError):
        params = {k: str(v) for k, v in data["params"].items()}
    if message is None:  # a key no loaded plugin declares (its plugin was removed)
        words = re.sub(r"[._]+", " ", data["key"].rsplit(".", 1)[-1]).strip().capitalize()
        return " ".join([words, *(str(v) for v in params.values())])
    text = str(message)
    try:
        return text % params if params else text.replace("%%", "%")
    except (KeyError, TypeError, ValueError):
        return text


def render_system_text(value: Any) -> str:
    """A stored system text in the reader's language; typed text (or ``None``) as it is."""
    data = parse_system_text(value)
    if data is None:
        return "" if value is None else str(value)
    return _render(data)


def register(app) -> None:
    """Install the Jinja filters."""
    app.jinja_env.filters["system_text"] = render_system_text
    app.jinja_env.filters["money"] = filter_money
    app.jinja_env.filters["dt"] = filter_datetime
    app.jinja_env.filters["d"] = filter_date
    app.jinja_env.filters["num"] = filter_number
    app.jinja_env.filters["country"] = country_name
