"""Security headers on every response, from one ``after_request`` hook.

- ``Content-Security-Policy``: scripts only from this site or carrying this request's nonce (no
  ``'unsafe-inline'``, no ``eval``), so a slip in escaping cannot run script; no framing
  (``frame-ancestors 'none'``), no plugins, ``<base>`` only from this site. A response that sets
  its own policy (a sandboxed attachment, a label preview) keeps it.
- ``X-Frame-Options: DENY`` for browsers without ``frame-ancestors``; ``X-Content-Type-Options:
  nosniff``; ``Referrer-Policy: same-origin`` (tracking and survey links carry tokens in the URL).
- ``Cache-Control: no-store`` on every non-static response to a signed-in user, so a shared
  computer's back button or a proxy does not keep pages with customers' data. Static files keep
  their caching.

Templates call ``csp_nonce()`` for an inline ``<script nonce="...">``; behaviour that used to be
an inline ``onclick=`` lives in ``static/js/erp.js`` behind ``data-`` attributes.
"""

from __future__ import annotations

import secrets

from flask import g, request, session

# style-src keeps 'unsafe-inline': templates use style="" attributes (sizes of chart boxes, table
# columns), Bootstrap's components and Swagger UI set inline styles and inject <style> elements.
# Style cannot run script, so this does not weaken the script policy. img-src allows data: for
# Bootstrap's and Swagger UI's inline SVG icons.
_POLICY = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
           "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
           "base-uri 'self'; frame-ancestors 'none'")


def csp_nonce() -> str:
    """This request's script nonce (the same value for every call within a request)."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def _is_static() -> bool:
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


def _signed_in() -> bool:
    # What the request already knows: the sign-in noted its user (a session or an API token), or
    # the session names one. Never touch the user object here: after a commit it would reload.
    return g.get("_erp_signed_in") is not None or bool(session.get("_user_id"))


def add_headers(response):
    """The ``after_request`` hook: adds the security headers to ``response``."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", _POLICY.format(nonce=csp_nonce()))
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if not _is_static() and _signed_in() and "no-store" not in headers.get("Cache-Control", ""):
        headers["Cache-Control"] = "no-store"
    return response


def register(app) -> None:
    """Install the hook and the ``csp_nonce()`` template global on ``app``."""
    app.after_request(add_headers)
    app.add_template_global(csp_nonce, "csp_nonce")
