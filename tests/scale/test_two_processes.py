"""Scale-out: two separate server processes (gunicorn) on one PostgreSQL database, with Redis.

Proves that a plugin switched off through one process is off in the other on its next request,
and that a job queued by a web process is run by `erp worker` in another process, and that a
schedule runs once per interval however many worker processes tick. (The race for
the last units across processes is in tests/scale/test_race_across_processes.py.)
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from erp_core.extensions import db
from tests.conftest import PG_URL, REDIS_URL
from tests.core.fakeplugins import alpha
from tests.helpers import make_user

ROOT = Path(__file__).resolve().parents[2]
ALPHA = "alpha=tests.core.fakeplugins.alpha"
PASSWORD = "scale-out-password"

pytestmark = pytest.mark.skipif(not (PG_URL and REDIS_URL),
                                reason="needs ERP_TEST_DATABASE_URL (PostgreSQL) and ERP_TEST_REDIS_URL")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``gunicorn erp_core.wsgi:app`` in its own process."""

    def __init__(self, env: dict, workers: int = 2):
        self.port = free_port()
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [str(gunicorn), "--workers", str(workers), "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning",
             "erp_core.wsgi:app"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url("/healthz"), timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:  # not listening yet, or still booting its workers
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start: " + self.process.stderr.read().decode()[-2000:])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Browser:
    """A cookie-keeping HTTP client that signs in through the real form (with its CSRF token)."""

    def __init__(self, server: Server):
        self.server = server
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  _NoRedirect())

    def get(self, path: str):
        try:
            with self.opener.open(self.server.url(path), timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def post(self, path: str, data: dict, form_page: str | None = None):
        _status, page = self.get(form_page or path)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or \
            re.search(r'name="csrf-token" content="([^"]+)"', page)
        body = urllib.parse.urlencode({**data, "csrf_token": token.group(1)}).encode()
        try:
            with self.opener.open(urllib.request.Request(self.server.url(path), data=body), timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def sign_in(self, username: str):
        status, _ = self.post("/login", {"username": username, "password": PASSWORD})
        assert status == 302


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def site(make_app, pg_url):
    """A PostgreSQL site with the alpha test plugin, an admin, and the environment for processes."""
    app = make_app(plugins=[ALPHA])
    make_user(app, roles=["admin"], username="boss", password=PASSWORD)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ERP_")}
    env.update({"PYTHONPATH": str(ROOT), "ERP_DATABASE_URL": pg_url, "ERP_SECRET_KEY": "scale-secret",
                "ERP_PLUGINS": ALPHA, "ERP_LOAD_ENTRY_POINTS": "0", "ERP_REDIS_URL": REDIS_URL,
                "ERP_JOB_QUEUE": f"erp-scale-{uuid.uuid4().hex[:8]}", "ERP_INSTANCE_PATH": str(Path(app.instance_path)),
                "ERP_LOG_LEVEL": "WARNING"})
    return app, env


def test_a_plugin_switched_off_in_one_process_is_off_in_the_other(site):
    app, env = site
    first, second = Server(env), Server(env)
    try:
        a, b = Browser(first), Browser(second)
        a.sign_in("boss")
        b.sign_in("boss")
        assert b.get("/alpha/")[0] == 200
        status, _ = a.post("/admin/plugins/alpha/disable", {}, form_page="/admin/plugins")
        assert status == 302
        for _ in range(4):  # every worker of the other process, on its next request
            assert b.get("/alpha/")[0] == 404
            assert "Alpha menu" not in b.get("/dashboard")[1]
        a.post("/admin/plugins/alpha/enable", {}, form_page="/admin/plugins")
        assert b.get("/alpha/")[0] == 200
    finally:
        first.stop()
        second.stop()


def test_a_job_queued_by_a_web_process_is_run_by_the_worker(site):
    app, env = site
    server = Server(env)
    try:
        browser = Browser(server)
        browser.sign_in("boss")
        status, _ = browser.post("/alpha/enqueue", {}, form_page="/dashboard")
        assert status == 200
        with app.app_context():
            assert db.session.scalars(select(alpha.AlphaNote.text)).all() == []  # queued, not run inline
        erp = Path(sys.executable).with_name("erp")
        worker = subprocess.run([str(erp), "worker", "--burst"], env=env, cwd=ROOT, capture_output=True, text=True,
                                timeout=120)
        assert worker.returncode == 0, worker.stderr
        with app.app_context():
            db.session.expire_all()
            assert "queued" in db.session.scalars(select(alpha.AlphaNote.text)).all()
    finally:
        server.stop()


def test_a_schedule_runs_once_per_interval_across_worker_processes(site):
    """Three `erp worker --burst` processes started together: the due tick is claimed and run once."""
    app, env = site
    env = {**env, "ALPHA_TICK_SECONDS": "3600"}  # not due again during the test, however slow the machine
    erp = Path(sys.executable).with_name("erp")
    workers = [subprocess.Popen([str(erp), "worker", "--burst"], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [worker.communicate(timeout=120) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0, 0], [err for _out, err in outputs]
    started = [out for out, _err in outputs if "alpha.tick" in out]
    assert len(started) == 1, outputs
    with app.app_context():
        assert db.session.scalars(select(alpha.AlphaNote.text)).all() == ["tick"]
    again = subprocess.run([str(erp), "worker", "--burst"], env=env, cwd=ROOT, capture_output=True, text=True,
                           timeout=120)
    assert again.returncode == 0 and "alpha.tick" not in again.stdout  # not due again within the interval
