"""How long does a 1,000-line order take to enter, show, edit and confirm?

Runs the real pages through Flask's test client (form parsing, services, SQL, templates), on a
fresh SQLite file by default or on an empty PostgreSQL database given with ``--database-url``
(its tables are created and dropped again). Prints the time and the number of SQL statements of
each step. It is a measurement, not a test: nothing fails when it is slow.

    python bench/orders_large_order.py [--lines 1000] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from erp_core.app import create_app  # noqa: E402
from erp_core.extensions import db  # noqa: E402


def build_app(database_url: str, instance: str):
    config = {"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": database_url, "WTF_CSRF_ENABLED": False,
              "LOAD_ENTRY_POINTS": False, "PLUGINS": ["orders"], "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
              "REDIS_URL": "", "MAIL_SERVER": "", "LOG_LEVEL": "WARNING"}
    app = create_app(config, instance=instance)
    with app.app_context():
        db.metadata.create_all(db.engine)
        from erp_core.auth.services import sync_roles_and_permissions

        sync_roles_and_permissions()
        db.session.commit()
    return app


class Counter:
    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._hit)
        self.count, self.started = 0, time.perf_counter()
        return self

    def _hit(self, *_args):
        self.count += 1

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
        event.remove(self.engine, "before_cursor_execute", self._hit)


def run(app, lines: int, rounds: int) -> dict[str, list]:
    from plugins.orders import services
    from plugins.orders.models import Order
    from tests.helpers import login, make_user

    with app.test_request_context():
        customer = services.create_customer("Bench Customer", "138 0000 0000", address={"line1": "1 Bench Road"})
        products = [services.create_product(f"B-{n:05d}", f"Bench product {n}", f"{n % 97 + 1}.35", "CNY").id
                    for n in range(lines + 20)]
        db.session.commit()
        customer_id, engine = customer.id, db.engine
    client = app.test_client()
    login(client, app, make_user(app, roles=["admin"]))
    results: dict[str, list] = {}

    def step(name, method, url, data=None):
        with Counter(engine) as counted:
            response = client.open(url, method=method, data=data)
        assert response.status_code in (200, 302), (name, response.status_code, response.get_data(as_text=True)[:500])
        results.setdefault(name, []).append((counted.seconds, counted.count))
        return response

    for _round in range(rounds):
        form = {"customer_id": str(customer_id), "ship_line1": "1 Bench Road", "currency": "CNY"}
        for i, pid in enumerate(products[:lines]):
            form.update({f"lines-{i}-product_id": str(pid), f"lines-{i}-quantity": "2", f"lines-{i}-discount": "5"})
        response = step("create (POST /orders/new)", "POST", "/orders/new", form)
        order_url = response.headers["Location"]
        order_id = int(order_url.rsplit("/", 1)[1])
        step("show (GET order page)", "GET", order_url)
        step("edit form (GET)", "GET", order_url + "/edit")
        with app.app_context():
            order = db.session.get(Order, order_id)
            line_ids, version = [line.id for line in order.lines], order.version
        # every quantity changes, 10 lines go, 10 new ones come, the address changes
        form = {"customer_id": str(customer_id), "ship_line1": "2 Bench Road", "currency": "CNY", "version": str(version)}
        kept = list(zip(line_ids[10:], products[10:lines]))
        for i, (lid, pid) in enumerate(kept):
            form.update({f"lines-{i}-line_id": str(lid), f"lines-{i}-product_id": str(pid), f"lines-{i}-quantity": "3",
                         f"lines-{i}-discount": "5"})
        for j, pid in enumerate(products[lines:lines + 10], start=len(kept)):
            form.update({f"lines-{j}-product_id": str(pid), f"lines-{j}-quantity": "1"})
        step("edit (POST, all quantities, -10/+10 lines)", "POST", order_url + "/edit", form)
        with app.app_context():
            version = db.session.get(Order, order_id).version
        step("confirm (POST action)", "POST", order_url + "/actions/confirm", {"version": str(version)})
        step("print page (GET)", "GET", order_url + "/print")
        with app.app_context():
            order = db.session.get(Order, order_id)
            assert order.status == "confirmed" and len(order.lines) == lines, (order.status, len(order.lines))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="an EMPTY PostgreSQL database (default: a new SQLite file)")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="erp-bench-")
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite"
    app = build_app(url, folder)
    try:
        results = run(app, args.lines, args.rounds)
    finally:
        if args.database_url:
            with app.app_context():
                db.session.remove()
                db.metadata.drop_all(db.engine)
    backend = url.split(":", 1)[0]
    print(f"{args.lines}-line order on {backend}, {args.rounds} rounds (median time, SQL statements)")
    for name, samples in results.items():
        seconds = statistics.median(s for s, _n in samples)
        statements = sorted({n for _s, n in samples})
        print(f"  {name:46s} {seconds * 1000:8.0f} ms   {statements} statements")


if __name__ == "__main__":
    main()
