"""Scale-out: 50 buyers race for the last 10 units through two gunicorn processes (four workers)
on one PostgreSQL database, over the JSON API. Exactly 10 confirmations succeed, 40 are refused
cleanly (409 problem+json), none fails with a server error, and the stock agrees with the ledger.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from erp_core.api.tokens import create_token
from erp_core.auth.models import User
from erp_core.extensions import db
from tests.conftest import PG_URL, REDIS_URL
from tests.helpers import make_user
from tests.inventory.common import PLUGINS, catalogue, receive
from tests.scale.test_two_processes import ROOT, Server

BUYERS = 50
UNITS = 10

pytestmark = pytest.mark.skipif(not (PG_URL and REDIS_URL),
                                reason="needs ERP_TEST_DATABASE_URL (PostgreSQL) and ERP_TEST_REDIS_URL")


def call(server: Server, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(server.url(path), method=method, data=json.dumps(body or {}).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                                              "Accept-Language": "en"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@pytest.fixture
def shop(make_app, pg_url):
    app = make_app(plugins=PLUGINS)
    user_id = make_user(app, roles=["admin"], username="buyer-bot")
    with app.app_context():
        customer, (pen, _ink, _pad) = catalogue()
        from plugins.inventory import services as inv

        receive(inv.default_warehouse(), {pen: UNITS})
        _row, token = create_token(db.session.get(User, user_id), "race")
        db.session.commit()
        ids = {"customer": customer.id, "pen": pen.id}
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("ERP_")}
    env.update({"PYTHONPATH": str(ROOT), "ERP_DATABASE_URL": pg_url, "ERP_SECRET_KEY": app.config["SECRET_KEY"],
                "ERP_PLUGINS": ",".join(PLUGINS), "ERP_LOAD_ENTRY_POINTS": "0", "ERP_REDIS_URL": REDIS_URL,
                "ERP_JOB_QUEUE": f"erp-race-{uuid.uuid4().hex[:8]}", "ERP_INSTANCE_PATH": str(Path(app.instance_path)),
                "ERP_LOG_LEVEL": "WARNING"})
    return app, env, token, ids


def test_fifty_buyers_for_ten_units_across_two_processes(shop):
    app, env, token, ids = shop
    servers = [Server(env), Server(env)]
    try:
        order_ids = []
        for i in range(BUYERS):
            status, body = call(servers[i % 2], "POST", "/api/v1/orders", token, {
                "customer_id": ids["customer"], "contact_name": f"Buyer {i}", "contact_phone": "13800000000",
                "ship_line1": "1 Race Road", "ship_city": "Shanghai",
                "lines": [{"product_id": ids["pen"], "quantity": 1}]})
            assert status == 201, body
            order_ids.append(body["id"])

        barrier = threading.Barrier(BUYERS)
        results: list[tuple[int, dict]] = []
        lock = threading.Lock()

        def buyer(i, order_id):
            barrier.wait(timeout=60)
            outcome = call(servers[i % 2], "POST", f"/api/v1/orders/{order_id}/transitions", token,
                           {"action": "confirm"})
            with lock:
                results.append(outcome)

        threads = [threading.Thread(target=buyer, args=(i, oid)) for i, oid in enumerate(order_ids)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(180)
        statuses = sorted(status for status, _ in results)
        assert len(results) == BUYERS
        assert statuses.count(200) == UNITS, statuses
        assert statuses.count(409) == BUYERS - UNITS, statuses
        refusals = [body for status, body in results if status == 409]
        assert all(body.get("code") and body.get("detail") for body in refusals), refusals[:3]
    finally:
        for server in servers:
            server.stop()

    from plugins.inventory.models import Level, Move
    from plugins.orders.models import Order

    with app.app_context():
        db.session.expire_all()
        assert db.session.scalar(select(func.count()).select_from(Order).where(Order.status == "confirmed")) == UNITS
        level = db.session.scalar(select(Level).where(Level.product_id == ids["pen"]))
        assert level.reserved == UNITS and level.on_hand == UNITS
        ledger = db.session.execute(select(func.sum(Move.on_hand_delta), func.sum(Move.reserved_delta))
                                    .where(Move.product_id == ids["pen"])).one()
        assert tuple(ledger) == (level.on_hand, level.reserved)
