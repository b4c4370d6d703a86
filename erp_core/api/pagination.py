"""Page-based pagination of API lists, with ``links`` in the body and a ``Link`` header."""

from __future__ import annotations

import marshmallow as ma
from flask import request, url_for
from sqlalchemy import Select

from ..extensions import db
from .schemas import WholeNumber

MAX_PER_PAGE = 200


class PageArgsSchema(ma.Schema):
    """``page`` (from 1) and ``per_page`` (1-200) query arguments."""

    class Meta:
        unknown = ma.EXCLUDE

    page = WholeNumber(load_default=1, validate=ma.validate.Range(min=1, max=1_000_000))
    per_page = WholeNumber(load_default=25, validate=ma.validate.Range(min=1, max=MAX_PER_PAGE))


class LinksSchema(ma.Schema):
    self_ = ma.fields.String(data_key="self", attribute="self", required=True)
    next = ma.fields.String(allow_none=True)
    prev = ma.fields.String(allow_none=True)


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A schema ``{items, page, per_page, total, links}`` for lists of ``item_schema``."""
    return type(name, (ma.Schema,), {
        "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
        "page": WholeNumber(required=True),
        "per_page": WholeNumber(required=True),
        "total": WholeNumber(required=True),
        "links": ma.fields.Nested(LinksSchema, required=True),
    })


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
