"""Satisfaction surveys: issued after a resolved ticket and a delivered order, answered once
before they expire, low scores followed up, and the CSAT report."""

from datetime import UTC, date, datetime, timedelta

import pytest

from erp_core import settings
from erp_core.errors import Conflict, DomainError
from erp_core.extensions import db
from plugins.orders import services as order_services
from plugins.support import services, states, surveys
from plugins.support.models import Survey, Ticket
from plugins.support.services import TicketInput
from tests.support.helpers import make_order, make_team


def _resolved_ticket(**kw):
    data = dict(subject="Hi", body="Help", contact_email="ann@example.com")
    data.update(kw)
    ticket = services.open_ticket(TicketInput(**data))
    services.change_status(ticket, states.RESOLVED)
    return ticket


def test_delivering_an_order_issues_its_survey_once(support_app):
    with support_app.test_request_context():
        order = make_order(status="shipped", email="buyer@example.com")
        assert db.session.query(Survey).count() == 0
        order_services.transition(order, "delivered")
        order_services.transition(order, "completed")
        db.session.commit()
        survey = db.session.query(Survey).one()
        assert (survey.kind, survey.order_id, survey.email) == ("order", order.id, "buyer@example.com")
        assert survey.expires_at - survey.issued_at == timedelta(days=14)
        assert surveys.issue_for_order(order) is None  # one per order


def test_internal_tickets_and_follow_ups_are_not_surveyed(support_app):
    with support_app.test_request_context():
        _resolved_ticket(channel="internal")
        _resolved_ticket(source_type="survey", source_id=1)
        assert db.session.query(Survey).count() == 0


def test_one_answer_only(support_app):
    with support_app.test_request_context():
        ticket = _resolved_ticket()
        survey = db.session.query(Survey).one()
        surveys.answer(survey, "5", "Quick and kind")
        db.session.commit()
        with pytest.raises(Conflict, match="already been answered"):
            surveys.answer(survey, "1", "changed my mind")
        db.session.rollback()
        survey = db.session.get(Survey, survey.id)
        assert (survey.score, survey.comment, survey.agent_id, survey.category) == (5, "Quick and kind", None,
                                                                                    ticket.category)


def test_an_expired_survey_takes_no_answer(support_app):
    with support_app.test_request_context():
        _resolved_ticket()
        survey = db.session.query(Survey).one()
        with pytest.raises(Conflict, match="expired"):
            surveys.answer(survey, "4", "", now=survey.expires_at + timedelta(seconds=1))


@pytest.mark.parametrize("score", ["0", "6", "", "x", "4.5", None])
def test_scores_are_1_to_5(support_app, score):
    with support_app.test_request_context():
        _resolved_ticket()
        survey = db.session.query(Survey).one()
        with pytest.raises(DomainError, match="1 to 5"):
            surveys.answer(survey, score, "")


def test_a_low_score_opens_a_follow_up_ticket(support_app):
    with support_app.test_request_context():
        team = make_team("Desk")
        ticket = _resolved_ticket(team_id=team.id)
        survey = db.session.query(Survey).one()
        surveys.answer(survey, 2, "Took a week")
        db.session.commit()
        followup = db.session.get(Ticket, survey.followup_ticket_id)
        assert (followup.category, followup.priority, followup.source_type, followup.source_id) == (
            "complaint", "high", "survey", str(survey.id))
        assert ticket.number in followup.subject and "Took a week" in followup.messages[0].body
        assert followup.messages[0].kind == "note" and followup.team_id == team.id
        assert followup.contact_email == "ann@example.com"
        settings.set_many({"support.survey_low_score": 1})
        other = _resolved_ticket(subject="Another")
        second = db.session.query(Survey).filter_by(ticket_id=other.id).one()
        surveys.answer(second, 2, "")
        assert second.followup_ticket_id is None


def test_surveys_are_mailed_once_by_the_job(mail_app, outbox):
    from plugins.support import jobs

    with mail_app.test_request_context():
        _resolved_ticket()
        order = make_order(email="")  # no address: nothing to send
        assert db.session.query(Survey).filter_by(order_id=order.id).one().email == ""
        db.session.commit()
    with mail_app.app_context():
        assert jobs.send_surveys() == 1
        db.session.commit()
        assert jobs.send_surveys() == 0
        db.session.commit()
    assert len(outbox) == 1 and outbox[0]["to"] == "ann@example.com"
    assert "/help/survey/" in outbox[0]["body"]


def _answered(score, when, **ticket_fields):
    ticket = _resolved_ticket(**ticket_fields)
    survey = db.session.query(Survey).filter_by(ticket_id=ticket.id).one()
    surveys.answer(survey, score, f"score {score}", now=when)
    return survey


def test_csat_by_period_team_agent_and_category(support_app):
    from tests.helpers import make_user

    agent = make_user(support_app, perms=["support.tickets.view"], username="agent.bo")
    with support_app.test_request_context():
        settings.set_many({"company.timezone": "Asia/Shanghai", "support.survey_low_score": 0})
        day = make_team("Day")
        night = make_team("Night")
        week1 = datetime(2026, 3, 2, 3, tzinfo=UTC)  # Monday 11:00 Shanghai
        week2 = week1 + timedelta(days=7)
        _answered(5, week1, team_id=day.id, assignee_id=agent, category="delivery")
        _answered(4, week1, team_id=day.id, category="delivery")
        _answered(2, week1, team_id=night.id, category="complaint")
        _answered(1, week2, team_id=night.id, assignee_id=agent, category="complaint")
        late_sunday = datetime(2026, 3, 15, 17, tzinfo=UTC)  # Monday 01:00 in Shanghai: week 3
        _answered(5, late_sunday, team_id=day.id, category="other")
        db.session.commit()
        tz = "Asia/Shanghai"
        f = surveys.ReportFilters(start=date(2026, 3, 2), end=date(2026, 3, 22), period="week")
        total = surveys.summary(f, tz)
        assert (total.responses, total.satisfied, total.csat, total.average) == (5, 3, 60.0, 3.4)
        assert [(p.label, p.responses, p.csat) for p in surveys.by_period(f, tz)] == [
            ("2026-03-02", 3, 66.7), ("2026-03-09", 1, 0.0), ("2026-03-16", 1, 100.0)]
        by_team = {s.label: (s.responses, s.csat) for s in surveys.breakdown(f, tz, "team")}
        assert by_team == {"Day": (3, 100.0), "Night": (2, 0.0)}
        by_agent = {s.label: (s.responses, s.csat) for s in surveys.breakdown(f, tz, "agent")}
        assert by_agent == {"agent.bo": (2, 50.0), "No agent": (3, 66.7)}
        by_category = {s.key: s.responses for s in surveys.breakdown(f, tz, "category")}
        assert by_category == {"delivery": 2, "complaint": 2, "other": 1}
        only_night = surveys.ReportFilters(start=date(2026, 3, 2), end=date(2026, 3, 22), team_id=night.id)
        assert surveys.summary(only_night, tz).responses == 2
        days = surveys.by_period(surveys.ReportFilters(start=date(2026, 3, 1), end=date(2026, 3, 3), period="day"), tz)
        assert [(p.label, p.responses) for p in days] == [("2026-03-01", 0), ("2026-03-02", 3), ("2026-03-03", 0)]
        months = surveys.by_period(surveys.ReportFilters(start=date(2026, 1, 15), end=date(2026, 3, 31), period="month"), tz)
        assert [(p.label, p.responses) for p in months] == [("2026-01", 0), ("2026-02", 0), ("2026-03", 5)]
        lows = db.session.scalars(surveys.comments_query(f, tz, max_score=2)).all()
        assert sorted(s.score for s in lows) == [1, 2]
