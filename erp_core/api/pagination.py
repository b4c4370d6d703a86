"""Page-based pagination of API lists, with ``links`` in the body and a ``Link`` header."""

from __future__ import annotations

from flask import request, url_for
from sqlalchemy import Select

from ..extensions import db
from .schemas import MAX_PER_PAGE, LinksSchema, PageArgsSchema, PageQuerySchema, page_schema

# The schemas of pages live with the other schema building blocks; importable from here as before.
__all__ = ["MAX_PER_PAGE", "LinksSchema", "PageArgsSchema", "PageQuerySchema", "page_schema", "paginate"]


def paginate(stmt: Select, args: dict) -> tuple[dict, dict]:
    """Run ``stmt`` for the requested page; returns ``(body, headers)``."""
    page_no, per_page = int(args.get("page", 1)), int(args.get("per_page", 25))
    page = db.paginate(stmt, page=page_no, per_page=per_page, max_per_page=MAX_PER_PAGE, error_out=False)

    def link(number):
        query = request.args.to_dict(flat=True)
        query.update(page=number, per_page=per_page)
        return url_for(request.endpoint, _external=False, **(request.view_args or {}), **query)

    links = {"self": link(page_no), "next": link(page_no + 1) if page.has_next else None,
             "prev": link(page_no - 1) if page.has_prev and page_no > 1 else None}
    header = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items() if url and rel != "self")
    body = {"items": list(page.items), "page": page_no, "per_page": per_page, "total": page.total, "links": links}
    return body, ({"Link": header} if header else {})
