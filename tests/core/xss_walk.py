"""Helpers of the marker walk (tests/core/test_output_escaping.py).

They find what to fill by themselves, so that a new field, form, API schema or page is covered
without touching the test: the OpenAPI document's request schemas, the ``<form method=post>`` of
every page (parsed from the HTML, so WTForms and hand-written forms alike), the CSV import pages
(their template download gives the columns), and the URL map (arguments filled with ids of rows
that carry the marker, else the newest row of the table the argument names).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from typing import ClassVar
from urllib.parse import urlsplit

from sqlalchemy import String, Text, or_, select

from erp_core.extensions import db

MARK = "xss-MARK"
PAYLOAD = '"><script>alert("xss-MARK")</script><img src=x onerror=1>'
SHORT_PAYLOAD = '<script>alert("xss-MARK")</script>'
RAW = '<script>alert("xss-MARK")'
# A file name that carries the marker (no slash: browsers and Werkzeug cut a name at one).
FILE_NAME = '"><script>alert("xss-MARK")<img src=x onerror=1>.png'
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                    "0000000d49444154789c6360000002000100e221bc330000000049454e44ae426082")
STRONG_PASSWORD = "Walk-the-marker-9-Qz"
FALLBACKS = ("Plain text", "xss1", "XSS1", "12.50", "CN", "+86 138 0013 8000", "xss@example.com", "09:00-18:00",
             "Asia/Shanghai", "1")
# Plain values by what a field's name says it holds.
BY_NAME = (("email", "xss@example.com"), ("url", "https://hooks.example.invalid/xss"), ("country", "CN"),
           ("currency", "CNY"), ("phone", "+86 138 0013 8000"), ("postcode", "200120"), ("sku", "XSS1"),
           ("code", "XSS1"), ("timezone", "Asia/Shanghai"), ("price", "12.50"), ("day", "09:00-18:00"),
           ("taxpayer", "91350100M000100Y43"), ("font", ""), ("account", "6225888800001234"), ("channel", "api"))


def payload_for(max_length: int | None = None, pattern: str | None = None) -> str | None:
    """The longest marker payload the field takes (length and pattern), or None."""
    for value in (PAYLOAD, SHORT_PAYLOAD):
        if max_length is not None and len(value) > max_length:
            continue
        if pattern and not _matches(pattern, value):
            continue
        return value
    return None


def fallback_for(max_length: int | None = None, pattern: str | None = None, kind: str = "") -> str:
    """A plain valid-looking value for a field that refuses the payload (``kind``: its name)."""
    for word, value in BY_NAME:
        if word in kind.lower():
            return value
    for value in FALLBACKS:
        if (max_length is None or len(value) <= max_length) and (not pattern or _matches(pattern, value)):
            return value
    return "x"


def _matches(pattern: str, value: str) -> bool:
    try:
        return re.search(pattern, value) is not None
    except re.error:
        return True


# The raw marker, also where a JSON string holds it with escaped quotes (inside a <script> block
# that is exactly how it breaks out: "</script><script>..." needs no quotes).
RAW_RE = re.compile(r'<script>alert\(\\?"xss-MARK|<img src=x onerror=1>')


def unescaped(body: str) -> re.Match | None:
    """Where the body shows the marker unescaped, if it does."""
    return RAW_RE.search(body)


# ----------------------------------------------------------------------------- ids of rows


class Ids:
    """Ids to fill URL arguments and API id fields with: rows carrying the marker first."""

    ALIASES: ClassVar[dict[str, str]] = {"hook": "core_webhook", "assignee": "core_user", "agent": "core_user", "line": "orders_order_line"}

    def __init__(self):
        self.tables = db.metadata.tables

    def table_for(self, arg: str):
        base = arg.removesuffix("_id")
        if base in self.ALIASES:
            return self.tables[self.ALIASES[base]]
        found = [t for name, t in self.tables.items() if name.endswith("_" + base) or name == base]
        found.sort(key=lambda t: len(t.name))
        return found[0] if found else None

    def candidates(self, arg: str, limit: int = 4) -> list[int]:
        """Up to ``limit`` ids: newest rows carrying the marker, then the newest row, then older."""
        table = self.table_for(arg)
        if table is None or "id" not in table.c:
            return []
        texts = [c for c in table.c if isinstance(c.type, (String, Text))]
        marked = []
        if texts:
            marked = list(db.session.scalars(select(table.c.id).where(or_(*[c.contains(MARK) for c in texts]))
                                              .order_by(table.c.id.desc()).limit(limit)))
        rest = list(db.session.scalars(select(table.c.id).order_by(table.c.id.desc()).limit(limit)))
        first = list(db.session.scalars(select(table.c.id).order_by(table.c.id).limit(1)))
        out = []
        for value in marked + rest + first:
            if value not in out:
                out.append(value)
        return out[:limit]

    def row(self, arg: str, row_id: int) -> dict:
        table = self.table_for(arg)
        found = db.session.execute(select(table).where(table.c.id == row_id)).mappings().first()
        return dict(found or {})


# ----------------------------------------------------------------------------- the API


@dataclass
class ApiFiller:
    """Builds request bodies from the OpenAPI schemas: every string the payload (or a plain
    value where its pattern refuses it), ids from :class:`Ids`."""

    spec: dict
    ids: Ids
    attempt: int = 0

    def resolve(self, schema: dict) -> dict:
        while "$ref" in schema:
            schema = self.spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        if "allOf" in schema and len(schema["allOf"]) == 1:
            return self.resolve(schema["allOf"][0])
        return schema

    def build(self, schema: dict, name: str = ""):
        schema = self.resolve(schema)
        kind = schema.get("type")
        if "enum" in schema:
            values = [v for v in schema["enum"] if v is not None]
            return "CNY" if "CNY" in values else values[0]
        if kind == "object" or "properties" in schema:
            return {key: self.build(sub, key) for key, sub in schema.get("properties", {}).items()
                    if self._wanted(key, self.resolve(sub), schema.get("required", []))}
        if kind == "array":
            return [self.build(schema.get("items", {}), name)]
        if kind == "integer":
            if name.endswith("_id"):
                found = self.ids.candidates(name)
                return found[min(self.attempt, len(found) - 1)] if found else 1
            if "price" in name:  # dear enough that the marked rows lead the rankings and charts
                return min(99_999_999, schema.get("maximum", 99_999_999))
            return max(1, schema.get("minimum", 1))
        if kind == "number":
            return max(1, schema.get("minimum", 1))
        if kind == "boolean":
            return bool(schema.get("default", False))
        if kind == "string":
            if schema.get("format") == "date":
                return date.today().isoformat()
            if schema.get("format") == "date-time":
                return datetime.now(UTC).isoformat()
            value = payload_for(schema.get("maxLength"), schema.get("pattern"))
            return value or fallback_for(schema.get("maxLength"), schema.get("pattern"), name)
        return None

    @staticmethod
    def _wanted(key: str, sub: dict, required: list[str]) -> bool:
        if key in required:
            return True
        if sub.get("format") in ("date", "date-time") or sub.get("readOnly"):
            return False
        return not (sub.get("nullable") and sub.get("type") == "integer" and not key.endswith("_id"))

    def repair(self, body, errors) -> bool:
        """Replace or drop what the 422 ``errors`` name; True when something changed."""
        changed = False
        if not isinstance(errors, dict) or not isinstance(body, (dict, list)):
            return False
        for key, problem in list(errors.items()):
            if "." in str(key):  # "address.country": the same as {"address": {"country": ...}}
                head, rest = str(key).split(".", 1)
                problem, key = {rest: problem}, head
            index = int(key) if isinstance(body, list) and str(key).isdigit() else key
            try:
                value = body[index]
            except (KeyError, IndexError, TypeError):
                continue
            if isinstance(problem, dict) and isinstance(value, (dict, list)):
                changed |= self.repair(value, problem)
            elif isinstance(value, str) and value not in FALLBACKS and value not in dict(BY_NAME).values():
                body[index] = fallback_for(kind=str(key))
                changed = True
            elif isinstance(value, str) and value != FALLBACKS[-1]:
                body[index] = FALLBACKS[FALLBACKS.index(value) + 1] if value in FALLBACKS[:-1] else "1"
                changed = True
            elif isinstance(body, dict):
                del body[index]
                changed = True
        return changed


def api_writes(spec: dict) -> list[tuple[str, str, dict]]:
    """``(method, path template, request schema)`` of every write endpoint taking JSON."""
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in ("post", "put", "patch"):
                continue
            schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if method in ("post", "put", "patch") and schema:
                found.append((method, path, schema))
    # Collections before their members' sub-resources, so that these find what to act on.
    return sorted(found, key=lambda f: (f[1].count("{"), f[1]))


def fill_path(template: str, ids: Ids, attempt: int) -> str | None:
    path = template
    for arg in re.findall(r"{([^}]+)}", template):
        if arg == "code" and template.endswith("/payment-methods/{code}"):
            path = path.replace("{code}", "demo_gateway")  # a method with a settings field
            continue
        found = ids.candidates(arg)
        if not found:
            return None
        path = path.replace("{" + arg + "}", str(found[min(attempt, len(found) - 1)]))
    return path


# ----------------------------------------------------------------------------- HTML forms


@dataclass
class Form:
    action: str
    method: str
    enctype: str
    fields: list[dict] = field(default_factory=list)

    def has(self, *types: str) -> bool:
        return any(f["type"] in types for f in self.fields)


class FormParser(HTMLParser):
    """The forms of a page, with their fields (inputs, selects with options, textareas)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower(),
                                   a.get("enctype", "")))
            return
        if not self.forms:
            return
        fields = self.forms[-1].fields
        if tag == "input" and a.get("name"):
            fields.append({"tag": "input", "type": a.get("type", "text").lower(), "name": a["name"],
                           "value": a.get("value", ""), "checked": "checked" in a,
                           "maxlength": int(a["maxlength"]) if a.get("maxlength", "").isdigit() else None,
                           "pattern": a.get("pattern"), "hidden_trap": a.get("tabindex") == "-1"})
        elif tag == "button" and a.get("name") and a.get("type", "submit") == "submit":
            fields.append({"tag": "button", "type": "button", "name": a["name"], "value": a.get("value", "")})
        elif tag == "select" and a.get("name"):
            self._select = {"tag": "select", "type": "select", "name": a["name"], "options": [], "selected": [],
                            "multiple": "multiple" in a}
            fields.append(self._select)
        elif tag == "option" and self._select is not None:
            self._select["options"].append(a.get("value", ""))
            if "selected" in a:
                self._select["selected"].append(a.get("value", ""))
        elif tag == "textarea" and a.get("name"):
            self._textarea = {"tag": "textarea", "type": "textarea", "name": a["name"], "value": "",
                              "maxlength": int(a["maxlength"]) if a.get("maxlength", "").isdigit() else None,
                              "pattern": None}
            fields.append(self._textarea)

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["value"] += data


def parse(body: str) -> FormParser:
    parser = FormParser()
    parser.feed(body)
    return parser


TEXT_TYPES = ("text", "textarea", "search", "tel", "email", "url")
# Forms that would end the walk's session or are not about stored text.
SKIP_ACTIONS = ("/login", "/logout", "/language", "/delete", "/plugins/", "/revoke", "/tokens")


def worth_submitting(form: Form, page: str = "") -> bool:
    """A POST form that takes some text, is not a password form and does not end the session."""
    if form.method != "post" or any(f["name"] in ("current_password", "old_password") for f in form.fields):
        return False
    if any(skip in (form.action or page) for skip in SKIP_ACTIONS):
        return False
    return any(f["type"] in TEXT_TYPES and f["name"] not in ("q", "csrf_token") for f in form.fields)


def plain_values(field: dict) -> list[str]:
    """Plain values to try, in turn, in a field that refused the payload."""
    out = [field["value"]] if field.get("value") and MARK not in field["value"] else []
    out.append(fallback_for(field.get("maxlength"), field.get("pattern"), field["type"] + " " + field["name"]))
    out.extend(FALLBACKS)
    return list(dict.fromkeys(out))


def form_data(form: Form, plain: dict[str, int], tick: bool = False) -> tuple[dict, bool]:
    """The data to post: text fields the payload (those in ``plain`` their n-th plain value), the
    rest as the page set them (with ``tick``, also the first box of each unticked group).
    Returns (data, has_files)."""
    data: dict[str, list] = {}
    files = False
    named_button = False
    ticked = {f["name"] for f in form.fields if f["type"] in ("checkbox", "radio") and f["checked"]}
    for f in form.fields:
        name, kind = f["name"], f["type"]
        if kind in ("hidden",):
            data.setdefault(name, []).append(f["value"])
        elif kind in ("checkbox", "radio"):
            if f["checked"] or ((kind == "radio" or tick) and name not in ticked and name not in data):
                data.setdefault(name, []).append(f["value"] or "y")
        elif kind == "select":
            chosen = f["selected"] or [o for o in f["options"] if o][:1] or f["options"][:1]
            data[name] = chosen if f["multiple"] else chosen[:1]
        elif kind == "file":
            data.setdefault(name, []).append((io.BytesIO(PNG), FILE_NAME, "image/png"))
            files = True
        elif kind == "button":
            if not named_button:
                data[name] = [f["value"]]
                named_button = True
        elif kind == "password":
            data[name] = [STRONG_PASSWORD]
        elif kind in ("number", "range"):
            data[name] = [f["value"] if f["value"] not in ("", "0") else "1"]
        elif f.get("hidden_trap"):  # a honeypot (out of the tab order): people leave it empty
            data[name] = [""]
        elif kind == "date":
            data[name] = [f["value"] or date.today().isoformat()]
        elif kind in ("datetime-local", "time", "month", "week", "color"):
            data[name] = [f["value"]]
        elif kind in TEXT_TYPES:
            if name in plain or kind in ("email", "url"):
                values = plain_values(f)
                data[name] = [values[min(plain.get(name, 0), len(values) - 1)]]
            else:
                data[name] = [payload_for(f.get("maxlength")) or f["value"] or "x"]
    return data, files


NAME_RE = re.compile(r'\bname="([^"]+)"')


def invalid_fields(body: str) -> set[str]:
    """Names of the fields a refused form marked invalid."""
    names = set()
    for tag in re.findall(r"<(?:input|textarea|select)\b[^>]*>", body, re.DOTALL):
        if "is-invalid" in tag:
            found = NAME_RE.search(tag)
            if found:
                names.add(found.group(1))
    return names


def submit(client, page: str, form: Form, headers=None) -> int:
    """Post the form with the payload; where it is refused, try plain values in the fields the
    answer marks invalid (and tick the first box of unticked groups). Returns the last status."""
    action = form.action or page
    plain: dict[str, int] = {}
    tick = False
    status = 0
    for _round in range(10):
        data, files = form_data(form, plain, tick)
        response = client.post(action, data=data, headers=headers or {},
                               content_type="multipart/form-data" if files else None)
        status = response.status_code
        if status >= 500 or (status < 400 and status != 200):
            return status
        bad = invalid_fields(response.get_data(as_text=True))
        if not bad:
            if not tick:
                tick = True
                continue
            if status >= 400 and not plain:  # refused without saying which: plain text everywhere
                plain = {f["name"]: 0 for f in form.fields if f["type"] in TEXT_TYPES}
                continue
            return status
        for name in bad:
            plain[name] = plain.get(name, -1) + 1
    return status


# ----------------------------------------------------------------------------- CSV imports


def csv_import(client, page: str, form: Form, template_csv: str) -> list[str]:
    """Import the template with the payload in one column at a time, then in every column that
    took it at once. Returns the columns that took the payload."""
    rows = list(csv.reader(io.StringIO(template_csv.lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    file_field = next(f["name"] for f in form.fields if f["type"] == "file")
    hidden = {f["name"]: f["value"] for f in form.fields if f["type"] == "hidden"}

    def post(columns: set[str], rows=None) -> bool:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        for row in body if rows is None else rows:
            writer.writerow([PAYLOAD if name in columns else value for name, value in zip(header, row)])
        data = dict(hidden)
        data[file_field] = (io.BytesIO(out.getvalue().encode()), "import.csv", "text/csv")
        response = client.post(form.action or page, data=data, content_type="multipart/form-data")
        assert response.status_code < 500, (page, columns, response.status_code)
        return response.status_code < 400

    if not post(set()):  # the example refers to rows the site lacks: keep the rows that import
        for index in range(len(body)):
            fewer = body[:index] + body[index + 1:]
            if fewer and post(set(), fewer):
                body = fewer
                break
    took = [name for name in header if post({name})]
    if took:
        post(set(took))
    return took


def template_link(parser: FormParser) -> str | None:
    return next((link for link in parser.links if urlsplit(link).path.endswith(".csv") and "template" in link), None)
