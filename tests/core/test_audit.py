"""The audit log: append-only entries with actor, time, before -> after; the timeline macro."""

from datetime import UTC, datetime

import pytest

from erp_core import audit
from erp_core.extensions import db
from erp_core.models import AuditLog
from tests.helpers import login, make_user


def test_entries_record_actor_time_and_change(make_app):
    app = make_app(plugins=[])
    user_id = make_user(app, username="writer")
    client = app.test_client()
    login(client, app, user_id)
    with app.test_request_context():
        from flask_login import login_user

        from erp_core.auth.models import User

        login_user(db.session.get(User, user_id))
        entry = audit.record("thing", 7, "changed", before={"a": 1}, after={"a": 2}, note="why")
        db.session.commit()
        assert (entry.actor_name, entry.object_id, entry.before, entry.after) == ("writer", "7", {"a": 1}, {"a": 2})
        assert entry.at.tzinfo is not None
    with app.app_context():
        system = audit.record("thing", 7, "tick")
        db.session.commit()
        assert system.actor_name == "system" and system.actor_id is None


def test_the_log_cannot_be_edited_or_deleted(make_app):
    app = make_app(plugins=[])
    with app.app_context():
        entry = audit.record("thing", 1, "created")
        db.session.commit()
        entry.action = "forged"
        with pytest.raises(RuntimeError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.get(AuditLog, entry.id))
        with pytest.raises(RuntimeError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        assert db.session.get(AuditLog, entry.id).action == "created"


def test_diff_keeps_only_what_changed():
    assert audit.diff({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": None}) == ({"b": 2}, {"b": 3})


def test_recorded_at_replays_past_events_for_importers(make_app):
    app = make_app(plugins=[])
    past = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    with app.app_context():
        with audit.recorded_at(past):
            old = audit.record("thing", 1, "imported")
        new = audit.record("thing", 1, "live")
        db.session.commit()
        assert old.at == past and new.at > past
        assert [e.action for e in audit.timeline("thing", 1)] == ["imported", "live"]


def test_timeline_macro_shows_changes_and_notes(make_app):
    app = make_app(plugins=[])
    with app.test_request_context():
        audit.record("thing", 3, "status_changed", before={"status": "draft"}, after={"status": "confirmed"},
                     note="by phone")
        db.session.commit()
        html = app.jinja_env.from_string(
            '{% from "macros/ui.html" import timeline %}{{ timeline(entries) }}'
        ).render(entries=audit.timeline("thing", 3))
    assert "Status changed" in html and "draft → confirmed" in html and "by phone" in html


def test_people_are_shown_by_their_display_name(make_app):
    from flask_babel import force_locale

    from erp_core.auth.people import person_name
    from tests.helpers import make_user

    app = make_app(plugins=[])
    user_id = make_user(app, username="zhang.min")
    with app.app_context():
        from erp_core.auth.models import User

        db.session.get(User, user_id).display_name = "张敏"
        db.session.commit()
    with app.test_request_context(), force_locale("en"):
        assert person_name("zhang.min") == "张敏"
        assert person_name("system") == "System"
        assert person_name("gone.user") == "gone.user" and person_name(None) == "—"
        html = app.jinja_env.from_string("{{ 'zhang.min'|person }} {{ '<b>x</b>'|person }}").render()
        assert html == "张敏 &lt;b&gt;x&lt;/b&gt;"
