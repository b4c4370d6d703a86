"""Acceptance (issue 13): a webhook subscriber that takes 12 s to answer does not slow down order
creation, and 16 concurrent creates on the served site all succeed (SQLite and PostgreSQL). The
deliveries are made afterwards by the background runner, outside the requests, and never hold
the database while the subscriber thinks."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from erp_core import runner, webhooks
from erp_core.extensions import db
from erp_core.models import Job
from erp_core.testing import allow_internal_webhooks, api_token
from erp_core.webhooks import WebhookDelivery
from tests.orders.conftest import ALL_ORDER_PERMS, make_catalogue

DELAY = 12  # seconds the subscriber takes to answer, unless released earlier
CONCURRENT = 16


class SlowSubscriber:
    """An HTTP receiver on 127.0.0.1 that checks each delivery's signature and answers only when
    released (or after ``DELAY`` seconds)."""

    def __init__(self):
        self.release = threading.Event()
        self.received: list[dict] = []
        self.arrived = threading.Condition()
        self.secret = ""
        subscriber = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                signed = webhooks.verify(subscriber.secret, self.headers.get("X-ERP-Signature", ""), body)
                with subscriber.arrived:
                    subscriber.received.append({"signed": signed, **json.loads(body)})
                    subscriber.arrived.notify_all()
                subscriber.release.wait(DELAY)
                self.send_response(200 if signed else 401)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.received) >= count, timeout)

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def subscriber():
    receiver = SlowSubscriber()
    yield receiver
    receiver.close()


@pytest.fixture
def served(make_app, subscriber, monkeypatch):
    """The orders site served over HTTP in threads, with its background runner, a subscriber
    of ``order.created`` and an API token."""
    monkeypatch.setattr(webhooks, "TIMEOUT", DELAY * 3)  # the subscriber is slow, not dead
    app = make_app(plugins=["orders"], JOB_RUNNER="thread", JOB_POLL_INTERVAL=0.2, SCHEDULER_TICK=3600)
    catalogue = make_catalogue(app)
    token = api_token(app, perms=ALL_ORDER_PERMS)
    allow_internal_webhooks(app)
    with app.test_request_context():
        hook = webhooks.create_webhook(subscriber.url, ["order.created"])
        subscriber.secret = hook.secret
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    background = runner.Runner(app).start()
    site = {"app": app, "base": f"http://127.0.0.1:{server.server_port}", "token": token, "catalogue": catalogue,
            "runner": background}
    yield site
    subscriber.release.set()
    background.stop()
    server.shutdown()
    server.server_close()


def _create(site, note: str) -> tuple[int, float]:
    catalogue = site["catalogue"]
    body = {"customer_id": catalogue.customer_id, "contact_name": "Li Lei", "contact_phone": "138 0013 8000",
            "ship_line1": "1 Main Road", "ship_city": "Shanghai", "notes": note,
            "lines": [{"product_id": catalogue.pen_id, "quantity": 2}]}
    request = urllib.request.Request(f"{site['base']}/api/v1/orders", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {site['token']}"})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return status, time.monotonic() - started


def test_a_slow_subscriber_does_not_slow_down_order_creation(served, subscriber):
    status, elapsed = _create(served, "first")
    assert status == 201
    assert elapsed < 3, f"an order create took {elapsed:.1f} s with a slow subscriber"
    # The runner, not the request, is the one waiting on the subscriber now.
    assert subscriber.wait_for(1, timeout=20)
    assert not subscriber.release.is_set()

    barrier = threading.Barrier(CONCURRENT)
    results: list = []

    def create(number):
        barrier.wait(timeout=30)
        results.append(_create(served, f"concurrent {number}"))

    threads = [threading.Thread(target=create, args=(n,)) for n in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(status for status, _elapsed in results) == [201] * CONCURRENT
    slowest = max(elapsed for _status, elapsed in results)
    assert slowest < DELAY / 2, f"a concurrent create took {slowest:.1f} s"
    assert not subscriber.release.is_set()  # all of that while the first delivery still waits

    subscriber.release.set()
    assert subscriber.wait_for(CONCURRENT + 1, timeout=120), f"only {len(subscriber.received)} deliveries arrived"
    served["runner"].stop()  # finishes the delivery it is making
    app = served["app"]
    with app.app_context():
        deliveries = db.session.scalars(select(WebhookDelivery)).all()
        assert len(deliveries) == CONCURRENT + 1
        assert {d.status for d in deliveries} == {"succeeded"} and {d.response_code for d in deliveries} == {200}
        statuses = db.session.scalars(select(Job.status).where(Job.path == "erp_core.webhooks:deliver")).all()
        assert statuses == ["done"] * (CONCURRENT + 1)
    assert all(item["signed"] for item in subscriber.received)
    assert sorted(item["data"]["notes"] for item in subscriber.received) == sorted(
        ["first"] + [f"concurrent {n}" for n in range(CONCURRENT)])
