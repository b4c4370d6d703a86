"""Generic checks of what a request carries, applied once for every route.

* :func:`text_problem` says why a piece of text cannot be stored (a NUL character, which
  PostgreSQL refuses in text; a lone UTF-16 surrogate, which is not Unicode text and cannot be
  encoded). The API schemas (:class:`erp_core.api.schemas.ApiSchema`), the request check below
  (query strings, URL paths, forms, JSON) and the CSV imports all use it, so every entry point
  refuses the same text with the same message.
* :func:`json_depth` measures how deeply a JSON body nests without parsing it: Python's parser
  recurses, and a body nested 10,000 deep would exhaust the stack.
* :func:`check_request` is the ``before_request`` hook that applies both (400 with a translated
  message) before any view, form or schema reads the request.
"""

from __future__ import annotations

from flask import abort, request
from flask_babel import gettext as _

MAX_JSON_DEPTH = 64  # the deepest API body (an order with lines with fields) needs 3


def text_problem(value: str) -> str | None:
    """A translated reason why ``value`` cannot be stored as text, or None when it can."""
    if "\x00" in value:
        return _("The text contains a NUL character, which is not allowed.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _("The text contains an invalid character (a lone UTF-16 surrogate).")
    return None


def find_text_problem(data) -> str | None:
    """The first :func:`text_problem` of any string (key or value) inside ``data``, a structure
    of dicts, lists and scalars as JSON gives it (walked without recursion)."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return problem
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
    return None


def json_depth(raw: bytes) -> int:
    """How deeply the arrays and objects of a JSON text nest (brackets inside strings do not
    count); malformed text is measured as far as it goes."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def _is_json() -> bool:
    return request.mimetype == "application/json" or request.mimetype.endswith("+json")


def check_request():
    """``before_request``: refuse (400) text that cannot be stored in the URL path, the query,
    a form or a JSON body, and JSON nested deeper than :data:`MAX_JSON_DEPTH`."""
    texts = [request.path, *request.args.keys(), *request.args.values()]
    problem = next((p for p in map(text_problem, texts) if p), None)
    if problem:
        abort(400, problem)
    if _is_json():
        raw = request.get_data(cache=True)
        if json_depth(raw) > MAX_JSON_DEPTH:
            abort(400, _("The JSON body nests deeper than %(n)d levels.", n=MAX_JSON_DEPTH))
        data = request.get_json(silent=True)
        problem = find_text_problem(data) if data is not None else None
        if problem:
            abort(400, problem)
    elif request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        if request.mimetype == "application/x-www-form-urlencoded":
            request.get_data(cache=True)  # keep the raw body readable after the form is parsed (signed webhooks)
        problem = next((p for p in map(text_problem, [*request.form.keys(), *request.form.values()]) if p), None)
        if problem:
            abort(400, problem)
