"""Friendly error pages; no stack trace ever reaches a user."""

from __future__ import annotations

import logging

from flask import g, jsonify, make_response, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from ..errors import DomainError
from ..extensions import db
from ..i18n import browser_locale

log = logging.getLogger("erp.errors")


def _messages():
    return {
        400: (_("Bad request"), _("The request could not be understood.")),
        401: (_("Sign-in needed"), _("Send a valid personal API token: Authorization: Bearer <token>.")),
        403: (_("Not allowed"), _("Your account does not have permission to open this page. Ask an administrator if you need it.")),
        404: (_("Page not found"), _("This page does not exist, or its module is switched off.")),
        405: (_("Not allowed"), _("This action cannot be done that way.")),
        409: (_("Conflict"), _("The record changed meanwhile or is in a state that does not allow this.")),
        422: (_("Cannot be done"), _("Some values cannot be used.")),
        413: (_("Too large"), _("The uploaded file is too large.")),
        429: (_("Too many requests"), _("Please wait a moment and try again.")),
        500: (_("Something went wrong"), _("The error has been logged. Please try again; if it keeps happening, tell your administrator and quote the reference below.")),
    }


def wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json" and not request.accept_mimetypes.accept_html)


CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "too_large", 422: "unprocessable", 429: "too_many_requests", 500: "server_error"}


def render_error(status: int, detail: str | None = None, code: str | None = None, errors: dict | None = None,
                 headers: dict | None = None):
    title, text = _messages().get(status, (_("Error"), _("Something went wrong")))
    if wants_json():
        body = {"type": "about:blank", "title": str(title), "status": status, "detail": str(detail or text),
                "code": code or CODES.get(status, "error")}
        if errors:
            body["errors"] = errors
        response = jsonify(body)
        response.status_code = status
        response.mimetype = "application/problem+json"
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="erp"'
        for name, value in (headers or {}).items():
            response.headers[name] = value
        return response
    return render_template("errors/error.html", status=status, title=title, text=detail or text,
                           request_id=g.get("request_id")), status


def register(app) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(_exc):
        try:
            return render_error(400, _("The form had expired or was sent from elsewhere. Reload the page and try again; nothing was changed."))
        except DBAPIError:  # the page needs the database (the user, settings), which is down
            _quiet_rollback()
            return bare_error(400)

    @app.errorhandler(DataError)
    def _unstorable(exc):
        # A value the database refuses (a NUL in text, a number out of range) that slipped past
        # the checks of erp_core.inputs and the schemas: the user's input, not a server fault.
        _quiet_rollback()
        log.warning("the database refused a value on %s %s: %s", request.method, request.path, exc.orig or exc)
        return render_error(400, _("A value cannot be stored: remove unusual characters or use a smaller number."))

    @app.errorhandler(DomainError)
    def _domain(exc):
        db.session.rollback()
        errors = getattr(exc, "errors", None) or ({exc.field: [str(exc)]} if exc.field else None)
        problems = getattr(exc, "problems", None)
        if problems and not errors:
            errors = {"_": problems}
        return render_error(exc.status if exc.status in (400, 403, 404, 409, 422, 429) else 400, str(exc),
                            code=exc.code, errors=errors)

    @app.errorhandler(HTTPException)
    def _http(exc):
        if exc.code and exc.code >= 500:
            return render_error(500)
        data = getattr(exc, "data", None) or {}
        errors = data.get("errors") or data.get("messages")
        if isinstance(errors, dict) and set(errors) <= {"json", "query", "form", "headers", "view_args", "files"}:
            # webargs nests field errors by location; keep a flat {field: [messages]}
            flat = {}
            for location_errors in errors.values():
                flat.update(location_errors if isinstance(location_errors, dict) else {"_": location_errors})
            errors = flat
        detail = data.get("message") or (exc.description if _custom(exc) else None)
        if errors and not detail:
            detail = _("Some values cannot be used.")
        return render_error(exc.code or 400, detail, errors=errors, headers=data.get("headers"))

    @app.errorhandler(OperationalError)
    def _database_unavailable(exc):
        _quiet_rollback()
        log.error("database unavailable on %s %s: %s", request.method, request.path, exc.orig or exc, extra={
            "method": request.method, "path": request.path, "endpoint": request.endpoint})
        return bare_error(503)

    @app.errorhandler(Exception)
    def _crash(exc):
        _quiet_rollback()
        log.exception("unhandled error on %s %s", request.method, request.path, extra={
            "method": request.method, "path": request.path, "endpoint": request.endpoint,
            "query": request.args.to_dict(), "user": _user_id()})
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return bare_error(503)
        try:
            return render_error(500)
        except Exception:  # the page itself needs what just failed (the database, a template...)
            log.exception("the error page could not be rendered; answering with the bare one")
            _quiet_rollback()
            return bare_error(500)


def _quiet_rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # the connection is gone; the session is discarded at teardown anyway
        log.debug("rollback failed after an error", exc_info=True)


def _user_id():
    from flask_login import current_user

    try:
        return current_user.get_id() if current_user.is_authenticated else None
    except Exception:  # loading the user needs the database
        return None


def bare_error(status: int):
    """An error answer that needs neither the database nor the site's templates: used when the
    database is down (503; 400 for a form refused by its CSRF check), or when rendering the
    normal error page failed (500)."""
    locale = browser_locale(["en", "zh_CN"]) or "en"  # the user's own choice is in the database
    with force_locale(locale):
        if status == 503:
            title = _("Temporarily unavailable")
            text = _("The database cannot be reached right now. Nothing was changed; please try again in a minute.")
        elif status == 400:  # a form without its CSRF token while the database is down
            title = _("Bad request")
            text = _("The form had expired or was sent from elsewhere. Reload the page and try again; nothing was changed.")
        else:
            title, text = _messages()[500]
        reference = _("Error reference")
        lang = "zh-CN" if locale == "zh_CN" else "en"
    request_id = g.get("request_id") or ""
    if wants_json():
        response = jsonify({"type": "about:blank", "title": str(title), "status": status, "detail": str(text),
                            "code": {503: "database_unavailable", 400: "bad_request"}.get(status, "server_error")})
        response.mimetype = "application/problem+json"
    else:
        page = (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
                '<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;'
                'color:#212529}code{color:#6c757d}</style></head><body>'
                f'<h1>{escape(title)}</h1><p>{escape(text)}</p>'
                f'<p><small>{escape(reference)}: <code>{escape(request_id)}</code></small></p></body></html>')
        response = make_response(page)
        response.mimetype = "text/html"
    response.status_code = status
    if status == 503:
        response.headers["Retry-After"] = "30"
    return response


def _custom(exc) -> bool:
    """True when the view gave the error its own description (abort(400, "..."))."""
    return type(exc).description != exc.description
