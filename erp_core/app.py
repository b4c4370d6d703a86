"""The application factory: configuration, extensions, plugin manager, blueprints."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel
from jinja2 import ChoiceLoader, FileSystemLoader

from . import headers, history, i18n, logs, throttle, ui
from . import models as _core_models  # noqa: F401  (tables)
from . import webhooks as _webhooks  # noqa: F401  (tables)
from .api import models as _api_models  # noqa: F401  (tables)
from .auth import models as _auth_models  # noqa: F401  (tables)
from .config import ConfigError, instance_path, load_config
from .db import configure_engine
from .extensions import csrf, db, login_manager
from .mail import models as _mail_models  # noqa: F401  (tables)
from .plugins import PluginManager

CORE_ROOT = Path(__file__).resolve().parent


class _SessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions whose cookie is Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


class ErpFlask(Flask):
    """Flask with templates looked up in ``instance/templates`` before the code's own."""

    def create_global_jinja_loader(self):
        default = super().create_global_jinja_loader()
        override = Path(self.instance_path) / "templates"
        return ChoiceLoader([FileSystemLoader(str(override)), default])


def create_app(config: dict | None = None, instance: str | os.PathLike | None = None) -> ErpFlask:
    """Build the app. ``config`` overrides every other layer (tests, CLI options).

    Raises :class:`erp_core.config.ConfigError` with a one-line message when the configuration
    cannot work (no secret key, debug in production, unsupported database URL...).
    """
    folder = Path(instance).resolve() if instance else instance_path()
    cfg = load_config(folder, overrides=config)
    _check_safety(cfg)

    app = ErpFlask("erp_core", instance_path=str(folder), root_path=str(CORE_ROOT))
    app.config.update(cfg)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=cfg["DATABASE_URL"],
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(cfg),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(cfg.get("SECURE_COOKIES")),
        SESSION_COOKIE_NAME="erp_session",
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE=cfg.get("DEFAULT_LOCALE", "en"),
        BABEL_DEFAULT_TIMEZONE="UTC",
        MAX_CONTENT_LENGTH=cfg.get("MAX_CONTENT_LENGTH"),
        JSON_SORT_KEYS=False,
    )
    app.session_interface = _SessionInterface()
    if int(cfg.get("PROXY_COUNT") or 0) > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind nginx: trust X-Forwarded-For/-Proto/-Host from that many proxies only.
        count = int(cfg["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            configure_engine(engine, int(cfg.get("SQLITE_BUSY_TIMEOUT", 30)))

    manager = PluginManager(app.config)
    from .web import core_plugin

    manager.load(core_plugin)
    app.extensions["erp_plugins"] = manager

    translation_dirs = [str(CORE_ROOT / "translations")]
    for name in manager.loaded_names:
        module = manager.records[name].module
        folder_of_plugin = Path(module.__file__).resolve().parent / "translations"
        if folder_of_plugin.is_dir():
            translation_dirs.append(str(folder_of_plugin))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(translation_dirs)
    # One Babel per app: its translation cache must not be shared by apps with other plugins.
    Babel().init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)

    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    throttle.init_app(app)

    from .auth import views as auth_views  # noqa: F401  (registers the user loader)

    with app.app_context():
        for owner, blueprints in manager.call_each("erp_blueprints", only_enabled=False):
            for bp in blueprints or []:
                app.register_blueprint(bp)
                manager.blueprint_owner[bp.name] = owner

    from .api.setup import init_api

    with app.app_context():
        init_api(app, manager)

    from .security import enforce_access, refuse_nul_characters
    from .web import errors, templating

    logs.setup(app)
    headers.register(app)
    app.before_request(refuse_nul_characters)
    app.before_request(enforce_access)
    errors.register(app)
    templating.register(app)
    i18n.register(app)
    history.register(app)
    ui.register(app)
    return app


def _check_safety(cfg: dict) -> None:
    if not cfg.get("SECRET_KEY"):
        raise ConfigError("no secret key is configured: run `erp init` (it writes one into the instance "
                          "folder) or set ERP_SECRET_KEY")
    if cfg.get("ENV") == "production" and cfg.get("DEBUG") and not cfg.get("TESTING"):
        raise ConfigError("DEBUG is on in production mode, which exposes a remote shell: "
                          "set ERP_DEBUG=0, or ERP_ENV=development on a machine of your own")
    if cfg.get("ENV") not in ("production", "development"):
        raise ConfigError(f"ENV must be production or development, not {cfg.get('ENV')!r}")
    if cfg.get("JOB_RUNNER") not in ("thread", "off", "inline"):
        raise ConfigError(f"JOB_RUNNER must be thread, off or inline, not {cfg.get('JOB_RUNNER')!r}")


def _engine_options(cfg: dict) -> dict:
    url = cfg["DATABASE_URL"]
    if url.startswith("sqlite"):
        return {"connect_args": {"check_same_thread": False, "timeout": int(cfg.get("SQLITE_BUSY_TIMEOUT", 30))}}
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}
