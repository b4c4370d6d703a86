"""Configuration layers: built-in defaults < instance/config.toml (or .py) < ``ERP_*`` environment.

Every setting has a typed default here; values coming from TOML or the environment are coerced
to that type, and a value that cannot be coerced raises :class:`ConfigError` with one line that
names the setting and what is expected.
"""

from __future__ import annotations

import os
import runpy
import tomllib
from pathlib import Path
from typing import Any

BUILTIN_PLUGINS = ("orders", "inventory", "logistics", "finance", "support", "purchasing", "quotations")

DEFAULTS: dict[str, Any] = {
    "ENV": "production",
    "DEBUG": False,
    "SECRET_KEY": "",
    "DATABASE_URL": "",
    "REDIS_URL": "",
    # Built-in plugins to load; third-party ones come from the erp.plugins entry points.
    "PLUGINS": list(BUILTIN_PLUGINS),
    # Plugins switched on when the database holds no switch for them yet (default: all loaded).
    "PLUGINS_ENABLED": [],
    "LOAD_ENTRY_POINTS": True,
    "DEFAULT_LOCALE": "en",
    "TIMEZONE": "UTC",
    "CURRENCY": "CNY",
    "LANGUAGES": ["en", "zh_CN"],
    "SQLITE_BUSY_TIMEOUT": 30,
    "MAIL_SERVER": "",
    "MAIL_PORT": 25,
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_USE_TLS": False,  # STARTTLS
    "MAIL_USE_SSL": False,  # implicit TLS (port 465)
    "MAIL_FROM": "",
    "MAIL_FROM_NAME": "",
    "MAIL_CA_FILE": "",  # extra CA certificates trusted for the mail server (a private CA)
    "MAIL_TIMEOUT": 30,
    "UPLOAD_FOLDER": "",
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "PER_PAGE": 25,
    "SCHEDULER_TICK": 30,
    # Without Redis: "thread" runs queued jobs and schedules in a background thread of every
    # serving process (erp run, erp quickstart, gunicorn workers); "off" leaves them to
    # `erp worker`; "inline" runs them right after each commit in the committing thread (tests).
    "JOB_RUNNER": "thread",
    "JOB_POLL_INTERVAL": 1.0,  # seconds between looks at the jobs table
    "JOB_MAX_ATTEMPTS": 3,  # tries of a failing job (with back-off) before it is "failed"
    "JOB_LEASE": 900,  # seconds after which a job still "running" (its process died) is queued again
    "JOB_KEEP_DAYS": 7,  # finished jobs are deleted after this many days
    "JOB_QUEUE": "erp",
    "LOG_LEVEL": "INFO",
    "LOG_FORMAT": "text",
    "SECURE_COOKIES": False,
    # Number of reverse proxies (nginx) in front of the app whose X-Forwarded-* headers to trust.
    "PROXY_COUNT": 0,
}


class ConfigError(Exception):
    """A configuration value is missing or malformed; the message is one line for the user."""


def instance_path() -> Path:
    """The instance folder: ``$ERP_INSTANCE_PATH`` or ``./instance``, as an absolute path."""
    return Path(os.environ.get("ERP_INSTANCE_PATH") or "instance").resolve()


def _coerce(key: str, value: Any, default: Any, source: str) -> Any:
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{key} from {source} must be true or false, not {value!r}")
    if isinstance(default, float):
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key} from {source} must be a number, not {value!r}") from None
    if isinstance(default, int):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key} from {source} must be a whole number, not {value!r}") from None
    if isinstance(default, list):
        if isinstance(value, (list, tuple)):
            return [str(v).strip() for v in value if str(v).strip()]
        return [part.strip() for part in str(value).split(",") if part.strip()]
    if not isinstance(value, str):
        raise ConfigError(f"{key} from {source} must be text, not {value!r}")
    return value


def _read_instance_file(folder: Path) -> tuple[dict[str, Any], str]:
    toml_file = folder / "config.toml"
    py_file = folder / "config.py"
    if toml_file.exists():
        try:
            with toml_file.open("rb") as fh:
                raw = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{toml_file} is not valid TOML: {exc}") from None
        return {k.upper(): v for k, v in raw.items()}, str(toml_file)
    if py_file.exists():
        try:
            raw = runpy.run_path(str(py_file))
        except Exception as exc:  # a typo in the site's file must not end in a traceback
            raise ConfigError(f"{py_file} could not be run: {type(exc).__name__}: {exc}") from None
        return {k: v for k, v in raw.items() if k.isupper()}, str(py_file)
    return {}, ""


def load_config(folder: Path | None = None, overrides: dict[str, Any] | None = None,
                environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Build the effective configuration.

    ``overrides`` (used by tests and the CLI) sit on top of everything. Keys unknown to
    :data:`DEFAULTS` are passed through untouched so plugins may read their own settings.
    """
    folder = folder or instance_path()
    environ = os.environ if environ is None else environ
    config: dict[str, Any] = dict(DEFAULTS)
    config["PLUGINS"] = list(BUILTIN_PLUGINS)
    file_values, file_name = _read_instance_file(folder)
    for key, value in file_values.items():
        config[key] = _coerce(key, value, DEFAULTS[key], file_name) if key in DEFAULTS else value
    for name, value in environ.items():
        if not name.startswith("ERP_") or name in ("ERP_INSTANCE_PATH",) or name.startswith("ERP_TEST_"):
            continue
        key = name[4:]
        if key in DEFAULTS:
            config[key] = _coerce(key, value, DEFAULTS[key], f"environment variable {name}")
    for key, value in (overrides or {}).items():
        config[key] = value
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = "sqlite:///" + str(folder / "erp.sqlite")
    config["DATABASE_URL"] = normalise_database_url(config["DATABASE_URL"])
    if not config["UPLOAD_FOLDER"]:
        config["UPLOAD_FOLDER"] = str(folder / "uploads")
    config["INSTANCE_PATH"] = str(folder)
    return config


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever spelling the user chose."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    if not (url.startswith("sqlite:") or url.startswith("postgresql+psycopg://")):
        raise ConfigError(
            f"DATABASE_URL {url.split('://')[0]!r} is not supported: use sqlite:///path or postgresql://user@host/db")
    return url


def write_instance_config(folder: Path, values: dict[str, Any]) -> Path:
    """Write (or extend) ``instance/config.toml`` with simple key = value lines."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    lines = [existing.rstrip("\n")] if existing else ["# Site configuration written by `erp init`."]
    for key, value in values.items():
        if isinstance(value, bool):
            rendered = "true" if value else "false"
        elif isinstance(value, int):
            rendered = str(value)
        elif isinstance(value, list):
            rendered = "[" + ", ".join(_toml_str(v) for v in value) + "]"
        else:
            rendered = _toml_str(str(value))
        lines.append(f"{key.lower()} = {rendered}")
    # Owner-only from the first byte, whatever the umask (it holds the secret key), and atomic.
    partial = path.with_name(path.name + ".part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    os.replace(partial, path)
    return path


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
