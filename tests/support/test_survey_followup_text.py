"""The follow-up ticket of a low survey score: its subject and first note are stored as system
texts and every member of staff reads them in their own language (queue, ticket page, order panel,
API), whatever language was active when the customer answered; old rows are converted."""

import json

import pytest
from alembic import command
from sqlalchemy import text

from erp_core.app import create_app
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.i18n import parse_system_text, render_system_text
from erp_core.migrate import alembic_config, upgrade
from plugins.support import services, states, surveys
from plugins.support.models import Survey, Ticket
from plugins.support.services import TicketInput
from tests.conftest import base_config
from tests.helpers import login, make_user
from tests.support.helpers import make_order
from tests.support.test_rest_api import Api

COMMENT = "<script>alert(1)</script> Took a week"
SUBJECT = {"en": "Low satisfaction score on %s", "zh_CN": "%s 满意度评分偏低"}
NOTE = {"en": "A customer gave a score of 1 out of 5 about %s.", "zh_CN": "客户对 %s 的评分为 1 分（满分 5 分）。"}
OTHER = {"en": "zh_CN", "zh_CN": "en"}


def _follow_up(app, answered_in="zh_CN"):
    """A resolved ticket about an order, its survey answered with 1 while ``answered_in`` is active."""
    with app.test_request_context(headers={"Accept-Language": answered_in.replace("_", "-")}):
        order = make_order()
        ticket = services.open_ticket(TicketInput(subject="Cup broken", body="In pieces", order_id=order.id,
                                                  contact_email="ann@example.com"))
        services.change_status(ticket, states.RESOLVED)
        survey = db.session.scalars(db.select(Survey).where(Survey.ticket_id == ticket.id)).one()
        surveys.answer(survey, "1", COMMENT)
        db.session.commit()
        return survey.followup_ticket_id, ticket.number, order.id


def _client(app, locale, **kw):
    client = app.test_client()
    login(client, app, make_user(app, locale=locale, **kw))
    return client


def test_subject_and_note_are_stored_as_keys_not_in_the_answering_language(support_app):
    followup_id, number, _order = _follow_up(support_app, answered_in="zh_CN")
    with support_app.app_context():
        followup = db.session.get(Ticket, followup_id)
        subject, note = parse_system_text(followup.subject), parse_system_text(followup.messages[0].body)
    assert subject == {"key": "support.survey_followup_subject", "params": {"about": number}}
    assert note["key"] == "support.survey_followup_note"
    assert note["params"] == {"score": 1, "about": number, "comment": COMMENT}


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_staff_read_the_follow_up_in_their_language(support_app, locale):
    followup_id, number, order_id = _follow_up(support_app, answered_in=OTHER[locale])
    client = _client(support_app, locale, roles=["admin"])
    pages = {
        "queue": client.get("/support/?queue=all").get_data(as_text=True),
        "ticket": client.get(f"/support/tickets/{followup_id}").get_data(as_text=True),
        "order panel": client.get(f"/orders/{order_id}").get_data(as_text=True),
    }
    for name, html in pages.items():
        assert SUBJECT[locale] % number in html, name
        assert SUBJECT[OTHER[locale]] % number not in html, name
        assert '{"key":' not in html and "support.survey_followup" not in html, name
    ticket_page = pages["ticket"]
    assert NOTE[locale] % number in ticket_page and NOTE[OTHER[locale]] % number not in ticket_page
    assert "<script>alert(1)" not in ticket_page and "&lt;script&gt;alert(1)&lt;/script&gt; Took a week" in ticket_page
    assert ("Comment: " if locale == "en" else "评价：") in ticket_page


def test_the_queue_search_still_finds_the_follow_up_by_number(support_app):
    followup_id, number, _order = _follow_up(support_app)
    client = _client(support_app, "en", roles=["admin"])
    html = client.get(f"/support/?queue=all&q={number.lower()[3:]}").get_data(as_text=True)
    assert f"/support/tickets/{followup_id}" in html and SUBJECT["en"] % number in html


def test_saving_the_details_keeps_the_system_subject_until_staff_retype_it(support_app):
    followup_id, number, _order = _follow_up(support_app)
    client = _client(support_app, "zh_CN", roles=["admin"])
    page = client.get(f"/support/tickets/{followup_id}").get_data(as_text=True)
    assert f'value="{SUBJECT["zh_CN"] % number}"' in page  # the form shows the sentence, not its key
    with support_app.test_request_context():
        ticket = db.session.get(Ticket, followup_id)
        stored = ticket.subject
        for shown in (SUBJECT["zh_CN"] % number, SUBJECT["en"] % number, stored):
            services.update_details(ticket, shown, "complaint", "urgent")
            assert ticket.subject == stored
        with pytest.raises(DomainError):
            services.update_details(ticket, "   ", "complaint", "urgent")
        assert ticket.subject == stored
        services.update_details(ticket, "Call Mrs Wang back", "complaint", "urgent")
        assert ticket.subject == "Call Mrs Wang back"


@pytest.mark.parametrize("language,locale", [("en", "en"), ("zh-CN", "zh_CN")])
def test_the_api_gives_subject_and_note_in_the_asked_language(support_app, language, locale):
    followup_id, number, _order = _follow_up(support_app, answered_in=OTHER[locale])
    api = Api(support_app)
    detail = api.get(f"/tickets/{followup_id}", **{"Accept-Language": language}).get_json()
    assert detail["subject"] == SUBJECT[locale] % number
    assert detail["messages"][0]["body"].startswith(NOTE[locale] % number)
    listed = api.get("/tickets?per_page=100", **{"Accept-Language": language}).get_json()
    assert SUBJECT[locale] % number in [t["subject"] for t in listed["items"]]


def test_typed_subjects_and_notes_stay_as_they_are(support_app):
    with support_app.test_request_context():
        ticket = services.open_ticket(TicketInput(subject="Low satisfaction, call back", body="Typed by hand",
                                                  channel="internal", body_kind="note"))
        db.session.commit()
        assert render_system_text(ticket.subject) == "Low satisfaction, call back"
        assert render_system_text(ticket.messages[0].body) == "Typed by hand"


# ----------------------------------------------------------------------------- migration

OLD = [  # (source_type, subject, note) as stored before support_0005
    ("survey", "Low satisfaction score on TK-2026-000001",
     "A customer gave a score of 2 out of 5 about TK-2026-000001.\n\nComment: Slow.\nVery slow."),
    ("survey", "SO-2026-000002 满意度评分偏低", "客户对 SO-2026-000002 的评分为 1 分（满分 5 分）。\n\n评价：太慢了"),
    ("survey", "Call Mrs Wang back", "Spoke to her, typed by hand."),
    (None, "Low satisfaction score on my order", "A customer gave a score of 2 out of 5 about X.\n\nComment: typed"),
]


def _rows(conn, ids):
    rows = conn.execute(text("SELECT t.id, t.subject, m.body FROM support_ticket t "
                             "JOIN support_ticket_message m ON m.ticket_id = t.id ORDER BY t.id")).all()
    return [(subject, body) for tid, subject, body in rows if tid in ids]


def test_old_follow_ups_become_keys_and_read_in_each_language(empty_database_url, tmp_path):
    app = create_app(base_config(empty_database_url), instance=tmp_path)
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "support_0003")
    with app.test_request_context():
        ids = []
        for source_type, subject, note in OLD:
            ticket = services.open_ticket(TicketInput(subject="x", body="x", channel="internal", body_kind="note",
                                                      source_type=source_type, source_id=1 if source_type else None))
            ticket.subject, ticket.messages[0].body = subject, note
            ids.append(ticket.id)
        db.session.commit()
        db.session.remove()
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            stored = _rows(conn, ids)
    assert [json.loads(s)["params"] for s, _b in stored[:2]] == [{"about": "TK-2026-000001"}, {"about": "SO-2026-000002"}]
    assert json.loads(stored[1][1])["params"] == {"about": "SO-2026-000002", "score": 1, "comment": "太慢了"}
    assert stored[2:] == [OLD[2][1:], OLD[3][1:]]  # typed, or not a survey's follow-up: as they were
    with app.test_request_context(headers={"Accept-Language": "en"}):
        english = [(render_system_text(s), render_system_text(b)) for s, b in stored[:2]]
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        chinese = [(render_system_text(s), render_system_text(b)) for s, b in stored[:2]]
    assert english == [OLD[0][1:], ("Low satisfaction score on SO-2026-000002",
                                    "A customer gave a score of 1 out of 5 about SO-2026-000002.\n\nComment: 太慢了")]
    assert chinese == [("TK-2026-000001 满意度评分偏低", "客户对 TK-2026-000001 的评分为 2 分（满分 5 分）。\n\n"
                        "评价：Slow.\nVery slow."), OLD[1][1:]]
    with app.app_context():
        with db.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "support_0003")
        with db.engine.connect() as conn:
            reverted = _rows(conn, ids)
        db.session.remove()
        db.engine.dispose()
    assert reverted[0] == OLD[0][1:] and reverted[2:] == [OLD[2][1:], OLD[3][1:]]
    assert reverted[1] == english[1]  # written back in English
