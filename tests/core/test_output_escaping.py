"""The marker walk: whatever text users can store comes back escaped on every page.

One app with every built-in plugin and the demo data set (module-scoped). The marker payload
(``xss_walk.PAYLOAD``) is stored in every string field of every API write schema, every text
field of every POST form on every staff page and public page, every column of the CSV imports and
the names of uploaded files; then every GET page of the URL map is opened (staff pages as an
administrator, public pages anonymously, API resources with a token; in English and Chinese,
URL arguments filled with ids of the rows that carry the marker) and no answer may contain the
raw marker ``<script>alert("xss-MARK")`` (also with JSON-escaped quotes, as inside a ``<script>``
block). JSON, CSV, Excel and downloads are data, not pages: they are only checked for not failing.
"""

from __future__ import annotations

import json
import os
import re

import pytest
from sqlalchemy import String, Text, func, or_, select

from erp_core.extensions import db
from erp_core.security import access_of
from erp_core.testing import api_token, bearer, build_app, login, make_user
from erp_core.testing.databases import empty_tables
from tests.core import xss_walk as walk

LANGUAGES = ("en", "zh_CN")
# What a browser runs as a page. JSON (the API), CSV and Excel exports and downloads are data:
# they are opened (no 5xx) but may hold the text as typed.
MARKUP = ("text/html", "application/xhtml+xml", "image/svg+xml")
# Tables that must end up carrying the marker, or the walk proves nothing: the API, staff forms,
# public forms and the CSV import each store into some of them.
MUST_CARRY = ("orders_customer", "orders_product", "orders_order", "orders_address", "support_ticket",
              "support_ticket_message", "core_role", "inventory_warehouse", "support_team",
              "support_canned_reply", "support_return")


def _public_paths(endpoint: str, ids: walk.Ids) -> list[str] | None:
    """Links of the public pages that need a signed token (with the tokens the site makes)."""
    from flask import url_for

    from plugins.orders.models import Order
    from plugins.support import public, services, surveys
    from plugins.support.models import Survey, Ticket

    if endpoint in ("support_public.track", "support_public.return_request"):
        orders = [db.session.get(Order, i) for i in ids.candidates("order_id", 2)]
        # the newest delivered order with something left to return (which one that is depends on
        # the day the demo is loaded: the demo's own returns may have taken every item of some)
        from plugins.support import returns

        delivered = db.session.scalars(select(Order).where(Order.status.in_(("delivered", "completed")))
                                       .order_by(Order.id.desc()).limit(20))
        orders += [o for o in delivered if returns.can_request(o)][:1]
        out = []
        for order in orders:
            access = public.access_of(order.id)
            token = public.tracking_token(order.id, access.nonce) if access is not None else None
            if token:
                out.append(url_for(endpoint, order_id=order.id, token=token))
        return out
    if endpoint == "support_public.ticket":
        tickets = [db.session.get(Ticket, i) for i in ids.candidates("ticket_id", 2)]
        return [url_for(endpoint, ticket_id=t.id, token=services.ticket_token(t)) for t in tickets]
    if endpoint == "support_public.survey":
        found = db.session.scalars(select(Survey).where(Survey.answered_at.is_(None)).order_by(Survey.id.desc())
                                   .limit(1)).all()
        found += [db.session.get(Survey, i) for i in ids.candidates("survey_id", 1)]
        return [url_for(endpoint, survey_id=s.id, token=surveys.token(s)) for s in found]
    if endpoint == "quotations_public.view":
        from plugins.quotations import services as quotations
        from plugins.quotations.models import Quotation

        found = db.session.scalars(select(Quotation).where(Quotation.nonce.is_not(None)).order_by(Quotation.id)).all()
        return [url_for(endpoint, quotation_id=q.id, token=quotations.token_of(q)) for q in found[:3]]
    return None


def _paths(app, rule, ids: walk.Ids) -> list[str] | None:
    """Concrete paths for a GET rule, or None when the walk does not know how to fill it."""
    from flask import url_for

    special = _public_paths(rule.endpoint, ids)
    if special is not None:
        return special
    args = sorted(rule.arguments)
    if not args:
        return [url_for(rule.endpoint)]
    if rule.endpoint == "finance_reports.report":
        from plugins.finance import reports
        return [url_for(rule.endpoint, key=key) for key in reports.REPORTS]
    if rule.endpoint == "finance_reports.export_report":
        return [url_for(rule.endpoint, key="sales_by_customer", fmt="csv")]
    if rule.endpoint == "finance.payment_status":
        from plugins.finance import qr
        from plugins.finance.models import Payment
        payment = db.session.scalar(select(Payment).order_by(Payment.id.desc()).limit(1))
        return [url_for(rule.endpoint, token=qr.status_token(payment))] if payment else []
    if rule.endpoint == "finance_api.PaymentMethod":
        from plugins.finance import services
        return [url_for(rule.endpoint, code=code) for code in services.adapter_classes()]
    if rule.endpoint == "logistics.demo_track":
        from plugins.logistics.models import Shipment
        number = db.session.scalar(select(Shipment.tracking_number).where(Shipment.tracking_number.is_not(None))
                                   .order_by(Shipment.id.desc()).limit(1))
        return [url_for(rule.endpoint, number=number)] if number else []
    if any(not a.endswith("_id") for a in args):
        return None
    primary = args[-1] if len(args) == 1 else next(a for a in args if a != "customer_id")
    out = []
    for row_id in ids.candidates(primary, 2):
        row = ids.row(primary, row_id)
        values = {primary: row_id}
        for other in args:
            if other != primary:
                found = row.get(other) or (ids.candidates(other, 1) or [None])[0]
                values[other] = found
        if all(v is not None for v in values.values()):
            out.append(url_for(rule.endpoint, **values))
    return out


def _get_rules(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.endpoint.endswith("static"):
            yield rule


def _marked(table) -> int:
    texts = [c for c in table.c if isinstance(c.type, (String, Text))]
    if not texts:
        return 0
    return db.session.scalar(select(func.count()).select_from(table).where(or_(*[c.contains(walk.MARK) for c in texts])))


def _store_through_api(app, client, headers) -> dict[str, int]:
    spec = client.get("/api/v1/openapi.json", headers=headers).get_json()
    results = {}
    writes = walk.api_writes(spec)
    # Twice: an endpoint that needs a row another one makes finds it the second time.
    for method, template, schema in writes + writes:
        if results.get(f"{method.upper()} {template}", 999) < 400:
            continue
        status = 0
        for attempt in range(3):
            with app.app_context():
                ids = walk.Ids()
                path = walk.fill_path(template, ids, attempt)
                filler = walk.ApiFiller(spec, ids, attempt)
                body = filler.build(schema)
            if method == "patch" and isinstance(body, dict):
                # A partial update is walked for its text: switching carriers or payment methods
                # off ("enabled": false) would starve the writes that come after it.
                body.pop("enabled", None)
            if path is None:
                break
            for _round in range(10):
                response = client.open(path, method=method.upper(), json=body,
                                       headers={**headers, "Idempotency-Key": f"walk-{method}-{path}-{_round}-{attempt}"})
                status = response.status_code
                assert status < 500, (method, path, body, response.get_data(as_text=True))
                if status < 400:
                    break
                problem = response.get_json(silent=True) or {}
                if status == 409 and isinstance(body, dict) and "confirm_duplicate" in body and not body["confirm_duplicate"]:
                    body["confirm_duplicate"] = True
                    continue
                if not filler.repair(body, problem.get("errors")):
                    break
            if status < 400:
                break
        results[f"{method.upper()} {template}"] = status
    return results


def _submit_forms(app, client, rules, ids_paths, headers=None) -> dict[str, int]:
    """Post every text-taking form of the given pages; CSV import pages get the template."""
    results, imports = {}, []
    for path in ids_paths:
        response = client.get(path, headers=headers or {})
        if response.status_code != 200 or "html" not in response.content_type:
            results[f"GET {path}"] = response.status_code
            continue
        parsed = walk.parse(response.get_data(as_text=True))
        for form in parsed.forms:
            if form.method == "post" and form.has("file") and walk.template_link(parsed):
                imports.append((path, form, client.get(walk.template_link(parsed)).get_data(as_text=True)))
            elif walk.worth_submitting(form, path):
                results[f"{form.action or path} from {path}"] = walk.submit(client, path, form, headers)
    # Twice: one import's template may name rows another import makes (orders name products).
    for path, form, template in imports + imports:
        if not results.get(f"import {path}"):
            results[f"import {path}"] = len(walk.csv_import(client, path, form, template))
    return results


@pytest.fixture(scope="module")
def walked(tmp_path_factory, pg_url):
    """The app after the marker was stored everywhere: (app, admin client, token headers, notes)."""
    tmp = tmp_path_factory.mktemp("xss")
    url = pg_url or f"sqlite:///{tmp / 'walk.sqlite'}"
    on_pg = url.startswith("postgresql")
    app = build_app(url, tmp / "instance", before_schema=empty_tables if on_pg else None, create_tables=not on_pg)
    admin_id = make_user(app, roles=["admin"], username="admin")
    from erp_core.cli import _run_demo

    with app.test_request_context(method="POST"):
        _run_demo(seed=3, scale=1)
        db.session.commit()
    token = bearer(api_token(app, roles=["admin"]))
    staff = app.test_client()
    login(staff, app, admin_id)
    notes = {"api": _store_through_api(app, app.test_client(), token)}

    with app.test_request_context():
        rules = list(_get_rules(app))
        staff_pages, public_pages = [], []
        for rule in rules:
            if rule.rule.startswith("/api/"):
                continue
            paths = _paths(app, rule, walk.Ids()) or []
            kind = (access_of(app.view_functions[rule.endpoint], "GET") or ("?",))[0]
            (public_pages if kind == "public" else staff_pages).extend(paths)
    # New-object pages first, so that the edit pages after them find the rows they made.
    staff_pages.sort(key=lambda p: (not p.endswith("/new"), p))
    notes["staff forms"] = _submit_forms(app, staff, rules, staff_pages)
    anonymous = app.test_client()
    with app.test_request_context():
        public_pages = [p for rule in rules
                        if (access_of(app.view_functions[rule.endpoint], "GET") or ("?",))[0] == "public"
                        for p in (_paths(app, rule, walk.Ids()) or [])]
    notes["public forms"] = _submit_forms(app, anonymous, rules, public_pages)
    if os.environ.get("XSS_WALK_NOTES"):  # what each entrance answered, for debugging the walk
        with open(os.environ["XSS_WALK_NOTES"], "w") as out:
            json.dump(notes, out, indent=1)
    yield app, staff, token, notes
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def test_the_marker_was_stored_through_every_entrance(walked):
    app, _staff, _token, notes = walked
    assert notes["api"]["POST /api/v1/customers"] < 400, notes["api"]
    assert notes["api"]["POST /api/v1/orders"] < 400, notes["api"]
    assert notes["api"]["POST /api/v1/tickets"] < 400, notes["api"]
    imports = {k: v for k, v in notes["staff forms"].items() if k.startswith("import")}
    assert imports and all(imports.values()), imports
    with app.app_context():
        missing = [t for t in MUST_CARRY if not _marked(db.metadata.tables[t])]
        with app.test_request_context():
            from erp_core import settings
            if walk.MARK not in str(settings.get("company.name")):
                missing.append("the company name setting")
    assert not missing, (missing, notes)


def test_no_page_shows_the_marker_unescaped(walked):
    app, staff, token, _notes = walked
    anonymous = app.test_client()
    shown, failed, unfillable, visited = [], [], [], 0
    for lang in LANGUAGES:
        staff.post("/language", data={"lang": lang})
        anonymous.post("/language", data={"lang": lang})
        with app.test_request_context():
            plan = []
            for rule in _get_rules(app):
                paths = _paths(app, rule, walk.Ids())
                if paths is None:
                    unfillable.append(rule.rule)
                    continue
                public = (access_of(app.view_functions[rule.endpoint], "GET") or ("?",))[0] == "public"
                plan.extend((p, public, rule.rule.startswith("/api/")) for p in paths)
        for path, public, api in plan:
            if api:
                response = staff.get(path, headers={**token, "Accept-Language": lang.replace("_", "-")})
            else:
                response = (anonymous if public else staff).get(path)
            visited += 1
            if response.status_code >= 500:
                failed.append((lang, path, response.status_code))
            markup = response.mimetype in MARKUP and "attachment" not in response.headers.get("Content-Disposition", "")
            found = walk.unescaped(response.get_data(as_text=True)) if markup else None
            if found:
                where = found.start()
                body = response.get_data(as_text=True)
                shown.append((lang, path, body[max(0, where - 120):where + 60]))
            response.close()
    assert not unfillable, f"the walk does not know how to fill these URL arguments: {sorted(set(unfillable))}"
    assert not failed, failed
    assert not shown, "\n".join(f"{lang} {path}: ...{snippet}..." for lang, path, snippet in shown)
    assert visited > 100


def test_the_marker_is_escaped_where_it_shows(walked):
    """The walk really shows marked rows: escaped markers appear on the pages of marked rows."""
    _app, staff, _token, _notes = walked
    staff.post("/language", data={"lang": "en"})
    for path in ("/orders/customers/", "/orders/products/", "/admin/roles"):
        body = staff.get(path).get_data(as_text=True)
        assert re.search(r"&lt;script&gt;alert\((&#34;|&quot;)xss-MARK", body), path
