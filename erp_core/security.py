"""Access control for every route, and safe redirects.

Each view is marked with exactly one of :func:`requires` (a permission code),
:func:`login_only` (any logged-in user) or :func:`public` (the explicit public list). One
``before_request`` check, :func:`enforce_access`, applies the mark to every request; a view
with no mark is refused (fail closed), and a test walks the URL map to prove all are marked.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import abort, current_app, request
from flask_login import current_user

log = logging.getLogger(__name__)

PUBLIC = "public"
LOGIN = "login"
PERMISSION = "permission"


def _mark(view, kind: str, code: str | None = None):
    view._erp_access = (kind, code)
    return view


def requires(code: str):
    """Mark a view as needing the permission ``code`` (403 without it, login when anonymous)."""

    def decorator(view):
        return _mark(view, PERMISSION, code)

    return decorator


def login_only(view):
    """Mark a view as open to every logged-in user."""
    return _mark(view, LOGIN)


def public(view):
    """Mark a view as public: no login needed (home page, tracking links, health check)."""
    return _mark(view, PUBLIC)


def access_of(view, method: str | None = None) -> tuple[str, str | None] | None:
    """The mark of a view function; for class-based views, of the method's handler (or the class)."""
    mark = getattr(view, "_erp_access", None)
    view_class = getattr(view, "view_class", None)
    if mark is None and view_class is not None:
        name = (method or "get").lower()
        handler = getattr(view_class, name, None) or (getattr(view_class, "get", None) if name == "head" else None)
        mark = getattr(handler, "_erp_access", None) or getattr(view_class, "_erp_access", None)
    return mark


def is_static_endpoint(endpoint: str) -> bool:
    return endpoint == "static" or endpoint.endswith(".static")


def refuse_nul_characters():
    """``before_request``: text that cannot be stored (NUL, lone surrogates) in the path, query,
    form or JSON body, and JSON nested too deep, are refused (400); see :mod:`erp_core.inputs`.

    No legitimate input contains them, PostgreSQL cannot store a NUL in text, and letting them
    reach a service would turn a typing accident (or a fuzzer) into a server error.
    """
    from .inputs import check_request

    return check_request()


def enforce_access():
    """``before_request``: 404 for a disabled plugin's URLs, then the view's access mark."""
    endpoint = request.endpoint
    if endpoint is None:
        return None
    manager = current_app.extensions["erp_plugins"]
    owner = manager.owner_of_blueprint(request.blueprint)
    if owner and not manager.is_enabled(owner):
        abort(404)
    if is_static_endpoint(endpoint):
        return None
    mark = access_of(current_app.view_functions.get(endpoint), request.method)
    if mark is None:
        if request.method == "OPTIONS":
            return None
        log.error("endpoint %s declares no permission; refusing it", endpoint)
        abort(403)
    kind, code = mark
    if kind == PUBLIC:
        return None
    if not current_user.is_authenticated:
        if request.path.startswith("/api/"):
            abort(401)
        return current_app.login_manager.unauthorized()
    if kind == PERMISSION and not current_user.can(code):
        abort(403)
    return None


def has_permission(code: str | None) -> bool:
    """For templates and services: does the current user hold ``code``?"""
    return bool(current_user.is_authenticated and current_user.can(code))


def require_permission(code: str) -> None:
    """Abort with 403 unless the current user holds ``code`` (for checks inside a view)."""
    if not has_permission(code):
        abort(403)


def safe_next(target: str | None, fallback: str) -> str:
    """``target`` when it is a path on this site, else ``fallback``.

    Refuses absolute URLs, scheme-relative ``//host``, backslash tricks (``/\\host``), and
    control characters, which browsers may normalise into another host.
    """
    if not target:
        return fallback
    target = target.strip()
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return fallback
    if not target.startswith("/") or target.startswith("//"):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target

