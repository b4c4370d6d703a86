"""Structured logs: one line per request with its id, and errors with their context.

``LOG_FORMAT = "json"`` writes JSON lines (for log shippers); ``"text"`` (default) a readable line.
Every request gets an id (``X-Request-ID`` from the proxy, or a new one), echoed in the response
and on error pages, so a user's report leads to the log line.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from flask import g, request

log = logging.getLogger("erp.request")

_RESERVED = set(vars(logging.makeLogRecord({})))
# A proxy's request id is kept only when it is a short token of safe characters; anything else
# (spaces, newlines, quotes, markup, over-long values) could forge or break log lines.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object, with the ``extra`` fields merged in."""

    def format(self, record: logging.LogRecord) -> str:
        data = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
                "logger": record.name, "message": record.getMessage()}
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


class ContextFilter(logging.Filter):
    """Adds the request id (when in a request) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            try:
                record.request_id = g.get("request_id", "-")
            except RuntimeError:
                record.request_id = "-"
        return True


def setup(app) -> None:
    """Configure the ``erp`` loggers once per process, and the per-request hooks of ``app``."""
    level = getattr(logging, str(app.config.get("LOG_LEVEL", "INFO")).upper(), logging.INFO)
    logger = logging.getLogger("erp")
    logger.setLevel(level)
    if not getattr(logger, "_erp_configured", False):
        handler = logging.StreamHandler()
        if app.config.get("LOG_FORMAT") == "json":
            handler.setFormatter(JsonFormatter())
        else:
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
        handler.addFilter(ContextFilter())
        logger.addHandler(handler)
        logger.propagate = False
        logger._erp_configured = True
    app.before_request(_start)
    app.after_request(_finish)


def _start():
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish(response):
    response.headers["X-Request-ID"] = g.get("request_id", "")
    if request.endpoint and request.endpoint.endswith("static"):
        return response
    duration = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
    loaded = g.get("_login_user")  # only a user the request already loaded: logging must not query
    signed_in = g.get("_erp_signed_in")  # (user, id) noted by the sign-in: no reload after a commit
    if signed_in is not None and signed_in[0] is loaded:
        user = signed_in[1]
    else:
        user = loaded.get_id() if getattr(loaded, "is_authenticated", False) else None
    log.info("%s %s %s %.1fms", request.method, request.path, response.status_code, duration,
             extra={"method": request.method, "path": request.path, "status": response.status_code,
                    "duration_ms": round(duration, 1), "user": user, "remote": request.remote_addr})
    return response
