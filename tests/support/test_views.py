"""Staff pages of support: access, queues without N+1, the ticket page and its forms,
attachments, returns, the order panel, settings, coverage, CSAT, teams and canned replies."""

import io

import pytest

from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.web.templating import render_contributions
from plugins.orders.channels import DEFAULT_LIST as DEFAULT_CHANNELS
from plugins.support import returns, services, states
from plugins.support.models import Attachment, CannedReply, ReturnRequest, Team, Ticket
from plugins.support.services import TicketInput
from tests.helpers import QueryCounter, login, make_user
from tests.support.helpers import make_order, make_team

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
AGENT = ["support.tickets.view", "support.tickets.reply"]


def _client(app, perms=(), roles=(), **kw):
    client = app.test_client()
    user_id = make_user(app, perms=perms, roles=roles, **kw)
    login(client, app, user_id)
    return client, user_id


def _ticket(app, **kw):
    with app.test_request_context():
        data = dict(subject="Cup broken", body="It arrived in pieces.", contact_email="a@example.com")
        data.update(kw)
        ticket = services.open_ticket(TicketInput(**data))
        db.session.commit()
        return ticket.id


def _return(app, status="requested", **kw):
    with app.test_request_context():
        order = make_order(**kw)
        rr = returns.create_return(order, "refund", "damaged", "dented", {order.lines[0].id: 1})
        if status != "requested":
            returns.decide(rr, True, "ok")
        db.session.commit()
        return rr.id


@pytest.mark.parametrize("method,url", [
    ("GET", "/support/"), ("GET", "/support/tickets/new"), ("GET", "/support/tickets/{t}"),
    ("POST", "/support/tickets/{t}/messages"), ("POST", "/support/tickets/{t}/status"),
    ("GET", "/support/returns"), ("GET", "/support/returns/{r}"), ("POST", "/support/returns/{r}/decide"),
    ("GET", "/support/csat"), ("GET", "/support/coverage"), ("GET", "/support/teams"), ("GET", "/support/teams/new"),
    ("GET", "/support/canned"), ("POST", "/support/orders/1/link/renew"),
])
def test_users_without_permission_get_403(support_app, method, url):
    t, r = _ticket(support_app), _return(support_app)
    client, _ = _client(support_app, perms=["orders.view"])
    assert client.open(url.format(t=t, r=r), method=method).status_code == 403


def test_agents_see_tickets_but_not_the_lead_pages(support_app):
    t = _ticket(support_app)
    client, _ = _client(support_app, roles=["support_agent"])
    assert client.get("/support/").status_code == 200
    assert client.get(f"/support/tickets/{t}").status_code == 200
    assert client.get("/support/coverage").status_code == 200
    for url in ("/support/csat", "/support/teams", "/support/canned"):
        assert client.get(url).status_code == 403, url
    nav = client.get("/dashboard").get_data(as_text=True)
    assert "Support tickets" in nav and "Canned replies" not in nav


def test_queue_runs_the_same_number_of_statements_for_3_or_30_tickets(support_app):
    client, user_id = _client(support_app, perms=AGENT)
    with support_app.test_request_context():
        team_id = make_team("Desk", members=[user_id]).id
        order_id = make_order().id
        for i in range(3):
            services.open_ticket(TicketInput(subject=f"t{i}", body="x", order_id=order_id, assignee_id=user_id))
        db.session.commit()

    def count(url):
        client.get(url)  # warm
        with support_app.app_context():
            engine = db.engine
        with QueryCounter(engine) as counter:
            assert client.get(url).status_code == 200
        return counter.count

    few = {q: count(f"/support/?queue={q}&status=any") for q in ("mine", "team", "all")}
    with support_app.test_request_context():
        for i in range(27):
            services.open_ticket(TicketInput(subject=f"u{i}", body="x", order_id=order_id, assignee_id=user_id,
                                             team_id=team_id))
        db.session.commit()
    many = {q: count(f"/support/?queue={q}&status=any") for q in ("mine", "team", "all")}
    assert few == many
    assert max(many.values()) <= 25, many


def test_returns_list_runs_the_same_number_of_statements_for_2_or_12(support_app):
    client, _ = _client(support_app, perms=["support.returns.view"])
    for _i in range(2):
        _return(support_app)

    def count():
        with support_app.app_context():
            engine = db.engine
        with QueryCounter(engine) as counter:
            assert client.get("/support/returns").status_code == 200
        return counter.count

    few = count()
    for _i in range(10):
        _return(support_app)
    assert count() == few


def test_queue_filters_live_in_the_url(support_app):
    client, _ = _client(support_app, perms=AGENT)
    _ticket(support_app, subject="About tea", priority="urgent")
    _ticket(support_app, subject="About cups", priority="low")
    page = client.get("/support/?queue=all&priority=urgent").get_data(as_text=True)
    assert "About tea" in page and "About cups" not in page
    page = client.get("/support/?queue=all&q=cups&sort=-priority").get_data(as_text=True)
    assert "About cups" in page and "About tea" not in page
    assert client.get("/support/?queue=bogus&sort=nonsense&page=abc").status_code == 200


def test_staff_open_a_ticket_for_an_order(support_app):
    client, _ = _client(support_app, perms=AGENT)
    with support_app.test_request_context():
        order = make_order(email="buyer@example.com")
    form = client.get(f"/support/tickets/new?order_id={order.id}").get_data(as_text=True)
    assert order.number in form and "buyer@example.com" in form
    response = client.post("/support/tickets/new", data={
        "subject": "Called about delivery", "body": "Wants Saturday delivery", "channel": "phone",
        "category": "delivery", "priority": "normal", "order_number": order.number, "contact_email": ""})
    assert response.status_code == 302
    with support_app.app_context():
        ticket = db.session.query(Ticket).one()
        assert (ticket.order_id, ticket.channel, ticket.contact_email) == (order.id, "phone", "buyer@example.com")
    bad = client.post("/support/tickets/new", data={"subject": "x", "body": "y", "channel": "phone",
                                                    "category": "delivery", "priority": "normal",
                                                    "order_number": "SO-1999-999999"})
    assert bad.status_code == 422 and "No order has the number" in bad.get_data(as_text=True)


def test_reply_status_and_stale_posts_from_the_ticket_page(support_app):
    client, _ = _client(support_app, perms=AGENT)
    t = _ticket(support_app)
    response = client.post(f"/support/tickets/{t}/messages", data={"kind": "reply", "body": "On its way",
                                                                   "then_status": "pending", "version": "1"})
    assert response.status_code == 302
    page = client.get(f"/support/tickets/{t}").get_data(as_text=True)
    assert "On its way" in page and "Reply saved" in page and "Pending on customer" in page
    stale = client.post(f"/support/tickets/{t}/status", data={"status": "resolved", "version": "1"},
                        follow_redirects=True)
    assert "changed by someone else" in stale.get_data(as_text=True)
    with support_app.app_context():
        ticket = db.session.get(Ticket, t)
        assert ticket.status == "pending"
        version = ticket.version
    ok = client.post(f"/support/tickets/{t}/status", data={"status": "resolved", "version": str(version)},
                     follow_redirects=True)
    assert "is now Resolved" in ok.get_data(as_text=True)
    empty = client.post(f"/support/tickets/{t}/messages", data={"kind": "note", "body": "", "version": "9"})
    assert empty.status_code == 422


def test_a_reply_says_not_sent_while_mail_is_not_set_up(support_app, make_app, smtp_server):
    agent, _ = _client(support_app, perms=AGENT)
    t = _ticket(support_app)
    assert 'data-testid="mail-off-note"' in agent.get(f"/support/tickets/{t}").get_data(as_text=True)
    page = agent.post(f"/support/tickets/{t}/messages", data={"kind": "reply", "body": "On its way", "version": "1"},
                      follow_redirects=True).get_data(as_text=True)
    assert "Not sent: mail is not set up." in page and "Ask an administrator to set it up." in page
    admin, _ = _client(support_app, roles=["admin"])
    page = admin.post(f"/support/tickets/{t}/messages", data={"kind": "reply", "body": "Still on its way",
                                                              "version": "2"}, follow_redirects=True)
    assert 'href="/admin/mail/"' in page.get_data(as_text=True)
    note = agent.post(f"/support/tickets/{t}/messages", data={"kind": "note", "body": "internal", "version": "3"},
                      follow_redirects=True).get_data(as_text=True)
    assert "Ask an administrator to set it up." not in note  # notes are never mailed: no notice
    # With mail set up: no note, no notice, the reply arrives.
    mailing = make_app(plugins=["orders", "support"], **smtp_server.app_config())
    agent = mailing.test_client()
    login(agent, mailing, make_user(mailing, perms=AGENT))
    assert 'data-testid="mail-off-note"' not in agent.get(f"/support/tickets/{t}").get_data(as_text=True)
    page = agent.post(f"/support/tickets/{t}/messages", data={"kind": "reply", "body": "Here it is", "version": "4"},
                      follow_redirects=True).get_data(as_text=True)
    assert "Not sent" not in page and "Reply sent to the customer by e-mail." in page
    assert [m.rcpt_tos for m in smtp_server.messages] == [["a@example.com"]]


def test_taking_and_assigning(support_app):
    t = _ticket(support_app)
    agent, agent_id = _client(support_app, perms=AGENT)
    other_id = make_user(support_app, perms=AGENT)
    assert agent.post(f"/support/tickets/{t}/assign", data={"take": "1", "version": "1"}).status_code == 302
    with support_app.app_context():
        assert db.session.get(Ticket, t).assignee_id == agent_id
    # assigning to someone else needs the assign permission or leading the team
    assert agent.post(f"/support/tickets/{t}/assign", data={"assignee_id": str(other_id), "version": "2"}).status_code == 403
    lead, lead_id = _client(support_app, perms=AGENT)
    with support_app.test_request_context():
        team_id = make_team("Desk", members=[lead_id, other_id], leads=[lead_id]).id
    response = lead.post(f"/support/tickets/{t}/assign", data={"team_id": str(team_id), "assignee_id": str(other_id),
                                                              "version": "2"})
    assert response.status_code == 302
    with support_app.app_context():
        ticket = db.session.get(Ticket, t)
        assert (ticket.team_id, ticket.assignee_id) == (team_id, other_id)


def test_attachments_are_checked_stored_and_served_to_staff_only(support_app, tmp_path):
    client, _ = _client(support_app, perms=AGENT)
    t = _ticket(support_app)
    ok = client.post(f"/support/tickets/{t}/messages", content_type="multipart/form-data", data={
        "kind": "note", "body": "photo attached", "version": "1",
        "attachments": [(io.BytesIO(PNG), "crack.png")]})
    assert ok.status_code == 302
    with support_app.app_context():
        attachment = db.session.query(Attachment).one()
        assert (attachment.filename, attachment.content_type, attachment.size) == ("crack.png", "image/png", len(PNG))
        stored = support_app.config["UPLOAD_FOLDER"] + "/support/" + attachment.stored_name
    with open(stored, "rb") as fh:
        assert fh.read() == PNG
    served = client.get(f"/support/attachments/{attachment.id}")
    assert served.status_code == 200 and served.data == PNG and served.mimetype == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    stranger, _ = _client(support_app, perms=["orders.view"])
    assert stranger.get(f"/support/attachments/{attachment.id}").status_code == 403
    assert support_app.test_client().get(f"/support/attachments/{attachment.id}").status_code == 302  # sign in
    bad = client.post(f"/support/tickets/{t}/messages", content_type="multipart/form-data", data={
        "kind": "note", "body": "exe", "version": "1", "attachments": [(io.BytesIO(b"MZ\x90\x00binary"), "setup.png")]})
    assert bad.status_code == 422 and "only JPEG, PNG" in bad.get_data(as_text=True)
    with support_app.app_context():
        assert db.session.query(Attachment).count() == 1


def test_too_big_attachments_are_refused_and_leave_no_file(support_app):
    from erp_core import settings

    with support_app.test_request_context():
        settings.set_many({"support.attachment_max_mb": 1})
        db.session.commit()
    client, _ = _client(support_app, perms=AGENT)
    t = _ticket(support_app)
    big = PNG + b"0" * (1024 * 1024)
    response = client.post(f"/support/tickets/{t}/messages", content_type="multipart/form-data", data={
        "kind": "note", "body": "big", "version": "1", "attachments": [(io.BytesIO(big), "big.png")]})
    assert response.status_code == 422 and "larger than 1 MB" in response.get_data(as_text=True)
    import os

    folder = os.path.join(support_app.config["UPLOAD_FOLDER"], "support")
    assert not os.path.isdir(folder) or os.listdir(folder) == []


def test_a_rolled_back_upload_removes_its_file(support_app):
    import os

    with support_app.test_request_context():
        order = make_order(status="shipped")
        from werkzeug.datastructures import FileStorage

        photo = FileStorage(io.BytesIO(PNG), "dent.png")
        with pytest.raises(DomainError):
            returns.create_return(order, "refund", "damaged", "", {order.lines[0].id: 1}, photos=[photo])
        ticket = services.open_ticket(TicketInput(subject="x", body="y",
                                                  attachments=[FileStorage(io.BytesIO(PNG), "a.png")]))
        folder = os.path.join(support_app.config["UPLOAD_FOLDER"], "support")
        assert len(os.listdir(folder)) == 1
        db.session.rollback()
        assert os.listdir(folder) == []
        assert ticket


def test_canned_reply_is_inserted_into_the_answer(support_app):
    client, _ = _client(support_app, perms=AGENT + ["support.canned.manage"])
    t = _ticket(support_app, contact_name="Ann")
    response = client.post("/support/canned/new", data={"title": "Hello", "body": "Dear {customer}, about {ticket}",
                                                        "active": "y"})
    assert response.status_code == 302
    with support_app.app_context():
        reply = db.session.query(CannedReply).one()
        number = db.session.get(Ticket, t).number
    page = client.get(f"/support/tickets/{t}?canned={reply.id}").get_data(as_text=True)
    assert f"Dear Ann, about {number}" in page
    dup = client.post("/support/canned/new", data={"title": "hello", "body": "x"})
    assert dup.status_code == 422 and "Another canned reply" in dup.get_data(as_text=True)


def test_team_form_checks_the_hours(support_app):
    client, user_id = _client(support_app, perms=["support.teams.manage", "support.tickets.view"])
    data = {"name": "Night", "timezone": "Europe/London", "active": "y", "day0": "22:00-24:00, 00:00-06:00",
            "day1": "9-17", "members": [str(user_id)], "leads": [str(user_id)]}
    bad = client.post("/support/teams/new", data=data)
    assert bad.status_code == 422 and "Write hours like" in bad.get_data(as_text=True)
    assert client.post("/support/teams/new", data=dict(data, day1="", timezone="Mars/Base")).status_code == 422
    assert client.post("/support/teams/new", data=dict(data, day1="09:00-12:00, 11:00-13:00")).status_code == 422
    assert client.post("/support/teams/new", data=dict(data, day1="")).status_code == 302
    with support_app.app_context():
        team = db.session.query(Team).one()
        assert [(h.weekday, h.start_minute, h.end_minute) for h in team.hours] == [(0, 0, 360), (0, 1320, 1440)]
        assert [(m.user_id, m.is_lead) for m in team.members] == [(user_id, True)]
    page = client.get(f"/support/teams/{team.id}").get_data(as_text=True)
    assert "00:00-06:00, 22:00-24:00" in page


def test_coverage_page_and_dashboard_warning(support_app):
    client, user_id = _client(support_app, perms=AGENT)
    empty = client.get("/dashboard").get_data(as_text=True)
    assert "No support team yet" in empty
    with support_app.test_request_context():
        make_team("Office", "Asia/Shanghai", {d: "09:00-18:00" for d in range(5)}, members=[user_id])
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Nobody covers some hours in the next 7 days" in page
    coverage = client.get("/support/coverage").get_data(as_text=True)
    assert "Office" in coverage and "Gaps in the next 7 days" in coverage and 'class="slot gap"' in coverage
    with support_app.test_request_context():
        make_team("Always", "UTC", {d: "00:00-24:00" for d in range(7)})
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Covered around the clock for the next 7 days" in page
    assert "Covered around the clock." in client.get("/support/coverage").get_data(as_text=True)


def test_settings_validate_support_contacts(support_app):
    admin, _ = _client(support_app, roles=["admin"])
    base = {"company__name": "Tea House", "company__timezone": "Asia/Shanghai", "company__currency": "CNY",
            "company__locale": "", "support__phones": "400-820-1234", "support__emails": "help@example.com",
            "support__hours_text__zh_CN": "9-18", "support__hours_text__en": "", "support__survey_valid_days": "14", "support__survey_low_score": "2",
            "support__attachment_max_mb": "5", "support__public_url": "", "orders__channels": DEFAULT_CHANNELS,
            "quotations__validity_days": "30"}
    for priority, (first, resolve) in services.SLA_DEFAULTS.items():
        base[f"support__sla__{priority}__first"] = str(first)
        base[f"support__sla__{priority}__resolve"] = str(resolve)
    bad_mail = admin.post("/admin/settings", data=dict(base, support__emails="help@example.com, nope@"))
    assert bad_mail.status_code == 200 and "nope@ is not a valid e-mail address" in bad_mail.get_data(as_text=True)
    bad_phone = admin.post("/admin/settings", data=dict(base, support__phones="call us!"))
    assert "does not look like a phone number" in bad_phone.get_data(as_text=True)
    bad_sla = admin.post("/admin/settings", data=dict(base, support__sla__urgent__first="0"))
    assert "above zero" in bad_sla.get_data(as_text=True)
    assert admin.post("/admin/settings", data=dict(base, support__emails="a@example.com; b@example.com")).status_code == 302
    with support_app.test_request_context():
        assert services.contact_details()["emails"] == ["a@example.com", "b@example.com"]


def test_order_panel_shows_tickets_link_and_contact(support_app):
    from erp_core import settings
    from erp_core.auth.models import User

    admin, admin_id = _client(support_app, roles=["admin"])
    with support_app.test_request_context():
        settings.set_many({"support.phones": "400-820-1234"})
        order = make_order()
        services.open_ticket(TicketInput(subject="Which colour?", body="x", order_id=order.id))
        db.session.commit()
        user = db.session.get(User, admin_id)
        manager = support_app.extensions["erp_plugins"]
        panels = [p for group in manager.hook.erp_order_panels(order=order, user=user) for p in group]
        assert [(p.title, p.permission) for p in panels] == [("Support", "support.tickets.view"),
                                                             ("Messages to the customer", None)]
        from flask_login import login_user

        login_user(user)
        html = render_contributions(panels)[0].html
    assert "Which colour?" in html and "400-820-1234" in html and "/help/t/%d/" % order.id in html
    assert f"/support/tickets/new?order_id={order.id}" in html and f"/support/returns/new?order_id={order.id}" in html
    response = admin.post(f"/support/orders/{order.id}/link/revoke", data={"next": "/support/"})
    assert response.status_code == 302 and response.headers["Location"] == "/support/"
    with support_app.test_request_context():
        from plugins.support import public

        assert public.tracking_url(db.session.get(type(order), order.id)) is None


def test_staff_return_pages_and_steps(full_app):
    client, _ = _client(full_app, roles=["admin"])
    with full_app.test_request_context():
        order = make_order(lines=((2, "10.00"),))
    form = client.get(f"/support/returns/new?order_id={order.id}").get_data(as_text=True)
    assert f"qty-{order.lines[0].id}" in form
    bad = client.post("/support/returns/new", data={"order_id": order.id, "kind": "refund", "reason_code": "damaged",
                                                    f"qty-{order.lines[0].id}": "5"})
    assert bad.status_code == 422 and "at most 2" in bad.get_data(as_text=True)
    made = client.post("/support/returns/new", data={"order_id": order.id, "kind": "refund", "reason_code": "damaged",
                                                     f"qty-{order.lines[0].id}": "2"})
    assert made.status_code == 302
    with full_app.app_context():
        rr = db.session.query(ReturnRequest).one()
        rr_id = rr.id
    url = f"/support/returns/{rr_id}"
    assert "Approve" in client.get(url).get_data(as_text=True)
    assert "is Approved" in client.post(url + "/decide", data={"decision": "approve", "version": "1"},
                                        follow_redirects=True).get_data(as_text=True)
    double = client.post(url + "/decide", data={"decision": "approve", "version": "1"}, follow_redirects=True)
    assert "changed by someone else" in double.get_data(as_text=True)
    client.post(url + "/receive", data={"restock": "restock", "version": "2"})
    page = client.post(url + "/refund", data={"refund-amount": "20.00", "refund-version": "3"},
                       follow_redirects=True).get_data(as_text=True)
    assert "is refunded" in page and "Refund #77" in page and "Stock move for" in page
    with full_app.app_context():
        assert db.session.get(ReturnRequest, rr_id).status == "refunded"


def test_manual_steps_ask_for_a_note_on_the_page(support_app):
    client, _ = _client(support_app, roles=["admin"])
    rr_id = _return(support_app, status="approved")
    url = f"/support/returns/{rr_id}"
    page = client.get(url).get_data(as_text=True)
    assert "Inventory is switched off" in page
    refused = client.post(url + "/receive", data={"restock": "write_off", "version": "2"}, follow_redirects=True)
    assert "write down what was done" in refused.get_data(as_text=True)
    done = client.post(url + "/receive", data={"restock": "write_off", "note": "Binned: crushed", "version": "2"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Written off by hand" in done and "recorded by hand" in done and "Finance is switched off" in done


def test_csat_page_reflects_answers(support_app):
    from plugins.support import surveys
    from plugins.support.models import Survey

    client, _ = _client(support_app, perms=["support.reports.view"])
    assert client.get("/support/csat").status_code == 200
    t = _ticket(support_app)
    with support_app.test_request_context():
        services.change_status(db.session.get(Ticket, t), states.RESOLVED)
        surveys.answer(db.session.query(Survey).one(), 5, "Lovely")
        db.session.commit()
    page = client.get("/support/csat?period=day").get_data(as_text=True)
    assert "100.0 %" in page and "Lovely" in page and "csat-chart" in page
    assert client.get("/support/csat?from=2026-13-01&to=x&period=year&team=abc").status_code == 200


def test_dashboard_widgets_cost_a_few_fixed_statements(make_app):
    on = make_app(plugins=["orders", "support"])
    off = make_app(plugins=["orders", "support"], enabled=["orders"])  # the same database, support off
    client, user_id = _client(on, roles=["admin"])
    off_client = off.test_client()
    login(off_client, off, user_id)

    def count(app, c):
        c.get("/dashboard")
        with app.app_context():
            engine = db.engine
        with QueryCounter(engine) as counter:
            assert c.get("/dashboard").status_code == 200
        return counter.count

    baseline = count(off, off_client)
    with on.test_request_context():
        make_team("Z", members=[user_id])
        services.open_ticket(TicketInput(subject="first", body="x", assignee_id=user_id))
        db.session.commit()
    few = count(on, client)
    with on.test_request_context():
        for name in ("A", "B", "C"):
            make_team(name, members=[user_id], week={d: "09:00-17:00" for d in range(5)})
        for i in range(5):
            services.change_status(services.open_ticket(TicketInput(subject=f"t{i}", body="x", assignee_id=user_id)),
                                   states.RESOLVED)
        db.session.commit()
    busy = count(on, client)
    assert busy == few, (few, busy)
    assert busy - baseline <= 6, (baseline, busy)


def test_csat_page_runs_the_same_number_of_statements_for_2_or_12_answers(support_app):
    from plugins.support import surveys
    from plugins.support.models import Survey

    client, _ = _client(support_app, perms=["support.reports.view"])

    def answer(n):
        with support_app.test_request_context():
            for i in range(n):
                order = make_order()
                ticket = services.open_ticket(TicketInput(subject=f"t{i}", body="x", order_id=order.id))
                services.change_status(ticket, states.RESOLVED)
            for survey in db.session.query(Survey).filter(Survey.answered_at.is_(None)):
                surveys.answer(survey, 4, "fine")
            db.session.commit()

    def count():
        with support_app.app_context():
            engine = db.engine
        with QueryCounter(engine) as counter:
            assert client.get("/support/csat").status_code == 200
        return counter.count

    answer(1)
    few = count()
    answer(6)
    assert count() == few


def test_order_page_support_panel_costs_the_same_for_1_or_6_tickets_and_joins_no_order(support_app):
    """The panel's ticket and return queries do not join the order again (the page has it): a
    ticket's optional order with its customer made SQLite materialise every order."""
    client, _ = _client(support_app, roles=["admin"])
    with support_app.test_request_context():
        order = make_order()
        order_id, line_id = order.id, order.lines[0].id
        services.open_ticket(TicketInput(subject="Which colour?", body="x", order_id=order_id))
        returns.create_return(order, "refund", "damaged", "dented", {line_id: 1})
        db.session.commit()

    def count():
        client.get(f"/orders/{order_id}")  # warm
        with support_app.app_context():
            engine = db.engine
        with QueryCounter(engine) as counter:
            response = client.get(f"/orders/{order_id}")
        assert response.status_code == 200 and "Which colour?" in response.get_data(as_text=True)
        return counter

    few = count()
    with support_app.test_request_context():
        for i in range(5):
            services.open_ticket(TicketInput(subject=f"More {i}", body="x", order_id=order_id))
        db.session.commit()
    many = count()
    assert many.count == few.count <= 25, many.statements
    panel = [s for s in many.statements if "FROM support_ticket" in s or "FROM support_return " in s]
    assert len(panel) == 2 and not any("orders_order" in s.split("WHERE")[0] for s in panel), panel
