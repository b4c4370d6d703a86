"""Tickets: routing, SLA due times, the thread, the status machine and the events it fires."""

from datetime import UTC, datetime, timedelta

import pytest
from flask_login import login_user

from erp_core import settings
from erp_core.auth.models import User
from erp_core.errors import Conflict, DomainError
from erp_core.extensions import db
from erp_core.models import AuditLog
from plugins.support import services, states
from plugins.support.models import Survey, Ticket, TicketMessage
from plugins.support.services import TicketInput
from tests.helpers import make_user
from tests.support.fakes import spy
from tests.support.helpers import make_order, make_team

MONDAY_10_SHANGHAI = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def _ticket(**kw):
    data = dict(subject="Where is my tea?", body="Ordered last week.", contact_email="Ann@Example.com")
    data.update(kw)
    return services.open_ticket(TicketInput(**data))


def test_new_ticket_goes_to_the_team_on_duty_with_sla_in_its_hours(support_app):
    with support_app.test_request_context():
        day = make_team("Shanghai", "Asia/Shanghai", {d: "09:00-18:00" for d in range(5)})
        make_team("London", "Europe/London", {d: "09:00-18:00" for d in range(5)})
        ticket = services.open_ticket(TicketInput(subject="Hi", body="Help", priority="high"),
                                      now=MONDAY_10_SHANGHAI)
        db.session.commit()
        assert ticket.team_id == day.id
        assert ticket.number.startswith("TK-2026-")
        # high: 4 working hours to answer, 24 to resolve (default settings)
        assert ticket.first_response_due == MONDAY_10_SHANGHAI + timedelta(hours=4)
        # 24 working hours of 9 a day: Mon 8h left, Tue 9h, Wed 7h -> Wednesday 16:00 Shanghai
        assert ticket.resolution_due == datetime(2026, 3, 4, 8, 0, tzinfo=UTC)


def test_without_a_team_on_duty_the_ticket_waits_for_the_next_team(support_app):
    with support_app.test_request_context():
        make_team("Shanghai", "Asia/Shanghai", {0: "09:00-18:00"})
        london = make_team("London", "Europe/London", {0: "13:00-14:00"})
        sunday_night = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # Sunday: nobody works
        ticket = services.open_ticket(TicketInput(subject="Hi", body="Help"), now=sunday_night)
        assert ticket.team_id != london.id  # Shanghai starts first (Monday 01:00 UTC)
        assert services.route_team(datetime(2026, 3, 2, 13, 30, tzinfo=UTC)).id == london.id


def test_the_least_busy_team_on_duty_gets_the_ticket(support_app):
    with support_app.test_request_context():
        first = make_team("A desk")
        second = make_team("B desk")
        tickets = [services.open_ticket(TicketInput(subject=f"t{i}", body="x")) for i in range(3)]
        assert [t.team_id for t in tickets] == [first.id, second.id, first.id]


def test_sla_targets_come_from_the_settings(support_app):
    with support_app.test_request_context():
        settings.set_many({"support.sla.urgent.first": 2})
        ticket = services.open_ticket(TicketInput(subject="x", body="y", priority="urgent"), now=MONDAY_10_SHANGHAI)
        assert ticket.first_response_due == MONDAY_10_SHANGHAI + timedelta(hours=2)  # no team: calendar hours


@pytest.mark.parametrize("field,value,message", [
    ("subject", "  ", "subject"), ("body", "", "Write a message"), ("category", "weather", "category"),
    ("priority", "asap", "priority"), ("channel", "pigeon", "channel"), ("contact_email", "not-an-email", "not a valid"),
    ("order_id", "999999", "No such order"), ("team_id", "4242", "Unknown team"), ("assignee_id", "4242", "Unknown user"),
])
def test_bad_ticket_input_is_refused_with_a_message_and_nothing_written(support_app, field, value, message):
    with support_app.test_request_context():
        data = dict(subject="Hi", body="Help")
        data[field] = value
        with pytest.raises(DomainError) as caught:
            services.open_ticket(TicketInput(**data))
        assert message.lower() in str(caught.value).lower()
        assert caught.value.field == field
        db.session.rollback()
        assert db.session.query(Ticket).count() == 0


def test_public_tickets_need_a_way_to_answer(support_app):
    with support_app.test_request_context():
        with pytest.raises(DomainError, match="e-mail address or a phone"):
            services.open_ticket(TicketInput(subject="Hi", body="Help", require_contact=True))


def test_ticket_for_an_order_takes_the_customer_and_contact_from_it(support_app):
    with support_app.test_request_context():
        order = make_order(email="li@example.com")
        ticket = services.open_ticket(TicketInput(subject="Hi", body="Help", order_id=order.id))
        assert ticket.customer_id == order.customer_id
        assert ticket.contact_email == "li@example.com"
        assert ticket.contact_name == order.contact_name


def test_reply_note_and_customer_message(support_app):
    with support_app.test_request_context():
        ticket = services.open_ticket(TicketInput(subject="Hi", body="Help", contact_email="a@example.com"))
        services.add_message(ticket, "note", "Looks like a courier problem.")
        assert ticket.first_responded_at is None  # a note is not an answer
        reply = services.add_message(ticket, "reply", "We are on it.")
        assert ticket.first_responded_at is not None
        assert reply.emailed is False  # no mail server configured
        services.change_status(ticket, states.PENDING)
        services.add_message(ticket, "customer", "Thanks, here is the photo.")
        assert ticket.status == states.OPEN  # the customer's word reopens it
        db.session.commit()
        kinds = [m.kind for m in db.session.query(TicketMessage).order_by(TicketMessage.id)]
        assert kinds == ["customer", "note", "reply", "customer"]


def test_replies_are_mailed_as_a_queued_job_when_mail_is_configured(mail_app, outbox):
    with mail_app.test_request_context():
        ticket = services.open_ticket(TicketInput(subject="Broken cup", body="Help", contact_email="a@example.com"))
        reply = services.add_message(ticket, "reply", "A new cup is on its way.")
        assert reply.emailed is True
        assert outbox == []  # nothing leaves before the commit
        db.session.commit()
        assert len(outbox) == 1
        assert outbox[0]["to"] == "a@example.com" and ticket.number in outbox[0]["subject"]
        assert "A new cup is on its way." in outbox[0]["body"]
        assert services.ticket_token(ticket) in outbox[0]["body"]
        services.add_message(ticket, "note", "internal only")
        db.session.commit()
        assert len(outbox) == 1  # notes are never mailed


def test_the_same_message_posted_twice_is_kept_once(support_app):
    with support_app.test_request_context():
        ticket = services.open_ticket(TicketInput(subject="Hi", body="Help"))
        services.add_message(ticket, "reply", "Done.")
        with pytest.raises(Conflict, match="already posted"):
            services.add_message(ticket, "reply", "Done.")


def test_a_closed_ticket_takes_no_customer_message_but_can_be_reopened(support_app):
    with support_app.test_request_context():
        ticket = services.open_ticket(TicketInput(subject="Hi", body="Help"))
        services.change_status(ticket, states.CLOSED)
        with pytest.raises(Conflict, match="closed"):
            services.add_message(ticket, "customer", "Hello?")
        services.change_status(ticket, states.OPEN, note="The customer called again")
        assert ticket.closed_at is None and ticket.status == states.OPEN
        actions = [e.action for e in db.session.query(AuditLog).filter_by(object_type="ticket")]
        assert actions == ["created", "status_changed", "reopened"]


@pytest.mark.parametrize("start,target", [("open", "open"), ("resolved", "pending"), ("closed", "resolved")])
def test_transitions_outside_the_table_are_refused(support_app, start, target):
    with support_app.test_request_context():
        ticket = services.open_ticket(TicketInput(subject="Hi", body="Help"))
        if start != "open":
            services.change_status(ticket, start)
        with pytest.raises(Conflict):
            services.change_status(ticket, target)


def test_a_stale_form_is_refused(support_app):
    with support_app.test_request_context():
        ticket = services.open_ticket(TicketInput(subject="Hi", body="Help"))
        db.session.commit()
        drawn = ticket.version
        services.change_status(ticket, states.PENDING, expected_version=drawn)
        db.session.commit()
        with pytest.raises(Conflict, match="changed by someone else"):
            services.change_status(ticket, states.RESOLVED, expected_version=drawn)


def test_waiting_for_the_customer_pauses_the_resolution_clock(support_app):
    with support_app.test_request_context():
        ticket = services.open_ticket(TicketInput(subject="Hi", body="Help"), now=MONDAY_10_SHANGHAI)
        due = ticket.resolution_due
        services.change_status(ticket, states.PENDING, now=MONDAY_10_SHANGHAI + timedelta(hours=1))
        services.change_status(ticket, states.OPEN, now=MONDAY_10_SHANGHAI + timedelta(hours=6))
        assert ticket.resolution_due == due + timedelta(hours=5)


def test_resolving_issues_one_survey(support_app):
    with support_app.test_request_context():
        ticket = services.open_ticket(TicketInput(subject="Hi", body="Help", contact_email="a@example.com"))
        services.change_status(ticket, states.RESOLVED)
        services.change_status(ticket, states.OPEN)
        services.change_status(ticket, states.RESOLVED)
        surveys = db.session.query(Survey).all()
        assert len(surveys) == 1 and surveys[0].ticket_id == ticket.id and surveys[0].email == "a@example.com"


def test_hook_erp_ticket_status_changed(full_app):
    with full_app.test_request_context():
        ticket = services.open_ticket(TicketInput(subject="Hi", body="Help"))
        services.change_status(ticket, states.PENDING)
        services.add_message(ticket, "customer", "Here you go")  # reopens through the same path
        services.change_status(ticket, states.RESOLVED)
        assert [c for c in spy.CALLS if c[0] == "ticket"] == [
            ("ticket", ticket.number, "open", "pending"), ("ticket", ticket.number, "pending", "open"),
            ("ticket", ticket.number, "open", "resolved")]
        db.session.commit()

        def refuse(ticket, old, new):
            raise DomainError("not now")

        spy.BEHAVIOUR["ticket"] = refuse
        with pytest.raises(DomainError, match="not now"):
            services.change_status(ticket, states.CLOSED)
        db.session.rollback()
        assert db.session.get(Ticket, ticket.id).status == states.RESOLVED  # the whole change was undone


def test_hook_erp_ticket_requested(full_app):
    manager = full_app.extensions["erp_plugins"]
    with full_app.test_request_context():
        order = make_order(status="shipped")
        answers = manager.hook.erp_ticket_requested(order=order, subject="Parcel lost", body="Carrier reports a loss.",
                                                    category="delivery", source_type="shipment", source_id=7)
        links = [link for answer in answers for link in answer]
        assert len(links) == 1
        ticket = db.session.get(Ticket, links[0]["id"])
        assert links[0]["label"] == ticket.number and links[0]["url"] == f"/support/tickets/{ticket.id}"
        assert (ticket.order_id, ticket.category, ticket.channel, ticket.priority) == (order.id, "delivery", "internal", "high")
        assert (ticket.source_type, ticket.source_id) == ("shipment", "7")
        assert ticket.messages[0].kind == "note"  # the request is internal; the customer does not see it
        again = manager.hook.erp_ticket_requested(order=order, subject="Parcel lost", body="Second scan missing.",
                                                  category="weird", source_type="shipment", source_id=7)
        assert again[0][0]["id"] == ticket.id  # same cause, same open ticket, one more note
        assert [m.body for m in ticket.messages][-1] == "Second scan missing."
        db.session.commit()
    with full_app.test_request_context():
        manager.hook.erp_ticket_requested(order=None, subject="Stock check", body="", category="other",
                                          source_type="finance", source_id=1)
        db.session.commit()
        assert db.session.query(Ticket).filter_by(source_type="finance").one().subject == "Stock check"


def test_support_switched_off_answers_nothing(make_app):
    app = make_app(plugins=["orders", "support"], enabled=["orders"])
    with app.test_request_context():
        order = make_order(status="shipped")
        manager = app.extensions["erp_plugins"]
        assert manager.hook.erp_ticket_requested(order=order, subject="x", body="y", category="delivery",
                                                 source_type="shipment", source_id=1) == []


def test_assign_and_details_are_audited(support_app):
    agent_id = make_user(support_app, perms=["support.tickets.view"], username="agent.amy")
    with support_app.test_request_context():
        ticket = services.open_ticket(TicketInput(subject="Hi", body="Help", priority="low"), now=MONDAY_10_SHANGHAI)
        team = make_team("Desk")
        services.assign(ticket, team.id, agent_id)
        low_due = ticket.resolution_due
        services.update_details(ticket, "Hi again", "complaint", "urgent")
        assert ticket.resolution_due < low_due
        with pytest.raises(DomainError, match="Unknown user"):
            services.assign(ticket, team.id, 987654)
        entries = {e.action: e for e in db.session.query(AuditLog).filter_by(object_type="ticket")}
        assert entries["assigned"].after == {"team": "Desk", "assignee": "agent.amy"}
        assert entries["changed"].after == {"subject": "Hi again", "category": "complaint", "priority": "urgent"}


def test_queues_and_counts(support_app):
    me = make_user(support_app, perms=["support.tickets.view"])
    other = make_user(support_app, perms=["support.tickets.view"])
    with support_app.test_request_context():
        login_user(db.session.get(User, me))
        team = make_team("Mine", members=[me])
        elsewhere = make_team("Other", members=[other])
        now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
        mine = services.open_ticket(TicketInput(subject="a", body="x", assignee_id=me, team_id=team.id), now=now)
        services.open_ticket(TicketInput(subject="b", body="x", team_id=team.id), now=now)
        services.open_ticket(TicketInput(subject="c", body="x", assignee_id=other, team_id=elsewhere.id), now=now)
        late = services.open_ticket(TicketInput(subject="d late", body="x", priority="urgent", team_id=elsewhere.id),
                                    now=now - timedelta(days=3))
        done = services.open_ticket(TicketInput(subject="e", body="x", assignee_id=me), now=now)
        services.change_status(done, states.RESOLVED)
        db.session.commit()

        def ids(queue, **kw):
            stmt = services.ticket_query(services.TicketFilters(queue=queue, **kw), me, now)
            return sorted(t.subject for t in db.session.scalars(stmt))

        assert ids("mine") == ["a"]
        assert ids("mine", status="any") == ["a", "e"]
        assert ids("team") == ["a", "b"]
        assert ids("unassigned") == ["b", "d late"]
        assert ids("overdue") == ["d late"]
        assert ids("all", q="LATE") == ["d late"]
        assert ids("all", q=late.number) == ["d late"]
        assert services.queue_counts(me, now) == {"mine": 1, "team": 2, "unassigned": 2, "overdue": 1}
        assert mine.id


def test_sla_scan_flags_each_late_ticket_once_and_tells_the_leads(mail_app, outbox):
    lead = make_user(mail_app, perms=["support.tickets.view"], email="lead@example.com")
    with mail_app.test_request_context():
        team = make_team("Desk", members=[lead], leads=[lead])
        start = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
        late = services.open_ticket(TicketInput(subject="late", body="x", priority="urgent", team_id=team.id), now=start)
        services.open_ticket(TicketInput(subject="fine", body="x", priority="low", team_id=team.id), now=start)
        db.session.commit()
        assert services.scan_sla(start + timedelta(hours=2)) == 1
        db.session.commit()
        assert services.scan_sla(start + timedelta(hours=3)) == 0  # already flagged
        db.session.commit()
        assert db.session.get(Ticket, late.id).sla_breached_at is not None
        assert [(m["to"], m["subject"]) for m in outbox] == [("lead@example.com", f"[{late.number}] is overdue")]
        entry = db.session.query(AuditLog).filter_by(object_type="ticket", action="sla_breached").one()
        assert entry.after == {"missed": "first_response"}


def test_canned_replies_fill_their_placeholders(support_app):
    with support_app.test_request_context():
        order = make_order()
        ticket = services.open_ticket(TicketInput(subject="Hi", body="Help", order_id=order.id))
        reply = services.save_canned(None, "Hello", "Dear {customer}, about {order} ({ticket}) - {unknown}", True)
        text = services.render_canned(reply, ticket)
        assert text == f"Dear {order.contact_name}, about {order.number} ({ticket.number}) - {{unknown}}"
        with pytest.raises(DomainError, match="Another canned reply"):
            services.save_canned(None, "hello", "x", True)


def test_scheduled_jobs_run_once_per_interval(support_app):
    from erp_core import scheduler

    with support_app.test_request_context():
        services.open_ticket(TicketInput(subject="late", body="x", priority="urgent"),
                             now=datetime(2026, 1, 5, tzinfo=UTC))
        db.session.commit()
    with support_app.app_context():
        now = datetime(2026, 3, 2, 12, tzinfo=UTC)
        started = scheduler.run_due(now)
        assert {"support.sla_scan", "support.send_surveys", "support.purge"} <= set(started)
        assert db.session.query(Ticket).one().sla_breached_at is not None  # the scan ran (inline jobs)
        assert not {"support.sla_scan", "support.purge"} & set(scheduler.run_due(now + timedelta(seconds=60)))
