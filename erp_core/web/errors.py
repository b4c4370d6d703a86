"""Friendly error pages; no stack trace ever reaches a user."""

from __future__ import annotations

import logging

from flask import g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..errors import DomainError
from ..extensions import db

log = logging.getLogger("erp.errors")


def _messages():
    return {
        400: (_("Bad request"), _("The request could not be understood.")),
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


def render_error(status: int, detail: str | None = None):
    title, text = _messages().get(status, (_("Error"), _("Something went wrong")))
    if wants_json():
        body = {"type": "about:blank", "title": title, "status": status, "detail": detail or text,
                "code": {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                         409: "conflict", 413: "too_large", 422: "unprocessable", 429: "too_many_requests", 500: "server_error"}.get(status, "error")}
        response = jsonify(body)
        response.status_code = status
        response.mimetype = "application/problem+json"
        return response
    return render_template("errors/error.html", status=status, title=title, text=detail or text,
                           request_id=g.get("request_id")), status


def register(app) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(_exc):
        return render_error(400, _("The form had expired or was sent from elsewhere. Reload the page and try again; nothing was changed."))

    @app.errorhandler(DomainError)
    def _domain(exc):
        db.session.rollback()
        return render_error(exc.status if exc.status in (400, 403, 404, 409, 422, 429) else 400, str(exc))

    @app.errorhandler(HTTPException)
    def _http(exc):
        if exc.code and exc.code >= 500:
            return render_error(500)
        return render_error(exc.code or 400, exc.description if exc.code in (400, 429) and _custom(exc) else None)

    @app.errorhandler(Exception)
    def _crash(exc):
        db.session.rollback()
        log.exception("unhandled error request_id=%s path=%s", g.get("request_id"), request.path)
        return render_error(500)


def _custom(exc) -> bool:
    """True when the view gave the error its own description (abort(400, "..."))."""
    return type(exc).description != exc.description
