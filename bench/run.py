"""The benchmark runner: one command, one machine, one run; JSON results and a table in docs/PERFORMANCE.md.

    python -m bench.run                                   # full size on SQLite
    python -m bench.run --sqlite --postgres postgresql://postgres@127.0.0.1:5432/erp_bench_run
    python -m bench.run --smoke --out /tmp/smoke.json     # tiny sizes, a few seconds (CI)

For each database it generates a site (``bench.generate``), starts the project under gunicorn
(``erp_core.wsgi:app``, as docs/DEPLOY.md does) and measures through HTTP:

1. create + confirm a 3-line order (reservation, audit) over the REST API at 1 and 20
   concurrent clients: orders/s, p50 and p95 of the pair of requests;
2. the same work on the flat reference app (``bench/reference/app.py``) under the same gunicorn
   settings; the ratio project / reference;
3. the order list page (filtered, sorted, page 50) and order detail pages, p50/p95;
4. 50 buyers racing for the last 10 units, repeated: successes, clean refusals (409), server errors;
5. the peak RSS of a gunicorn worker (VmHWM) after all of that;
6. then it adds orders up to ``--report-lines`` order lines and times every finance report.

See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import ROOT, backend_of, build_app, drop_database, fresh_database, is_sqlite, server_env

TARGETS = {"orders_per_s": 150, "ratio": 0.6, "list_p95_ms": 150, "detail_p95_ms": 50, "report_s": 3.0,
           "worker_rss_mb": 150, "race": [10, 40, 0]}
FULL = {"orders": 100_000, "products": 10_000, "report_lines": 1_000_000, "ops_1": 300, "ops_20": 1000,
        "page_samples": 200, "race_repetitions": 100}
SMOKE = {"orders": 300, "products": 200, "report_lines": 2500, "ops_1": 10, "ops_20": 40, "page_samples": 6,
         "race_repetitions": 2}
RACE_BUYERS, RACE_UNITS = 50, 10
HTTP_PRODUCTS = 100
DOC_BEGIN, DOC_END = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


# ----------------------------------------------------------------------------- gunicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """A gunicorn serving ``app`` with ``workers`` x ``threads``; knows its workers' peak memory."""

    def __init__(self, app: str, env: dict, workers: int, threads: int, probe: str = "/healthz"):
        self.port = free_port()
        gunicorn = Path(sys.executable).with_name("gunicorn")
        command = [str(gunicorn), "--workers", str(workers), "--bind", f"127.0.0.1:{self.port}",
                   "--log-level", "warning", "--timeout", "120", "--backlog", "2048"]
        if threads > 1:
            command += ["--threads", str(threads)]
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(command + [app], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                        stderr=self.log)
        import requests

        deadline = time.time() + 90
        while time.time() < deadline:
            if self.process.poll() is not None:
                break
            try:
                requests.get(self.url(probe), timeout=5)
                return
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn {app} did not start: {self.errors()}")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def worker_pids(self) -> list[int]:
        pid = self.process.pid
        try:
            return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []

    def peak_rss_mb(self) -> list[float]:
        """VmHWM (peak resident memory) of each worker, in MiB."""
        peaks = []
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"VmHWM:\s+(\d+) kB", status)
            if match:
                peaks.append(round(int(match.group(1)) / 1024, 1))
        return peaks

    def cpu_seconds(self) -> float:
        """User + system CPU time the workers have used so far (from /proc/<pid>/stat)."""
        total = 0
        for pid in self.worker_pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        return total / os.sysconf("SC_CLK_TCK")

    def errors(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-3000:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# ----------------------------------------------------------------------------- load


def run_load(operation, clients: int, total: int, warmup: int = 0) -> dict:
    """Run ``operation(session)`` ``total`` times from ``clients`` threads (each its own HTTP
    session). ``operation`` returns None on success or a short error text. Returns throughput,
    latency percentiles and errors."""
    import requests

    lock = threading.Lock()
    state = {"issued": 0}
    latencies: list[float] = []
    errors: list[str] = []

    def worker(count_limit: int, record: bool):
        session = requests.Session()
        while True:
            with lock:
                if state["issued"] >= count_limit:
                    return
                state["issued"] += 1
            began = time.perf_counter()
            try:
                problem = operation(session)
            except Exception as exc:  # a refused connection, a timeout: the server failed us
                problem = f"{type(exc).__name__}"
            elapsed = time.perf_counter() - began
            if record:
                with lock:
                    latencies.append(elapsed)
                    if problem:
                        errors.append(problem)

    def phase(count: int, record: bool) -> float:
        state["issued"] = 0
        threads = [threading.Thread(target=worker, args=(count, record)) for _ in range(clients)]
        began = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return time.perf_counter() - began

    if warmup:
        phase(warmup, False)
    wall = phase(total, True)
    ok = len(latencies) - len(errors)
    return {"clients": clients, "operations": len(latencies), "errors": len(errors),
            "error_samples": sorted(set(errors))[:5], "seconds": round(wall, 3),
            "per_s": round(ok / wall, 1) if wall else 0.0,
            "p50_ms": round(percentile(latencies, 50) * 1000, 1), "p95_ms": round(percentile(latencies, 95) * 1000, 1)}


def erp_create_confirm(base: str, token: str, customers: list[int], products: list[int]):
    """One API client's operation: create a 3-line order, then confirm it."""
    headers = {"Authorization": f"Bearer {token}"}

    def operation(session) -> str | None:
        lines = [{"product_id": p, "quantity": 1} for p in random.sample(products, 3)]
        response = session.post(base + "/api/v1/orders", headers=headers, timeout=120, json={
            "customer_id": random.choice(customers), "contact_name": "Bench Buyer", "contact_phone": "13800000000",
            "ship_line1": "人民路 1 号", "ship_city": "上海", "lines": lines})
        if response.status_code != 201:
            return f"create {response.status_code}"
        order_id = response.json()["id"]
        response = session.post(f"{base}/api/v1/orders/{order_id}/transitions", headers=headers, timeout=120,
                                json={"action": "confirm"})
        return None if response.status_code == 200 else f"confirm {response.status_code}"

    return operation


def reference_create_confirm(base: str, products: int = 100):
    def operation(session) -> str | None:
        lines = [{"product_id": p, "quantity": 1} for p in random.sample(range(1, products + 1), 3)]
        response = session.post(base + "/orders", json={"customer_id": 1, "lines": lines}, timeout=120)
        if response.status_code != 201:
            return f"create {response.status_code}"
        response = session.post(f"{base}/orders/{response.json()['id']}/confirm", timeout=120)
        return None if response.status_code == 200 else f"confirm {response.status_code}"

    return operation


# ----------------------------------------------------------------------------- set-up in the site


def prepare_site(app, race_repetitions: int) -> dict:
    """A token for the bench user, products with plenty of stock for the load, and one product per
    race repetition holding exactly the last 10 units (made by the services, so audited)."""
    from sqlalchemy import select

    from bench.generate import BENCH_USER
    from erp_core.api.tokens import create_token
    from erp_core.auth.models import User
    from erp_core.extensions import db
    from plugins.inventory import services as inventory
    from plugins.orders import services as orders
    from plugins.orders.models import Customer

    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.username == BENCH_USER))
        _row, token = create_token(user, "bench run")
        warehouse = inventory.default_warehouse().id
        load = [orders.create_product(f"HTTP-{i:04d}", f"Bench load product {i}", "12.50", "CNY").id
                for i in range(1, HTTP_PRODUCTS + 1)]
        db.session.flush()
        inventory.receive_goods(warehouse, {p: 1_000_000 for p in load}, supplier="Bench")
        race = [orders.create_product(f"RACE-{i:04d}", f"Last units {i}", "99.00", "CNY").id
                for i in range(1, race_repetitions + 1)]
        db.session.flush()
        inventory.receive_goods(warehouse, {p: RACE_UNITS for p in race}, supplier="Bench")
        customers = list(db.session.scalars(select(Customer.id).order_by(Customer.id).limit(200)))
        db.session.commit()
    return {"token": token, "load_products": load, "race_products": race, "customers": customers}


# ----------------------------------------------------------------------------- measurements


def load_with_cpu(server: Gunicorn, operation, clients: int, total: int) -> dict:
    """:func:`run_load` plus the server's CPU time per operation: on a machine shared with other
    work the wall-clock rate depends on the neighbours, the CPU cost much less. (PostgreSQL's own
    processes are not counted.)"""
    run_load(operation, clients, min(20, total))  # warm every worker
    before = server.cpu_seconds()
    result = run_load(operation, clients, total)
    cpu = server.cpu_seconds() - before
    result["server_cpu_ms_per_op"] = round(cpu * 1000 / max(result["operations"], 1), 1)
    return result


def measure_create_confirm(server: Gunicorn, site: dict, sizes: dict) -> dict:
    out = {}
    for clients, key in ((1, "ops_1"), (20, "ops_20")):
        op = erp_create_confirm(server.url(""), site["token"], site["customers"], site["load_products"])
        out[str(clients)] = load_with_cpu(server, op, clients, sizes[key])
        log(f"  create+confirm x{clients}: {out[str(clients)]}")
    return out


def measure_reference(db_url: str, workdir: Path, sizes: dict, workers: int, threads: int) -> dict:
    from bench.reference.app import make_engine, seed

    engine = make_engine(db_url)
    seed(engine, products=HTTP_PRODUCTS)
    engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ERP_")}
    env.update({"PYTHONPATH": str(ROOT), "ERP_BENCH_DATABASE_URL": db_url})
    server = Gunicorn("bench.reference.app:create_app()", env, workers, threads, probe="/")
    out = {}
    try:
        for clients, key in ((1, "ops_1"), (20, "ops_20")):
            out[str(clients)] = load_with_cpu(server, reference_create_confirm(server.url("")), clients, sizes[key])
            log(f"  reference x{clients}: {out[str(clients)]}")
        out["worker_rss_mb"] = server.peak_rss_mb()
    finally:
        server.stop()
    return out


def sign_in(server: Gunicorn):
    """A requests session signed in as the bench user through the real login form."""
    import requests

    from bench.generate import BENCH_PASSWORD, BENCH_USER

    session = requests.Session()
    page = session.get(server.url("/login"), timeout=30).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    response = session.post(server.url("/login"), data={"username": BENCH_USER, "password": BENCH_PASSWORD,
                                                         "csrf_token": token.group(1) if token else ""},
                            allow_redirects=False, timeout=30)
    if response.status_code != 302:
        raise RuntimeError(f"cannot sign in as {BENCH_USER}: {response.status_code}")
    return session


LIST_URL = "/orders/?status=completed&sort=-created&page=50"
LIST_URL_SEARCH = "/orders/?q=13&sort=-total&page=50"


def measure_pages(server: Gunicorn, app, samples: int) -> dict:
    from sqlalchemy import text

    from erp_core.extensions import db

    with app.app_context():
        high = db.session.scalar(text("SELECT MAX(id) FROM orders_order"))
        db.session.rollback()
    session = sign_in(server)
    rng = random.Random(3)
    out = {}
    for name, urls in (("list", [LIST_URL] * samples), ("list_search", [LIST_URL_SEARCH] * max(samples // 4, 2)),
                       ("detail", [f"/orders/{rng.randint(1, high)}" for _ in range(samples)])):
        for url in urls[:4]:  # warm: every worker draws the page once (templates compiled, caches filled)
            session.get(server.url(url), timeout=60)
        timings, bad = [], []
        for url in urls:
            began = time.perf_counter()
            response = session.get(server.url(url), timeout=60)
            timings.append(time.perf_counter() - began)
            if response.status_code != 200:
                bad.append(f"{url} {response.status_code}")
        out[name] = {"url": urls[0] if name != "detail" else "/orders/<random id>", "samples": len(urls),
                     "errors": len(bad), "error_samples": bad[:3],
                     "p50_ms": round(percentile(timings, 50) * 1000, 1),
                     "p95_ms": round(percentile(timings, 95) * 1000, 1)}
        log(f"  page {name}: {out[name]}")
    return out


def measure_race(server: Gunicorn, site: dict, repetitions: int) -> dict:
    """50 buyers each put 1 unit of a product with 10 left in an order, then all confirm at once."""
    import requests

    headers = {"Authorization": f"Bearer {site['token']}"}
    results = []
    for product in site["race_products"][:repetitions]:
        barrier = threading.Barrier(RACE_BUYERS)
        outcome: list[str] = []
        lock = threading.Lock()

        def buyer(i: int, product=product, barrier=barrier, lock=lock, outcome=outcome):
            session = requests.Session()
            kind = "error"
            try:
                response = session.post(server.url("/api/v1/orders"), headers=headers, timeout=120, json={
                    "customer_id": site["customers"][i % len(site["customers"])], "contact_name": f"Buyer {i}",
                    "contact_phone": "13900000000", "ship_line1": "中山路 2 号", "ship_city": "南京",
                    "lines": [{"product_id": product, "quantity": 1}]})
                order_id = response.json()["id"] if response.status_code == 201 else None
                barrier.wait(timeout=120)
                if order_id is not None:
                    response = session.post(server.url(f"/api/v1/orders/{order_id}/transitions"), headers=headers,
                                            json={"action": "confirm"}, timeout=120)
                    kind = "success" if response.status_code == 200 else "refused" \
                        if response.status_code == 409 else "error"
            except (requests.RequestException, threading.BrokenBarrierError):
                kind = "error"
            with lock:
                outcome.append(kind)

        threads = [threading.Thread(target=buyer, args=(i,)) for i in range(RACE_BUYERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        results.append([outcome.count("success"), outcome.count("refused"), outcome.count("error")])
    expected = [RACE_UNITS, RACE_BUYERS - RACE_UNITS, 0]
    out = {"buyers": RACE_BUYERS, "units": RACE_UNITS, "repetitions": len(results), "results": results,
           "all_as_expected": all(r == expected for r in results),
           "totals": [sum(r[i] for r in results) for i in range(3)]}
    log(f"  race: all as expected {out['all_as_expected']}, totals {out['totals']}")
    return out


def measure_reports(app) -> dict:
    from bench.finance_reports import run_reports

    results = run_reports(app)
    slowest: dict[str, float] = {}
    for key, _label, seconds, _rows in results:
        slowest[key] = round(max(slowest.get(key, 0.0), seconds), 3)
    out = {"cases": [{"report": k, "case": label, "seconds": round(s, 3), "rows": n} for k, label, s, n in results],
           "slowest_per_report": slowest}
    log(f"  reports: {slowest}")
    return out


def count_lines(app) -> int:
    from sqlalchemy import text

    from erp_core.extensions import db

    with app.app_context():
        n = db.session.scalar(text("SELECT COUNT(*) FROM orders_order_line"))
        db.session.rollback()
    return int(n)


# ----------------------------------------------------------------------------- profiles


def profile(app, site: dict, out_dir: Path, backend: str, what: list[str]) -> dict:
    """pyinstrument profiles of the measured work, in-process (``pip install -e '.[bench]'``)."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        return {"skipped": "pyinstrument is not installed (pip install -e '.[bench]')"}
    from sqlalchemy import select

    from bench.generate import BENCH_USER
    from erp_core.auth.models import User
    from erp_core.extensions import db
    from erp_core.testing import login

    out_dir.mkdir(parents=True, exist_ok=True)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {site['token']}"}
    found = {}
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == BENCH_USER))
    browser = app.test_client()
    login(browser, app, user_id)

    def create_confirm(n=50):
        for _ in range(n):
            lines = [{"product_id": p, "quantity": 1} for p in random.sample(site["load_products"], 3)]
            response = client.post("/api/v1/orders", headers=headers, json={
                "customer_id": site["customers"][0], "contact_name": "Bench Buyer", "contact_phone": "13800000000",
                "ship_line1": "人民路 1 号", "ship_city": "上海", "lines": lines})
            client.post(f"/api/v1/orders/{response.get_json()['id']}/transitions", headers=headers,
                        json={"action": "confirm"})

    jobs = {"create_confirm": create_confirm,
            "list": lambda: [browser.get(LIST_URL) for _ in range(10)],
            "detail": lambda: [browser.get(f"/orders/{i}") for i in range(1000, 1050)]}
    for name in what:
        if name not in jobs:
            continue
        jobs[name]()  # warm
        profiler = Profiler(interval=0.0005)
        profiler.start()
        jobs[name]()
        profiler.stop()
        path = out_dir / f"profile-{backend}-{name}.txt"
        path.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
        found[name] = str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return found


# ----------------------------------------------------------------------------- one backend


def run_backend(url: str, workdir: Path, sizes: dict, workers: int, threads: int, do_profile: bool,
                results_dir: Path) -> dict:
    from bench.generate import generate
    from bench.invariants import problems

    backend = backend_of(url)
    out: dict = {"database": backend}
    instance = workdir / f"instance-{backend}"
    log(f"{backend}: generating {sizes['orders']} orders")
    fresh_database(url)
    began = time.perf_counter()
    app = build_app(url, instance)
    migrated = time.perf_counter() - began
    counts = generate(app, sizes["orders"], sizes["products"], progress=sys.stderr.isatty())
    out["generate"] = {"orders": sizes["orders"], "migrations_s": round(migrated, 2), "seconds": round(counts.seconds, 1),
                       "rows": sum(counts.rows.values()), "tables": counts.rows}
    log(f"  generated {out['generate']['rows']:,} rows in {counts.seconds:.1f} s")
    site = prepare_site(app, sizes["race_repetitions"])
    server = Gunicorn("erp_core.wsgi:app", server_env(url, instance), workers, threads)
    try:
        out["create_confirm"] = measure_create_confirm(server, site, sizes)
        out["pages"] = measure_pages(server, app, sizes["page_samples"])
        out["race"] = measure_race(server, site, sizes["race_repetitions"])
        peaks = server.peak_rss_mb()
        out["memory"] = {"worker_peak_rss_mb": max(peaks) if peaks else None, "workers": peaks}
        log(f"  worker peak RSS: {peaks} MiB")
        out["server_log"] = server.errors()[-1500:]
    finally:
        server.stop()
    ref_url = f"sqlite:///{workdir / 'reference.sqlite'}" if is_sqlite(url) else \
        url.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1] + "_ref"
    fresh_database(ref_url)
    try:
        out["reference"] = measure_reference(ref_url, workdir, sizes, workers, threads)
    finally:
        drop_database(ref_url)
    out["ratio"] = {c: round(out["create_confirm"][c]["per_s"] / out["reference"][c]["per_s"], 2)
                    if out["reference"][c]["per_s"] else None for c in ("1", "20")}
    out["cpu_ratio"] = {c: round(out["reference"][c]["server_cpu_ms_per_op"] /
                                 out["create_confirm"][c]["server_cpu_ms_per_op"], 2)
                        if out["create_confirm"][c]["server_cpu_ms_per_op"] else None for c in ("1", "20")}
    log(f"  ratio project/reference: {out['ratio']}, by server CPU: {out['cpu_ratio']}")
    lines = count_lines(app)
    while lines < sizes["report_lines"]:  # 5 lines an order on average: a second, small round tops it up
        more = (sizes["report_lines"] - lines) // 5 + 1
        log(f"  adding {more} orders for the reports ({lines} lines now)")
        generate(app, more, progress=sys.stderr.isatty(), append=True)
        lines = count_lines(app)
    out["reports"] = measure_reports(app)
    out["reports"]["order_lines"] = count_lines(app)
    log("  checking the invariants")
    out["invariants"] = problems(app)
    if do_profile:
        out["profiles"] = profile(app, site, results_dir, backend, ["create_confirm", "list", "detail"])
    from erp_core.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return out


# ----------------------------------------------------------------------------- report


def machine() -> dict:
    model = ""
    try:
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    except OSError:
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    return {"cpus": os.cpu_count(), "cpu_model": model, "load_average_at_start": list(os.getloadavg()),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "commit": commit,
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)}


def verdicts(result: dict) -> dict:
    """``{check: [measured, target, met]}`` per backend."""
    out = {}
    for backend, r in result["backends"].items():
        v = {}
        for c in ("1", "20"):
            v[f"create+confirm x{c} orders/s"] = [r["create_confirm"][c]["per_s"], TARGETS["orders_per_s"],
                                                  r["create_confirm"][c]["per_s"] >= TARGETS["orders_per_s"]]
            ratio = r["ratio"][c]
            v[f"ratio project/reference x{c}"] = [ratio, TARGETS["ratio"], bool(ratio and ratio > TARGETS["ratio"])]
        v["list p95 ms"] = [r["pages"]["list"]["p95_ms"], TARGETS["list_p95_ms"],
                            r["pages"]["list"]["p95_ms"] < TARGETS["list_p95_ms"]]
        v["detail p95 ms"] = [r["pages"]["detail"]["p95_ms"], TARGETS["detail_p95_ms"],
                              r["pages"]["detail"]["p95_ms"] < TARGETS["detail_p95_ms"]]
        slowest = max(r["reports"]["slowest_per_report"].values())
        v["slowest report s"] = [slowest, TARGETS["report_s"], slowest < TARGETS["report_s"]]
        v["race 10/40/0 every time"] = [r["race"]["totals"], TARGETS["race"], r["race"]["all_as_expected"]]
        rss = r["memory"]["worker_peak_rss_mb"]
        v["worker peak RSS MiB"] = [rss, TARGETS["worker_rss_mb"], bool(rss and rss < TARGETS["worker_rss_mb"])]
        out[backend] = v
    return out


class _Table:
    """The markdown table of one run: a row per measure, a column per database."""

    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}

    def __init__(self, result: dict):
        self.backends = list(result["backends"])
        self.R, self.V = result["backends"], result["verdicts"]
        self.rows: list[str] = []

    def row(self, label: str, cells, target: str) -> None:
        self.rows.append(f"| {label} | " + " | ".join(cells) + f" | {target} |")

    @staticmethod
    def mark(ok: bool) -> str:
        return "" if ok else " **missed**"

    def head(self) -> str:
        return ("| | " + " | ".join(self.names[b] for b in self.backends) + " | target |\n|---|"
                + "---|" * (len(self.backends) + 1))

    def throughput(self) -> None:
        R, V, mark, backends = self.R, self.V, self.mark, self.backends
        self.row("data: orders / rows generated / seconds", [
            f"{R[b]['generate']['orders']:,} / {R[b]['generate']['rows']:,} / {R[b]['generate']['seconds']} s"
            for b in backends], "100k orders in about a minute")
        for c in ("1", "20"):
            s = "s" if c != "1" else ""
            self.row(f"create+confirm, {c} client{s}: orders/s (p50 / p95 ms)", [
                f"{R[b]['create_confirm'][c]['per_s']} ({R[b]['create_confirm'][c]['p50_ms']} / "
                f"{R[b]['create_confirm'][c]['p95_ms']}){mark(V[b][f'create+confirm x{c} orders/s'][2])}"
                + (f", {R[b]['create_confirm'][c]['errors']} errors" if R[b]['create_confirm'][c]['errors'] else "")
                for b in backends], f">= {TARGETS['orders_per_s']}/s")
            self.row(f"reference app, {c} client{s}: orders/s (p50 / p95 ms)", [
                f"{R[b]['reference'][c]['per_s']} ({R[b]['reference'][c]['p50_ms']} / "
                f"{R[b]['reference'][c]['p95_ms']})" for b in backends], "")
            self.row(f"ratio project / reference, {c} client{s}", [
                f"{R[b]['ratio'][c]}{mark(V[b][f'ratio project/reference x{c}'][2])}" for b in backends],
                f"> {TARGETS['ratio']}")
            self.row(f"server CPU ms per create+confirm, {c} client{s}: project / reference "
                     "(ratio reference / project)", [
                f"{R[b]['create_confirm'][c]['server_cpu_ms_per_op']} / "
                f"{R[b]['reference'][c]['server_cpu_ms_per_op']} ({R[b]['cpu_ratio'][c]})" for b in backends], "")

    def pages(self) -> None:
        R, V, mark, backends = self.R, self.V, self.mark, self.backends
        self.row(f"order list `{LIST_URL}`: p50 / p95 ms", [
            f"{R[b]['pages']['list']['p50_ms']} / {R[b]['pages']['list']['p95_ms']}{mark(V[b]['list p95 ms'][2])}"
            for b in backends], f"p95 < {TARGETS['list_p95_ms']} ms")
        self.row(f"order list search `{LIST_URL_SEARCH}`: p50 / p95 ms", [
            f"{R[b]['pages']['list_search']['p50_ms']} / {R[b]['pages']['list_search']['p95_ms']}"
            for b in backends], "")
        self.row("order detail (random orders): p50 / p95 ms", [
            f"{R[b]['pages']['detail']['p50_ms']} / {R[b]['pages']['detail']['p95_ms']}"
            f"{mark(V[b]['detail p95 ms'][2])}" for b in backends], f"p95 < {TARGETS['detail_p95_ms']} ms")
        reports = sorted({k for b in backends for k in R[b]["reports"]["slowest_per_report"]})
        for key in reports:
            self.row(f"report `{key}`, slowest case: s", [
                f"{R[b]['reports']['slowest_per_report'].get(key)}"
                f"{mark(R[b]['reports']['slowest_per_report'].get(key, 0) < TARGETS['report_s'])}"
                for b in backends], f"< {TARGETS['report_s']} s")
        self.row("order lines under the reports", [f"{R[b]['reports']['order_lines']:,}" for b in backends], "1M")

    def integrity(self) -> None:
        R, V, mark, backends = self.R, self.V, self.mark, self.backends
        every = {True: "10/40/0 every time", False: "**not 10/40/0 every time**"}
        self.row(f"race: {RACE_BUYERS} buyers for the last {RACE_UNITS} units: successes / refusals / server errors",
                 [f"{R[b]['race']['totals'][0]} / {R[b]['race']['totals'][1]} / {R[b]['race']['totals'][2]} over "
                  f"{R[b]['race']['repetitions']} runs, {every[bool(R[b]['race']['all_as_expected'])]}"
                  for b in backends], "10 / 40 / 0 every run")
        self.row("peak RSS of a gunicorn worker (MiB)", [
            f"{R[b]['memory']['worker_peak_rss_mb']}{mark(V[b]['worker peak RSS MiB'][2])}" for b in backends],
            f"< {TARGETS['worker_rss_mb']}")
        self.row("invariants after the run", [
            "hold" if not R[b]["invariants"] else f"**{len(R[b]['invariants'])} broken**" for b in backends], "hold")


def _run_text(meta: dict) -> str:
    machine = meta["machine"]
    return (f"Run of {meta['date']} (UTC) on {machine['cpus']} CPUs ({machine['cpu_model']}), "
            f"{machine['memory_gb']} GB, Python {machine['python']}, SQLite {machine['sqlite']}"
            + (f", PostgreSQL {meta['postgresql_version']}" if meta.get("postgresql_version") else "")
            + f", commit {machine['commit']}; gunicorn {meta['gunicorn']['workers']} workers x "
              f"{meta['gunicorn']['threads']} threads; load average at start "
              f"{', '.join(f'{x:.2f}' for x in machine['load_average_at_start'])}."
            + (" Smoke sizes: the numbers mean nothing." if meta["smoke"] else ""))


def markdown(result: dict) -> str:
    """The run as text and a markdown table, as docs/PERFORMANCE.md shows it."""
    table = _Table(result)
    table.throughput()
    table.pages()
    table.integrity()
    return f"{_run_text(result['meta'])}\n\n{table.head()}\n" + "\n".join(table.rows) + "\n"


def write_doc(path: Path, result: dict) -> None:
    section = f"{DOC_BEGIN}\n<!-- generated by `python -m bench.run`; do not edit by hand -->\n\n{markdown(result)}\n{DOC_END}"
    if path.exists():
        current = path.read_text()
        if DOC_BEGIN in current and DOC_END in current:
            before, rest = current.split(DOC_BEGIN, 1)
            after = rest.split(DOC_END, 1)[1]
            path.write_text(before + section + after)
            return
        path.write_text(current.rstrip() + "\n\n" + section + "\n")
        return
    path.write_text("# Performance\n\n" + section + "\n")


def postgres_version(url: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(make_url(url).set(database="postgres"))
    with engine.connect() as conn:
        version = conn.execute(text("SHOW server_version")).scalar()
    engine.dispose()
    return str(version)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: proves the runner works (CI)")
    parser.add_argument("--sqlite", action="store_true", help="measure on SQLite (default when no --postgres)")
    parser.add_argument("--postgres", metavar="URL", help="measure on this PostgreSQL database too (dropped and "
                                                           "recreated; its name must contain 'bench')")
    parser.add_argument("--out", default=None, help="results JSON (default bench/results/<date>.json)")
    parser.add_argument("--doc", default=None, help="markdown file whose generated section gets the table "
                                                     "(default docs/PERFORMANCE.md; not written with --smoke "
                                                     "unless given)")
    parser.add_argument("--orders", type=int, default=None)
    parser.add_argument("--report-lines", type=int, default=None)
    parser.add_argument("--race-repetitions", type=int, default=None)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (default 1: sync)")
    parser.add_argument("--workdir", default=None, help="where SQLite files and instances go (default: a temp dir)")
    parser.add_argument("--profile", action="store_true", help="also write pyinstrument profiles (bench extra)")
    args = parser.parse_args(argv)
    sizes = dict(SMOKE if args.smoke else FULL)
    for key in ("orders", "report_lines", "race_repetitions"):
        if getattr(args, key) is not None:
            sizes[key] = getattr(args, key)
    urls = []
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="erp-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if args.sqlite or not args.postgres:
        urls.append(f"sqlite:///{workdir / 'erp.sqlite'}")
    if args.postgres:
        urls.append(args.postgres)
    os.environ.setdefault("ERP_SECRET_KEY", "bench")
    today = datetime.now(UTC)
    results_dir = ROOT / "bench" / "results"
    result = {"meta": {"date": today.strftime("%Y-%m-%d %H:%M"), "smoke": args.smoke, "sizes": sizes,
                       "machine": machine(), "gunicorn": {"workers": args.workers, "threads": args.threads},
                       "note": "measured on a machine shared with other work; client and server on the same CPUs"},
              "targets": TARGETS, "backends": {}}
    if args.postgres:
        result["meta"]["postgresql_version"] = postgres_version(args.postgres)
    out = Path(args.out) if args.out else results_dir / f"{today:%Y-%m-%d}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        for url in urls:
            result["backends"][backend_of(url)] = run_backend(url, workdir, sizes, args.workers, args.threads,
                                                              args.profile, results_dir)
            out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")  # partial, in case
    finally:
        for url in urls:
            if not is_sqlite(url) or not args.workdir:
                drop_database(url)
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    result["verdicts"] = verdicts(result)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    log(f"results written to {out}")
    if args.doc or not args.smoke:
        doc = Path(args.doc) if args.doc else ROOT / "docs" / "PERFORMANCE.md"
        write_doc(doc, result)
        log(f"table written to {doc}")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
