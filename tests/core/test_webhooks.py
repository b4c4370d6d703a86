"""Outgoing webhooks: signed deliveries after commit, retries with back-off, the delivery log."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from erp_core import outbound, webhooks
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.testing import allow_internal_webhooks
from erp_core.timeutil import utcnow
from erp_core.webhooks import Webhook, WebhookDelivery
from plugins.orders import services, states
from plugins.orders.services import LineInput, OrderInput
from tests.helpers import login, make_user


class Receiver:
    """An HTTP receiver on 127.0.0.1 that records requests and answers a chosen status."""

    def __init__(self):
        self.requests = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"thanks")

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def hooks_app(make_app):
    """Deliveries go to a receiver on 127.0.0.1: internal targets are allowed explicitly."""
    app = make_app(plugins=["orders"])
    allow_internal_webhooks(app)
    return app


def _order(status_events=False):
    customer = services.create_customer("Zhao Lei", "13900001111")
    product = services.create_product("W-1", "Widget", "10.00", "CNY")
    return services.create_order(OrderInput(customer_id=customer.id, ship_line1="1 Road", currency="CNY",
                                            lines=[LineInput(product.id, 2)]))


def test_order_events_are_delivered_signed_after_commit(hooks_app, receiver):
    with hooks_app.test_request_context():
        hook = webhooks.create_webhook(receiver.url, ["order.created", "order.status_changed"])
        db.session.commit()
        order = _order()
        assert receiver.requests == []  # nothing leaves before commit
        db.session.commit()
        services.transition(order, states.CONFIRMED)
        db.session.commit()
        events = [h["x-erp-event"] for h, _b in receiver.requests]
        assert events == ["order.created", "order.status_changed"]
        headers, body = receiver.requests[1]
        assert webhooks.verify(hook.secret, headers["x-erp-signature"], body)
        assert not webhooks.verify("whsec_wrong", headers["x-erp-signature"], body)
        payload = json.loads(body)
        assert payload["data"]["number"] == order.number and payload["new_status"] == "confirmed"
        assert payload["data"]["lines"][0]["quantity"] == 2
        assert {d.status for d in db.session.query(WebhookDelivery)} == {"succeeded"}


def test_rolled_back_events_are_not_delivered(hooks_app, receiver):
    with hooks_app.test_request_context():
        webhooks.create_webhook(receiver.url, ["order.created"])
        db.session.commit()
        _order()
        db.session.rollback()
        assert receiver.requests == [] and db.session.query(WebhookDelivery).count() == 0


def test_failures_are_retried_with_back_off_then_given_up(hooks_app, receiver):
    receiver.status = 503
    with hooks_app.test_request_context():
        webhooks.create_webhook(receiver.url, ["order.created"])
        db.session.commit()
        _order()
        db.session.commit()
        delivery = db.session.query(WebhookDelivery).one()
        assert delivery.status == "pending" and delivery.attempts == 1 and delivery.response_code == 503
        first_delay = delivery.next_attempt_at - utcnow()
        assert timedelta(seconds=50) < first_delay <= timedelta(seconds=60)
        assert webhooks.retry_due() == 0  # not due yet
        for attempt in range(2, len(webhooks.RETRY_DELAYS) + 2):
            delivery.next_attempt_at = utcnow() - timedelta(seconds=1)
            db.session.commit()
            assert webhooks.retry_due() == 1
            db.session.commit()
            db.session.refresh(delivery)
            assert delivery.attempts == attempt
        assert delivery.status == "failed" and delivery.next_attempt_at is None
        receiver.status = 200
        webhooks.retry_now(delivery)
        db.session.commit()
        db.session.refresh(delivery)
        assert delivery.status == "succeeded" and len(receiver.requests) == len(webhooks.RETRY_DELAYS) + 2


def test_unreachable_receiver_is_logged_not_raised(hooks_app):
    with hooks_app.test_request_context():
        webhooks.create_webhook("http://127.0.0.1:9/nothing", ["order.created"])
        db.session.commit()
        _order()
        db.session.commit()
        delivery = db.session.query(WebhookDelivery).one()
        assert delivery.status == "pending" and "Error" in delivery.last_error


def test_bad_subscriptions_are_refused(hooks_app):
    with hooks_app.test_request_context():
        with pytest.raises(Exception, match="http"):
            webhooks.create_webhook("ftp://example.com", ["order.created"])
        with pytest.raises(Exception, match="event"):
            webhooks.create_webhook("https://example.com/x", ["nope"])


def test_admin_pages_create_ping_and_show_the_log(hooks_app, receiver):
    client = hooks_app.test_client()
    login(client, hooks_app, make_user(hooks_app, roles=["admin"]))
    response = client.post("/admin/webhooks/new", data={"url": receiver.url, "events": ["order.created"],
                                                        "description": "shop"})
    assert response.status_code == 302
    with hooks_app.app_context():
        hook_id = db.session.query(Webhook).one().id
    client.post(f"/admin/webhooks/{hook_id}/ping")
    page = client.get(f"/admin/webhooks/{hook_id}").get_data(as_text=True)
    assert "ping" in page and "200" in page
    assert receiver.requests[0][0]["x-erp-event"] == "ping"
    bad = client.post("/admin/webhooks/new", data={"url": "not a url", "events": []})
    assert bad.status_code == 200 and "http://" in bad.get_data(as_text=True)
    plain = hooks_app.test_client()
    login(plain, hooks_app, make_user(hooks_app))
    assert plain.get("/admin/webhooks/").status_code == 403


def test_payloads_never_carry_secrets_nonces_or_hashes(app):
    """A subscriber gets the record's business columns, never what would open a link or sign."""
    from erp_core.api.models import ApiToken
    from erp_core.webhooks import Webhook, serialize

    with app.app_context():
        data = serialize(Webhook(id=1, url="https://example.com/hook", events=["order.created"],
                                 secret="whsec_do-not-send", active=True, description="shop"))
        assert data["url"] == "https://example.com/hook" and data["description"] == "shop"
        assert "secret" not in data and "whsec_do-not-send" not in str(data)
        token_columns = serialize(ApiToken(id=2, name="shop", token_hash="abc123"))
        assert token_columns["name"] == "shop" and "abc123" not in str(token_columns)


def test_hook_erp_webhook_events(make_app, receiver):
    """A plugin's own events are offered and can be subscribed to while it is on, and delivered
    when it emits them; switched off, they are no longer offered."""
    from erp_core.plugins import switch_plugin

    app = make_app(plugins=["alpha=tests.core.fakeplugins.alpha"])
    allow_internal_webhooks(app)
    client = app.test_client()
    login(client, app, make_user(app, roles=["admin"]))
    assert "alpha.pinged" in client.get("/admin/webhooks/new").get_data(as_text=True)
    response = client.post("/admin/webhooks/new", data={"url": receiver.url, "events": ["alpha.pinged"]})
    assert response.status_code == 302
    with app.test_request_context():
        assert webhooks.known_events()["alpha.pinged"] == "Alpha was pinged"
        assert webhooks.emit("alpha.pinged", None, note="hello") == 1
        db.session.commit()
    assert receiver.requests[-1][0]["x-erp-event"] == "alpha.pinged"
    with app.test_request_context():
        switch_plugin("alpha", False)
        db.session.commit()
    with app.test_request_context():
        assert "alpha.pinged" not in webhooks.known_events()
        with pytest.raises(Exception, match="event"):
            webhooks.create_webhook("https://example.com/x", ["alpha.pinged"])
    assert "alpha.pinged" not in client.get("/admin/webhooks/new").get_data(as_text=True)


# ----------------------------------------------------------------------------- SSRF


@pytest.fixture
def guarded_app(make_app):
    """Internal targets not allowed (the default)."""
    return make_app(plugins=["orders"])


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/x", "http://localhost/x", "http://[::1]/x", "http://10.0.0.5/x", "http://192.168.1.1/x",
    "http://172.16.3.4/x", "http://169.254.169.254/latest/meta-data", "http://[fe80::1]/x", "http://224.0.0.1/x",
    "http://0.0.0.0/x", "http://240.0.0.1/x", "http://[::ffff:127.0.0.1]/x", "http://100.64.0.1/x",
    "http://2130706433/x",
])
def test_subscriptions_to_internal_addresses_are_refused(guarded_app, url):
    with guarded_app.test_request_context():
        with pytest.raises(DomainError, match="internal address|valid host"):
            webhooks.create_webhook(url, ["order.created"])
        assert db.session.query(Webhook).count() == 0


def test_a_name_resolving_to_an_internal_address_is_refused_and_public_ones_pass(guarded_app, monkeypatch):
    answers = {"rebind.example": ["93.184.215.14", "10.1.2.3"], "shop.example": ["93.184.215.14"]}
    def resolve(host, port):
        if host not in answers:
            raise OSError("Name or service not known")
        return answers[host]

    monkeypatch.setattr(outbound, "_addresses", resolve)
    with guarded_app.test_request_context():
        with pytest.raises(DomainError, match="10.1.2.3"):
            webhooks.create_webhook("https://rebind.example/hook", ["order.created"])
        assert webhooks.create_webhook("https://shop.example/hook", ["order.created"]).id
        # a name that does not resolve yet is accepted; delivery checks it again
        assert webhooks.create_webhook("https://nowhere.invalid/hook", ["order.created"]).id


def test_the_admin_form_explains_the_refusal(guarded_app):
    client = guarded_app.test_client()
    login(client, guarded_app, make_user(guarded_app, roles=["admin"]))
    response = client.post("/admin/webhooks/new", data={"url": "http://127.0.0.1:6379/", "events": ["order.created"]})
    assert response.status_code == 200 and "internal address" in response.get_data(as_text=True)


def test_delivery_checks_the_address_again(guarded_app, receiver, monkeypatch):
    """A subscription saved while allowed (or a name that now resolves inside) is not delivered."""
    allow_internal_webhooks(guarded_app)
    with guarded_app.test_request_context():
        webhooks.create_webhook(receiver.url, ["order.created"])
        db.session.commit()
    allow_internal_webhooks(guarded_app, False)
    with guarded_app.test_request_context():
        _order()
        db.session.commit()
        delivery = db.session.query(WebhookDelivery).one()
        assert delivery.status == "pending" and "internal address" in delivery.last_error
    assert receiver.requests == []
    # DNS rebinding: the name was public when saved and resolves inside at delivery
    monkeypatch.setattr(outbound, "_addresses", lambda host, port: ["127.0.0.1"])
    with pytest.raises(OSError, match="internal address"):
        outbound._connect(("shop.example", 80))


def test_the_setting_allows_internal_targets(guarded_app, receiver):
    allow_internal_webhooks(guarded_app)
    with guarded_app.test_request_context():
        webhooks.create_webhook(receiver.url, ["order.created"])
        db.session.commit()
        _order()
        db.session.commit()
    assert len(receiver.requests) == 1
