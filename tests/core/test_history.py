"""History in words: audit entries through the plugins' vocabulary (erp_core.history), the timeline
macro, the audit log page, system texts stored as keys and shown in the reader's language."""

import re

import pytest

from erp_core import audit, settings
from erp_core.extensions import db
from erp_core.i18n import render_system_text, system_text
from tests.core.fakeplugins import historian
from tests.helpers import QueryCounter, login, make_user

HISTORIAN = "historian=tests.core.fakeplugins.historian"
TIMELINE = '{% from "macros/ui.html" import timeline %}{{ timeline(entries) }}'
RAW_SIGNS = ("None", "{'", "\\u00", "True", "False")


@pytest.fixture
def happ(make_app):
    return make_app(plugins=[HISTORIAN], enabled=[HISTORIAN.split("=")[0]])


def _render(app, entries_of=("thing", 1), locale=None):
    with app.test_request_context(headers={"Accept-Language": locale or "en"}):
        return app.jinja_env.from_string(TIMELINE).render(entries=audit.timeline(*entries_of))


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_every_kind_of_value_reads_as_words(happ):
    with happ.app_context():
        settings.set_many({"company.timezone": "Asia/Shanghai"})
        audit.record("thing", 2, "created", after={"name": "parent"})
        audit.record("thing", 1, "painted", before={"colour": "dark_red", "fragile": False, "price": 1250, "currency": "CNY"},
                     after={"colour": "sky_blue", "fragile": True, "price": 99900, "currency": "CNY",
                            "due": "2026-03-04", "seen_at": "2026-03-04T23:30:00+00:00", "parent": 2,
                            "tags": ["a", "b"], "count": 12345, "size": 7, "name": None,
                            "lines": {"FLT-SS-01": 10, "FLT-SS-02": 3}, "tracking_number": None,
                            "method": "bank_transfer", "options": {"gift_wrap": True}})
        db.session.commit()
    html = _render(happ)
    text = _text(html)
    assert "Painted" in text and "painted" not in text
    assert "Colour: Dark red → Sky blue" in text
    assert "Fragile: No → Yes" in text
    assert "Price: CN¥12.50 → CN¥999.00" in text or "Price: ¥12.50 → ¥999.00" in text
    assert "Currency" not in text  # hidden: it only gives the price its currency
    assert "Due date: Mar 4, 2026" in text
    assert "Seen: Mar 5, 2026, 7:30:00 AM" in text  # the company's zone (Asia/Shanghai): already the 5th there
    assert '<a href="/things/2">TH-0002</a>' in html
    assert "Tags: a, b" in text and "Count: 12,345" in text and "Size: 7 cm" in text
    assert "Lines: FLT-SS-01 × 10, FLT-SS-02 × 3" in text  # undeclared: a readable list
    assert "Method: Bank transfer" in text  # undeclared code: humanised
    assert "Options: Gift wrap: Yes" in text
    assert "Tracking number" not in text and "Name" not in text  # empty values are left out
    for sign in RAW_SIGNS:
        assert sign not in text
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", text)


def test_unknown_types_and_actions_fall_back_to_humanised_words(happ):
    with happ.app_context():
        audit.record("mystery_box", 5, "webhook_secret_rotated", before=["x_y"], after=["x_y", "z"])
        db.session.commit()
    text = _text(_render(happ, ("mystery_box", 5)))
    assert "Webhook secret rotated" in text and "X y → X y, z" in text


def test_system_text_is_stored_as_a_key_and_shown_in_the_readers_words(happ):
    stored = system_text("historian.painted", colour=system_text("historian.colour.red"), day={"date": "2026-01-02"})
    assert stored.startswith('{"key":"historian.painted"')
    with happ.test_request_context():
        assert render_system_text(stored) == "Painted red on Jan 2, 2026."
        assert render_system_text("typed by a person") == "typed by a person"
        assert render_system_text('{"key": broken') == '{"key": broken'
        assert render_system_text(system_text("gone_plugin.some_thing", n=3)) == "Some thing 3"


def test_stored_params_are_escaped(happ):
    payload = "<script>alert(1)</script>"
    with happ.app_context():
        audit.record("thing", 1, "painted", after={"name": payload, "colour": payload},
                     note=system_text("historian.painted", colour=payload, day={"date": "2026-01-02"}))
        db.session.commit()
    html = _render(happ)
    assert payload not in html and "&lt;script&gt;" in html


def test_the_audit_log_resolves_records_once_per_type_and_does_not_grow_with_entries(happ):
    admin_id = make_user(happ, roles=["admin"], username="boss")
    client = happ.test_client()
    login(client, happ, admin_id)

    def page_queries():
        historian.RESOLVED.clear()
        with happ.app_context():
            engine = db.engine
        with QueryCounter(engine) as counter:
            html = client.get("/admin/audit").get_data(as_text=True)
        return counter.count, html

    with happ.app_context():
        for i in range(3):
            audit.record("thing", i + 1, "painted", after={"parent": i + 10, "colour": "dark_red"})
        db.session.commit()
    few, html = page_queries()
    assert len(historian.RESOLVED) == 1  # the records and the parents: one call for the type
    assert '<a href="/things/1">TH-0001</a>' in html and "Painted" in html
    with happ.app_context():
        for i in range(30):
            audit.record("thing", i + 100, "painted", after={"parent": i + 200, "colour": "sky_blue"})
        db.session.commit()
    many, html = page_queries()
    assert many <= few and len(historian.RESOLVED) == 1  # (the first page also had users to name)


def test_the_raw_record_is_for_administrators_only(happ):
    admin_id = make_user(happ, roles=["admin"], username="boss")
    auditor_id = make_user(happ, perms=["core.audit.view"], username="auditor")
    with happ.app_context():
        audit.record("thing", 1, "painted", after={"colour": "dark_red", "name": "中文"})
        db.session.commit()
    admin, auditor = happ.test_client(), happ.test_client()
    login(admin, happ, admin_id)
    login(auditor, happ, auditor_id)
    admin_html = admin.get("/admin/audit").get_data(as_text=True)
    auditor_html = auditor.get("/admin/audit").get_data(as_text=True)
    assert "Raw record" in admin_html and "&#34;colour&#34;: &#34;dark_red&#34;" in admin_html
    assert "中文" in admin_html and "\\u4e2d" not in admin_html
    assert "Raw record" not in auditor_html and "dark_red" not in auditor_html
    assert "Dark red" in auditor_html
    assert make_user(happ, username="nobody") and _forbidden(happ)


def _forbidden(app):
    user_id = make_user(app, username="clerk")
    client = app.test_client()
    login(client, app, user_id)
    return client.get("/admin/audit").status_code == 403


def test_hook_erp_audit_vocabulary(happ):
    """A plugin's vocabulary names its record type, actions and fields; two plugins describing one
    type are merged (the owner's name and resolver first)."""
    from erp_core import history

    with happ.test_request_context():
        vocab = history.vocabulary()
        assert str(vocab["thing"].label) == "Thing" and vocab["thing"].actions["painted"] == "Painted"
        assert vocab["user"].resolve is not None  # the core describes its own records too


def test_hook_erp_system_texts(happ):
    from erp_core.i18n import system_text_catalog

    with happ.test_request_context():
        catalog = system_text_catalog()
        assert catalog["historian.painted"] == "Painted %(colour)s on %(day)s."
        assert render_system_text(system_text("historian.colour.red")) == "red"
