"""Outgoing webhooks of support: ticket and return events reach a subscriber on 127.0.0.1, signed,
after commit; internal notes and refused requests send nothing."""

import json

import pytest

from erp_core import webhooks
from erp_core.extensions import db
from erp_core.testing import allow_internal_webhooks
from erp_core.webhooks import WebhookDelivery
from tests.core.test_webhooks import Receiver
from tests.support.helpers import make_order
from tests.support.test_rest_api import Api

EVENTS = ["ticket.created", "ticket.message_added", "ticket.status_changed", "return.status_changed"]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _subscribe(app, url, events=EVENTS):
    allow_internal_webhooks(app)  # the receiver listens on 127.0.0.1
    with app.test_request_context():
        hook = webhooks.create_webhook(url, events)
        db.session.commit()
        return hook.secret


def _events(receiver):
    return [(headers["x-erp-event"], json.loads(body)) for headers, body in receiver.requests]


def test_support_events_are_offered_on_the_webhooks_page(support_app):
    with support_app.app_context():
        assert {"ticket.created", "ticket.message_added", "ticket.status_changed", "return.status_changed"} <= set(
            webhooks.known_events())
    from tests.helpers import login, make_user

    client = support_app.test_client()
    login(client, support_app, make_user(support_app, perms=["core.webhooks.manage"]))
    page = client.get("/admin/webhooks/new").get_data(as_text=True)
    assert "ticket.created" in page and "ticket.message_added" in page


def test_ticket_events_through_the_api(support_app, receiver):
    secret = _subscribe(support_app, receiver.url)
    api = Api(support_app)
    ticket = api.post("/tickets", {"subject": "Lid", "body": "Cracked", "contact_email": "ann@example.com"}).json
    assert [e for e, _p in _events(receiver)] == ["ticket.created"]
    created = _events(receiver)[0][1]
    assert created["data"]["number"] == ticket["number"] and created["data"]["status"] == "open"
    assert "nonce" not in created["data"]  # the customer link of the ticket stays private
    headers, body = receiver.requests[0]
    assert webhooks.verify(secret, headers["x-erp-signature"], body)
    api.post(f"/tickets/{ticket['id']}/messages", {"kind": "note", "body": "Internal only"})
    assert len(receiver.requests) == 1  # notes stay inside
    api.post(f"/tickets/{ticket['id']}/messages", {"kind": "reply", "body": "New lid sent", "then_status": "resolved"})
    events = _events(receiver)
    assert [e for e, _p in events] == ["ticket.created", "ticket.message_added", "ticket.status_changed"]
    message = events[1][1]["message"]
    assert message["kind"] == "reply" and message["body"] == "New lid sent" and events[1][1]["data"]["id"] == ticket["id"]
    assert events[2][1]["old_status"] == "open" and events[2][1]["new_status"] == "resolved"
    refused = api.post(f"/tickets/{ticket['id']}/status", {"status": "pending"})
    assert refused.status_code == 409 and len(receiver.requests) == 3  # nothing sent for a refusal
    with support_app.app_context():
        assert db.session.query(WebhookDelivery).count() == 3


def test_customer_messages_from_the_public_page_are_sent(support_app, receiver):
    from plugins.support import services

    _subscribe(support_app, receiver.url, ["ticket.message_added"])
    with support_app.test_request_context():
        ticket = services.open_ticket(services.TicketInput(subject="Hi", body="Help"))
        db.session.commit()
        services.add_message(ticket, "customer", "Any news?")
        db.session.commit()
    events = _events(receiver)
    assert [(e, p["message"]["kind"], p["message"]["body"]) for e, p in events] == [
        ("ticket.message_added", "customer", "Any news?")]


def test_return_events_through_the_api(support_app, receiver):
    _subscribe(support_app, receiver.url, ["return.status_changed"])
    api = Api(support_app)
    with support_app.test_request_context():
        order = make_order()
        order_id, line_id = order.id, order.lines[0].id
    rr = api.post("/returns", {"order_id": order_id, "reason_code": "damaged",
                               "lines": [{"order_line_id": line_id, "quantity": 1}]}).json
    too_many = api.post("/returns", {"order_id": order_id, "reason_code": "damaged",
                                     "lines": [{"order_line_id": line_id, "quantity": 5}]})
    assert too_many.status_code == 422
    api.post(f"/returns/{rr['id']}/approve", {"message": "OK"})
    events = _events(receiver)
    assert [(p["data"]["number"], p["old_status"], p["new_status"]) for _e, p in events] == [
        (rr["number"], None, "requested"), (rr["number"], "requested", "approved")]
    assert events[0][1]["data"]["lines"][0]["quantity"] == 1
