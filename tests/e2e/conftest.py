"""Browser tests: Playwright drives Debian's chromium against the app served on a free port.

The app runs in a background thread (werkzeug's ``make_server``) on the same database as the rest
of the suite: a SQLite file, or PostgreSQL when ERP_TEST_DATABASE_URL is set. Without chromium
(or the playwright package) the tests are skipped, unless ERP_REQUIRE_BROWSER=1, which makes
them fail instead. No browser is ever downloaded.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.helpers import make_user

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
ALPHA = "alpha=tests.core.fakeplugins.alpha"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
ADMIN_PASSWORD = "admin-password-e2e"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


def _unavailable(reason: str):
    if os.environ.get("ERP_REQUIRE_BROWSER") == "1":
        pytest.fail(f"ERP_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    """One headless chromium for the session."""
    if not os.path.exists(CHROMIUM):
        _unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    # Assertions wait as long as actions do (the pages' 15 s): on a loaded 2-core CI machine a
    # SQLite request waiting on another's write lock took 5.4 s, past expect's 5 s default.
    # Speed is measured in bench/, not here.
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        yield chromium
        chromium.close()


class LiveServer:
    """The app served over HTTP in a thread; ``url("/path")`` gives an address on it."""

    def __init__(self, app):
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def live_server(make_app):
    """The site with the test plugin alpha, CSRF on (as in production), and an administrator."""
    app = make_app(plugins=[ALPHA], WTF_CSRF_ENABLED=True)
    make_user(app, username="admin", password=ADMIN_PASSWORD, roles=["admin"], display_name="Ada Admin")
    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.fixture
def demo_server(make_app):
    """Every built-in plugin with the demo data (as ``erp demo`` loads it), CSRF on, and an
    administrator."""
    from erp_core.cli import _run_demo
    from erp_core.extensions import db

    app = make_app(WTF_CSRF_ENABLED=True)
    make_user(app, username="admin", password=ADMIN_PASSWORD, roles=["admin"], display_name="Ada Admin")
    with app.test_request_context(method="POST"):
        _run_demo(seed=2, scale=1)
        db.session.commit()
    server = LiveServer(app).start()
    yield server
    server.stop()


def _new_page(browser, viewport):
    context = browser.new_context(viewport=viewport, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


@pytest.fixture
def page(browser):
    """A desktop-sized page (1366x900) in a fresh browser context."""
    context, page = _new_page(browser, DESKTOP)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):
    """A phone-sized page (390x844) in a fresh browser context."""
    context, page = _new_page(browser, PHONE)
    yield page
    context.close()


@pytest.fixture
def shot():
    """``shot(page, "name")`` saves a full-page screenshot into test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def sign_in(page, server, password: str = ADMIN_PASSWORD, username: str = "admin", wait: bool = True) -> None:
    """Sign in through the real form; with ``wait`` (a right password) land on the dashboard."""
    page.goto(server.url("/login"))
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if wait:
        page.wait_for_url(server.url("/dashboard"))
