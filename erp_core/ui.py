"""Helpers for list pages: pagination, sorting and filters that live in the URL."""

from __future__ import annotations

from flask import current_app, has_request_context, request, url_for
from sqlalchemy import Select

from .extensions import db

MAX_PER_PAGE = 200


def page_args() -> tuple[int, int]:
    """``(page, per_page)`` from the query string, clamped to sane values."""
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    default = int(current_app.config.get("PER_PAGE", 25))
    try:
        per_page = int(request.args.get("per_page", default))
    except ValueError:
        per_page = default
    return page, min(max(per_page, 1), MAX_PER_PAGE)


def paginate(stmt: Select, count: Select | None = None):
    """A Flask-SQLAlchemy pagination of ``stmt`` for the current request (never a 404).

    ``count``, when given, is a cheaper statement returning the number of rows of ``stmt`` (for
    example without a join that can neither drop nor repeat rows); by default ``stmt`` itself is
    counted, with all its joins and columns."""
    page, per_page = page_args()
    if count is None:
        return db.paginate(stmt, page=page, per_page=per_page, max_per_page=MAX_PER_PAGE, error_out=False)
    result = db.paginate(stmt, page=page, per_page=per_page, max_per_page=MAX_PER_PAGE, error_out=False,
                         count=False)
    result.total = db.session.scalar(count)
    return result


def apply_sort(stmt: Select, columns: dict, default: str) -> tuple[Select, str, bool]:
    """Order ``stmt`` by the ``sort`` argument (``name`` or ``-name``) among allowed ``columns``.

    Unknown keys fall back to ``default``. Returns ``(stmt, key, descending)``. A tie-breaker
    on the first column keeps pages stable.
    """
    raw = request.args.get("sort") or default
    descending = raw.startswith("-")
    key = raw.lstrip("-")
    if key not in columns:
        descending = default.startswith("-")
        key = default.lstrip("-")
    column = columns[key]
    ordered = stmt.order_by(column.desc() if descending else column.asc())
    tiebreak = next(iter(columns.values()))
    if column is not tiebreak:
        ordered = ordered.order_by(tiebreak.desc() if descending else tiebreak.asc())
    return ordered, key, descending


def url_with(**changes) -> str:
    """The current URL with some query arguments replaced (``None`` removes one)."""
    args = request.args.to_dict(flat=True)
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def path_for(endpoint: str, **values) -> str:
    """``url_for`` that also works outside a request (jobs, CLI, demo data): a path on this site."""
    if has_request_context():
        return url_for(endpoint, **values)
    values = {k: v for k, v in values.items() if v is not None}
    return current_app.url_map.bind("localhost").build(endpoint, values)


def register(app) -> None:
    app.jinja_env.globals["url_with"] = url_with
