"""The customer side: home-page blocks, contact form, order lookup, tracking page, return
request, ticket conversation and survey; rate limits, honeypots and unguessable links."""

import re
from datetime import UTC

import pytest
from sqlalchemy import text

from erp_core import settings
from erp_core.extensions import db
from plugins.orders.models import Order
from plugins.support import public, services, states, surveys
from plugins.support.models import OrderAccess, ReturnRequest, Survey, Ticket
from plugins.support.services import TicketInput
from tests.support.fakes import spy
from tests.support.helpers import make_order

CONTACT = {"name": "Ann Lee", "email": "ann@example.com", "phone": "", "order_number": "", "category": "delivery",
           "subject": "Parcel late", "message": "It has been a week."}


def _track_url(app, order):
    order_id = order if isinstance(order, int) else order.id
    with app.test_request_context():
        access = public.ensure_access(db.session.get(Order, order_id))
        db.session.commit()
        return f"/help/t/{order_id}/{public.tracking_token(order_id, access.nonce)}"


def test_home_page_offers_contact_and_tracking(support_app):
    with support_app.test_request_context():
        settings.set_many({"support.phones": "400-820-1234, +86 21 5555 0100", "support.emails": "help@example.com",
                           "support.hours_text.en": "Every day 8:00-20:00"})
        db.session.commit()
    page = support_app.test_client().get("/").get_data(as_text=True)
    assert "Contact support" in page and 'href="/help/contact"' in page
    assert 'href="tel:400-820-1234"' in page and "+86 21 5555 0100" in page
    assert "mailto:help@example.com" in page and "Every day 8:00-20:00" in page
    assert 'action="/help/track"' in page and 'name="website"' in page  # lookup form with its honeypot


def test_support_hours_show_in_the_readers_language_else_the_other(support_app):
    with support_app.test_request_context():
        settings.set_many({"support.hours_text.zh_CN": "每天 8:00–20:00（北京时间）",
                           "support.hours_text.en": "Every day 8:00-20:00 (Beijing time)"})
        db.session.commit()
    client = support_app.test_client()
    english = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    chinese = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Every day 8:00-20:00 (Beijing time)" in english and "北京时间" not in english
    assert "每天 8:00–20:00（北京时间）" in chinese and "Every day" not in chinese
    with support_app.test_request_context():
        settings.set_many({"support.hours_text.en": ""})
        db.session.commit()
    english = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "每天 8:00–20:00（北京时间）" in english  # no English text yet: the Chinese one rather than nothing


def test_support_switched_off_leaves_the_home_page_and_answers_404(make_app):
    app = make_app(plugins=["orders", "support"], enabled=["orders"])
    client = app.test_client()
    assert "Contact support" not in client.get("/").get_data(as_text=True)
    assert client.get("/help/contact").status_code == 404


def test_contact_form_opens_a_ticket_and_leads_to_its_page(support_app):
    client = support_app.test_client()
    response = client.post("/help/contact", data=CONTACT)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert re.fullmatch(r"/help/ticket/\d+/[A-Za-z0-9_-]{32}", location)
    page = client.get(location).get_data(as_text=True)
    assert "Parcel late" in page and "It has been a week." in page and "was received" in page
    with support_app.app_context():
        ticket = db.session.query(Ticket).one()
        assert (ticket.channel, ticket.category, ticket.contact_email, ticket.status) == ("web", "delivery",
                                                                                         "ann@example.com", "open")


@pytest.mark.parametrize("change,field_text", [
    ({"email": "", "phone": ""}, "e-mail address or a phone number"),
    ({"email": "ann@"}, "not a valid e-mail address"),
    ({"subject": ""}, "This field is required"),
    ({"message": ""}, "This field is required"),
    ({"category": "spam"}, "Not a valid choice"),
])
def test_contact_form_mistakes_are_shown_and_nothing_is_created(support_app, change, field_text):
    response = support_app.test_client().post("/help/contact", data=dict(CONTACT, **change))
    assert response.status_code == 422
    assert field_text in response.get_data(as_text=True)
    with support_app.app_context():
        assert db.session.query(Ticket).count() == 0


def test_robots_filling_the_honeypot_create_nothing(support_app):
    response = support_app.test_client().post("/help/contact", data=dict(CONTACT, website="http://spam.example"))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    with support_app.app_context():
        assert db.session.query(Ticket).count() == 0


def test_order_number_links_the_order_only_when_the_contact_matches(support_app):
    with support_app.test_request_context():
        order = make_order(email="buyer@example.com")
        number = order.number
    client = support_app.test_client()
    client.post("/help/contact", data=dict(CONTACT, email="buyer@example.com", order_number=number.lower()))
    client.post("/help/contact", data=dict(CONTACT, email="stranger@example.com", order_number=number))
    with support_app.app_context():
        linked, unlinked = db.session.query(Ticket).order_by(Ticket.id).all()
        assert linked.order_id == order.id
        assert unlinked.order_id is None and f"not verified: {number}" in unlinked.messages[0].body


def test_public_forms_are_rate_limited_across_processes(make_app):
    limits = {"contact": (2, 600)}
    first = make_app(plugins=["orders", "support"], SUPPORT_RATE_LIMITS=limits)
    second = make_app(plugins=["orders", "support"], SUPPORT_RATE_LIMITS=limits)  # another worker, same database
    assert first.test_client().post("/help/contact", data=CONTACT).status_code == 302
    assert second.test_client().post("/help/contact", data=dict(CONTACT, subject="again")).status_code == 302
    response = first.test_client().post("/help/contact", data=dict(CONTACT, subject="third"))
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True) and "Please wait" in response.get_data(as_text=True)
    assert 0 < int(response.headers["Retry-After"]) <= 601
    other_client = first.test_client()
    blocked = other_client.post("/help/contact", data=dict(CONTACT, subject="4"),
                                environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert blocked.status_code == 302  # another address has its own allowance
    with first.app_context():
        assert db.session.query(Ticket).count() == 3


def test_lookup_finds_the_order_by_number_and_phone_or_email(support_app):
    with support_app.test_request_context():
        order = make_order(email="buyer@example.com", phone="+86 138 0013 8000")
        number, order_id = order.number, order.id
    client = support_app.test_client()
    for contact in ("BUYER@example.com", "13800138000", "+86 138-0013-8000"):
        response = client.post("/help/track", data={"number": number.lower(), "contact": contact})
        assert response.status_code == 302, contact
        assert response.headers["Location"].startswith(f"/help/t/{order_id}/")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert number in page and "Delivered" in page


@pytest.mark.parametrize("contact", ["other@example.com", "13900000000", "8000", ""])
def test_lookup_without_a_match_says_so_without_telling_which_part_was_wrong(support_app, contact):
    with support_app.test_request_context():
        number = make_order(email="buyer@example.com").number
    response = support_app.test_client().post("/help/track", data={"number": number, "contact": contact})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "We found no order" in body or "This field is required" in body


def test_guessing_contacts_for_one_order_is_limited_per_address_and_order(make_app):
    app = make_app(plugins=["orders", "support"], LOOKUP_LIMITS={"address_order": "3 per hour"})
    with app.test_request_context():
        number = make_order(email="buyer@example.com").number
    attacker = {"REMOTE_ADDR": "203.0.113.66"}
    codes = [app.test_client().post("/help/track", data={"number": number, "contact": f"1380000000{i % 10}"},
                                    environ_base=attacker).status_code for i in range(50)]
    assert codes[:3] == [422, 422, 422] and set(codes[3:]) == {429}
    refused = app.test_client().post("/help/track", data={"number": number, "contact": "buyer@example.com"},
                                     environ_base=attacker, headers={"Accept-Language": "zh-CN"})
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "请等待" in refused.get_data(as_text=True)
    # the real customer, from their own address, is not locked out
    owner = app.test_client().post("/help/track", data={"number": number, "contact": "buyer@example.com"},
                                   environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert owner.status_code == 302


def test_lookups_of_many_orders_from_one_address_are_capped(make_app):
    app = make_app(plugins=["orders", "support"], LOOKUP_LIMITS={"address": "4 per 10 minutes"})
    codes = [app.test_client().post("/help/track", data={"number": f"SO-{i:05d}", "contact": "x@example.com"},
                                    environ_base={"REMOTE_ADDR": "203.0.113.66"}).status_code for i in range(6)]
    assert codes == [422] * 4 + [429] * 2
    other = app.test_client().post("/help/track", data={"number": "SO-00001", "contact": "x@example.com"},
                                   environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert other.status_code == 422


def test_tracking_links_are_unguessable_rotatable_and_not_stored(support_app):
    with support_app.test_request_context():
        order = make_order()
        order_id, number = order.id, order.number
    url = _track_url(support_app, order_id)
    token = url.rsplit("/", 1)[1]
    client = support_app.test_client()
    assert client.get(url).status_code == 200
    assert client.get(url[:-1] + ("A" if url[-1] != "A" else "B")).status_code == 404
    assert client.get(f"/help/t/{order_id + 1}/{token}").status_code == 404
    with support_app.app_context():
        dump = " ".join(str(v) for row in db.session.execute(text("SELECT * FROM support_order_access")) for v in row)
        assert token not in dump  # only the nonce is stored
    with support_app.test_request_context():
        public.rotate(db.session.get(Order, order_id))
        db.session.commit()
    assert client.get(url).status_code == 404  # the old link is dead
    new_url = _track_url(support_app, order_id)
    assert new_url != url and client.get(new_url).status_code == 200
    with support_app.test_request_context():
        public.revoke(db.session.get(Order, order_id))
        db.session.commit()
        assert public.tracking_url(db.session.get(Order, order_id)) is None
    assert client.get(new_url).status_code == 404
    response = client.post("/help/track", data={"number": number, "contact": "buyer@example.com"})
    assert response.status_code == 422 and "switched off" in response.get_data(as_text=True)


def test_every_new_order_gets_a_link(support_app):
    with support_app.test_request_context():
        order = make_order(status="draft")
        assert db.session.get(OrderAccess, order.id).nonce


def test_hook_erp_order_public_panels(make_app):
    from tests.support.conftest import SPY

    app = make_app(plugins=["orders", "support", SPY])
    with app.test_request_context():
        order = make_order()
    url = _track_url(app, order)
    client = app.test_client()
    page = client.get(url).get_data(as_text=True)
    assert ("public_panels", order.number) in spy.CALLS
    assert "Parcel tracking" in page and f"Parcel of {order.number} is on its way" in page
    spy.BEHAVIOUR["broken_panel"] = True
    response = client.get(url)
    assert response.status_code == 200  # a failing panel is replaced by a note, the page still shows
    assert "could not be shown" in response.get_data(as_text=True)
    off = make_app(plugins=["orders", "support", SPY], enabled=["orders", "support"])
    assert "Parcel tracking" not in off.test_client().get(url).get_data(as_text=True)


def test_tracking_page_shows_contact_returns_requests_and_survey(support_app):
    with support_app.test_request_context():
        settings.set_many({"support.phones": "400-820-1234", "support.emails": "help@example.com"})
        order = make_order(email="buyer@example.com")  # commits
    url = _track_url(support_app, order)
    page = support_app.test_client().get(url).get_data(as_text=True)
    assert "400-820-1234" in page and "help@example.com" in page
    assert "Request a return" in page and "Rate your order" in page
    assert "Write to us about this order" in page


def test_tracking_page_leaves_out_staff_internal_tickets(support_app):
    with support_app.test_request_context():
        order = make_order(email="buyer@example.com")
        asked = services.open_ticket(TicketInput(subject="Where is my parcel", body="Hello", order_id=order.id))
        internal = services.open_ticket(TicketInput(subject="Carrier lost it, claim filed", body="note",
                                                    channel="internal", body_kind="note", order_id=order.id))
        db.session.commit()
        internal_url = f"/help/ticket/{internal.id}/{services.ticket_token(internal)}"
        asked_url = f"/help/ticket/{asked.id}/{services.ticket_token(asked)}"
    client = support_app.test_client()
    page = client.get(_track_url(support_app, order)).get_data(as_text=True)
    assert "Where is my parcel" in page
    assert "Carrier lost it" not in page
    assert client.get(asked_url).status_code == 200
    assert client.get(internal_url).status_code == 404  # not even with its link


def test_contact_from_the_tracking_page_links_the_order(support_app):
    with support_app.test_request_context():
        order = make_order(email="")
    url = _track_url(support_app, order)
    key = url.rsplit("/", 1)[1]
    client = support_app.test_client()
    form = client.get(f"/help/contact?order={order.id}&key={key}").get_data(as_text=True)
    assert f'value="{order.number}"' in form
    client.post("/help/contact", data=dict(CONTACT, order=order.id, key=key))
    client.post("/help/contact", data=dict(CONTACT, order=order.id, key="forged"))
    with support_app.app_context():
        assert [t.order_id for t in db.session.query(Ticket).order_by(Ticket.id)] == [order.id, None]


def test_customer_requests_a_return_from_the_tracking_page(support_app):
    with support_app.test_request_context():
        order = make_order(lines=((2, "50.00"),))
        line_id = order.lines[0].id
    url = _track_url(support_app, order)
    client = support_app.test_client()
    assert "qty-%d" % line_id in client.get(url + "/return").get_data(as_text=True)
    bad = client.post(url + "/return", data={"kind": "refund", "reason_code": "damaged", f"qty-{line_id}": "3"})
    assert bad.status_code == 422 and "at most 2 can be returned" in bad.get_data(as_text=True)
    none = client.post(url + "/return", data={"kind": "refund", "reason_code": "damaged"})
    assert none.status_code == 422 and "at least one item" in none.get_data(as_text=True)
    photo = (b"\x89PNG\r\n\x1a\n" + b"0" * 100, "dent.png")
    ok = client.post(url + "/return", data={"kind": "exchange", "reason_code": "damaged", "reason": "dented",
                                            f"qty-{line_id}": "1", "photos": [photo]},
                     content_type="multipart/form-data")
    assert ok.status_code == 302 and ok.headers["Location"] == url
    page = client.get(url).get_data(as_text=True)
    with support_app.app_context():
        rr = db.session.query(ReturnRequest).one()
        assert (rr.kind, rr.status, rr.source, rr.lines[0].quantity) == ("exchange", "requested", "customer", 1)
    assert rr.number in page and "Requested" in page


def test_returns_cannot_be_requested_before_delivery(support_app):
    with support_app.test_request_context():
        order = make_order(status="shipped")
    url = _track_url(support_app, order)
    client = support_app.test_client()
    assert "Request a return" not in client.get(url).get_data(as_text=True)
    assert "once the order is delivered" in client.get(url + "/return").get_data(as_text=True)
    response = client.post(url + "/return", data={"kind": "refund", "reason_code": "damaged",
                                                  f"qty-{order.lines[0].id}": "1"})
    assert response.status_code == 422


def test_customer_conversation_hides_notes_and_reopens(support_app):
    with support_app.test_request_context():
        ticket = services.open_ticket(TicketInput(subject="Late", body="Where is it?", contact_email="a@example.com"))
        services.add_message(ticket, "note", "SECRET internal remark")
        services.add_message(ticket, "reply", "It left the warehouse today.")
        services.change_status(ticket, states.PENDING)
        db.session.commit()
        url = f"/help/ticket/{ticket.id}/{services.ticket_token(ticket)}"
        ticket_id = ticket.id
    client = support_app.test_client()
    page = client.get(url).get_data(as_text=True)
    assert "It left the warehouse today." in page and "SECRET" not in page
    assert client.get(f"/help/ticket/{ticket_id}/nope").status_code == 404
    assert client.post(url, data={"body": "Thanks!"}).status_code == 302
    with support_app.app_context():
        assert db.session.get(Ticket, ticket_id).status == "open"
    empty = client.post(url, data={"body": ""})
    assert empty.status_code == 422


def test_closed_conversation_takes_no_more_messages(support_app):
    with support_app.test_request_context():
        ticket = services.open_ticket(TicketInput(subject="Late", body="x", contact_email="a@example.com"))
        services.change_status(ticket, states.CLOSED)
        db.session.commit()
        url = f"/help/ticket/{ticket.id}/{services.ticket_token(ticket)}"
    client = support_app.test_client()
    assert 'name="body"' not in client.get(url).get_data(as_text=True)
    response = client.post(url, data={"body": "Hello?"})
    assert response.status_code == 422 and "closed" in response.get_data(as_text=True)


def test_survey_page_takes_one_answer(support_app):
    with support_app.test_request_context():
        ticket = services.open_ticket(TicketInput(subject="Late", body="x", contact_email="a@example.com"))
        services.change_status(ticket, states.RESOLVED)
        db.session.commit()
        survey = db.session.query(Survey).one()
        url = f"/help/survey/{survey.id}/{surveys.token(survey)}"
        ticket_page = f"/help/ticket/{ticket.id}/{services.ticket_token(ticket)}"
    client = support_app.test_client()
    assert "Rate our help" in client.get(ticket_page).get_data(as_text=True)
    assert client.get(f"/help/survey/{survey.id}/wrong").status_code == 404
    assert client.post(url, data={"score": "9"}).status_code == 422
    assert client.post(url, data={"score": "4", "comment": "Nice"}).status_code == 302
    assert "You gave us 4 out of 5" in client.get(url).get_data(as_text=True)
    again = client.post(url, data={"score": "1"})
    assert again.status_code == 422 and "already been answered" in again.get_data(as_text=True)
    assert "Rate our help" not in client.get(ticket_page).get_data(as_text=True)


def test_concurrent_hits_are_all_counted(make_app):
    """Eight clients posting at once from one address: exactly the allowance gets through."""
    import threading
    from datetime import datetime

    app = make_app(plugins=["orders", "support"], SUPPORT_RATE_LIMITS={"contact": (3, 600)})
    now = datetime(2026, 3, 2, 12, 0, 5, tzinfo=UTC)
    barrier = threading.Barrier(8)
    answers = []

    def worker():
        with app.test_request_context(method="POST"):
            barrier.wait(30)
            try:
                allowed, _retry = public.hit("contact", "10.1.1.1", now=now)
                db.session.commit()
                answers.append(allowed)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(answers) == [False] * 5 + [True] * 3
    with app.app_context():
        from plugins.support.models import RateLimit

        assert db.session.query(RateLimit).one().hits == 8


def test_old_rate_limit_windows_are_purged(support_app):
    from datetime import datetime, timedelta

    from plugins.support.models import RateLimit

    with support_app.test_request_context():
        now = datetime(2026, 3, 2, 12, tzinfo=UTC)
        public.hit("contact", "1.2.3.4", now=now - timedelta(days=2))
        public.hit("contact", "1.2.3.4", now=now)
        db.session.commit()
        assert public.purge_rate_limits(now) == 1
        db.session.commit()
        assert db.session.query(RateLimit).count() == 1
