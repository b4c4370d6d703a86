"""The ``erp`` command: set-up, schema, plugins, users, worker, and one clear line for every failure.

Commands run in-process through click's CliRunner, each as if it were a new process (the cached
app is dropped between calls), on a brand-new database: a SQLite file, or a PostgreSQL database
made for the test when ERP_TEST_DATABASE_URL is set. The one-line failures are also checked
through the installed ``erp`` script in a subprocess, where a traceback would show.
"""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, inspect, select, text

from erp_core import cli, jobs
from erp_core.app import create_app
from erp_core.extensions import db

ROOT = Path(__file__).resolve().parents[2]
ALPHA = "alpha=tests.core.fakeplugins.alpha"
BETA = "beta=tests.core.fakeplugins.beta"
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/x"
REDIS_URL = os.environ.get("ERP_TEST_REDIS_URL") or None


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture
def site_db(empty_database_url):
    """URL of an empty database for a site made by the commands under test."""
    return empty_database_url


def _clean_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith("ERP_") and not name.startswith("ERP_TEST_"):
            monkeypatch.delenv(name)


class Site:
    """One site's instance folder; ``site.erp("users", "list")`` runs a command as a new process would."""

    def __init__(self, folder: Path, database_url: str, monkeypatch):
        self.folder = folder
        self.database_url = database_url
        self.monkeypatch = monkeypatch
        self.apps = []

    def erp(self, *args, input=None):
        cli._APP = None
        try:
            return CliRunner().invoke(cli.main, list(args), input=input)
        finally:
            if cli._APP is not None:
                self.apps.append(cli._APP)
                _dispose(cli._APP)
            cli._APP = None

    def app(self):
        """The site's app as a web worker would build it (from the instance and environment)."""
        app = create_app()
        self.apps.append(app)
        return app

    def setenv(self, name, value):
        self.monkeypatch.setenv(name, value)


def _dispose(app):
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture
def site(tmp_path, site_db, monkeypatch):
    _clean_environment(monkeypatch)
    folder = tmp_path / "instance"
    monkeypatch.setenv("ERP_INSTANCE_PATH", str(folder))
    monkeypatch.setenv("ERP_DATABASE_URL", site_db)
    monkeypatch.setenv("ERP_LOAD_ENTRY_POINTS", "0")
    monkeypatch.setenv("ERP_SQLITE_BUSY_TIMEOUT", "3")  # a lock bug fails in seconds, not half a minute
    monkeypatch.setattr(cli, "_APP", None)
    site = Site(folder, site_db, monkeypatch)
    yield site
    for app in site.apps:
        _dispose(app)


def run_erp(*args, env=None, cwd=None) -> subprocess.CompletedProcess:
    """Run the installed ``erp`` script in a new process with a clean ERP_* environment."""
    script = Path(sys.executable).with_name("erp")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "erp_core.cli"]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ERP_")}
    full_env.update({"PYTHONPATH": str(ROOT), "ERP_LOAD_ENTRY_POINTS": "0"})
    full_env.update(env or {})
    return subprocess.run(command + list(args), env=full_env, cwd=cwd, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def one_error_line(output: str) -> str:
    """The single line a failing command printed (asserting it is exactly one, without a traceback)."""
    lines = [line for line in output.strip().splitlines() if line.strip()]
    assert "Traceback" not in output
    assert len(lines) == 1, output
    assert lines[0].startswith("Error: "), output
    return lines[0]


def _printed_password(output: str) -> str:
    match = re.search(r"password '([^']+)'", output) or re.search(r"password: (\S+)", output)
    assert match, output
    return match.group(1)


def _check_login(app, username, password) -> bool:
    from erp_core.auth.models import User

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        return user is not None and user.check_password(password)


# ----------------------------------------------------------------------------- init, quickstart


def test_init_writes_a_secret_creates_the_admin_and_prints_the_password(site):
    result = site.erp("init")
    assert result.exit_code == 0, result.output
    config_file = site.folder / "config.toml"
    assert f"Created {config_file}" in result.output
    secret = re.search(r'^secret_key = "([^"]+)"$', config_file.read_text(), re.M).group(1)
    assert len(secret) >= 48
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    password = _printed_password(result.output)
    assert "user 'admin'" in result.output
    app = site.app()
    assert app.config["SECRET_KEY"] == secret
    assert _check_login(app, "admin", password)
    from erp_core.auth.models import User

    with app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        assert [r.name for r in admin.roles] == ["admin"] and admin.can("core.users.manage")
    assert _demo_things(app) == (False, [])  # the demo gateway and carrier stay in demo sites


def _demo_things(app) -> tuple[bool, list[str]]:
    """Whether the demo payment gateway is on, and the adapters of the carriers set up."""
    from plugins.finance import services as finance
    from plugins.logistics.models import Carrier

    with app.test_request_context():
        return finance.method_enabled("demo_gateway"), sorted(db.session.scalars(select(Carrier.adapter)))


def test_every_site_gets_its_own_secret(site, tmp_path):
    site.erp("init")
    site.setenv("ERP_INSTANCE_PATH", str(tmp_path / "other"))
    site.setenv("ERP_DATABASE_URL", f"sqlite:///{tmp_path / 'other.sqlite'}")
    assert site.erp("init").exit_code == 0
    first = (site.folder / "config.toml").read_text()
    second = (tmp_path / "other" / "config.toml").read_text()
    assert "secret_key" in first and first != second


def test_init_twice_keeps_the_secret_and_the_admin(site):
    first = site.erp("init")
    password = _printed_password(first.output)
    config_before = (site.folder / "config.toml").read_text()
    again = site.erp("init")
    assert again.exit_code == 0, again.output
    assert "already has users; no administrator was created" in again.output
    assert "password" not in again.output.lower()
    assert (site.folder / "config.toml").read_text() == config_before
    from erp_core.auth.models import User

    app = site.app()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
    assert _check_login(app, "admin", password)


def test_init_with_chosen_admin_and_demo_data(site):
    result = site.erp("init", "--admin-user", "Boss", "--admin-password", "a-long-password", "--demo")
    assert result.exit_code == 0, result.output
    assert "user 'Boss'" in result.output and "Demo data loaded." in result.output
    lines = result.output.splitlines()
    for name in ("orders", "inventory", "logistics", "finance", "support", "purchasing"):  # under the progress bar
        assert f"{name}:" in lines, name
    assert "core:" not in lines  # the core loads nothing to tell: no empty heading
    assert any("300 orders" in line for line in lines)  # what each plugin reports is kept
    app = site.app()
    assert _check_login(app, "boss", "a-long-password")
    from erp_core import settings

    with app.app_context():
        assert settings.get("demo.loaded") is True
    gateway_on, carriers = _demo_things(app)
    assert gateway_on and "demo_express" in carriers
    again = site.erp("demo")
    assert again.exit_code == 1
    assert one_error_line(again.output) == "Error: demo data is already loaded on this site"


def test_init_refuses_a_weak_admin_password_and_creates_no_one(site):
    result = site.erp("init", "--admin-password", "short")
    assert result.exit_code == 1
    assert "Error: The password needs at least 10 characters." in result.output
    assert "Traceback" not in result.output
    from erp_core.auth.models import User

    with site.app().app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_init_refuses_a_guessable_admin_password(site):
    result = site.erp("init", "--admin-password", "password12")
    assert result.exit_code == 1
    assert "Error: The password is too easy to guess: it is one of the most common passwords." in result.output
    assert "Traceback" not in result.output


def test_quickstart_sets_up_once_prints_the_login_and_serves(site, monkeypatch):
    served = []
    monkeypatch.setattr(cli, "_serve", lambda host, port: served.append((host, port)))
    result = site.erp("quickstart", "--port", "5123")
    assert result.exit_code == 0, result.output
    assert "Sign in at http://127.0.0.1:5123/login" in result.output and "user: admin" in result.output
    password = _printed_password(result.output)
    assert served == [("127.0.0.1", 5123)]
    app = site.app()
    assert _check_login(app, "admin", password)
    from erp_core import settings

    with app.app_context():
        assert settings.get("demo.loaded") is True

    again = site.erp("quickstart")
    assert again.exit_code == 0, again.output
    assert "already set up" in again.output and "password:" not in again.output
    assert served[-1] == ("127.0.0.1", 5000)
    assert _check_login(site.app(), "admin", password)


def test_serve_refuses_a_port_in_use_in_one_line(site):
    site.erp("init")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = site.erp("run", "--port", str(port))
    assert result.exit_code == 1
    line = one_error_line(result.output)
    assert line.startswith(f"Error: cannot listen on 127.0.0.1:{port} (")
    assert "--port" in line


def test_run_serves_without_debugger_or_reloader(site, monkeypatch):
    import werkzeug.serving

    from erp_core import runner

    calls = []
    monkeypatch.setattr(werkzeug.serving, "run_simple", lambda *a, **kw: calls.append((a, kw)))
    monkeypatch.setattr(runner, "_process_runner", None)
    site.erp("init")
    result = site.erp("run", "--host", "127.0.0.1", "--port", "0")
    assert result.exit_code == 0, result.output
    [(args, kwargs)] = calls
    assert args[:2] == ("127.0.0.1", 0)
    assert kwargs["use_debugger"] is False and kwargs["use_reloader"] is False
    background = runner._process_runner  # no Redis: the site's jobs and schedules run in this process
    assert background is not None and background.thread.is_alive() and background.app is args[2]
    background.stop()


def test_run_refuses_a_database_that_needs_upgrading(site):
    site.erp("init")
    with site.app().app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM alembic_version"))
    result = site.erp("run", "--port", "0")
    assert result.exit_code == 1
    assert one_error_line(result.output) == (
        "Error: the database schema is not up to date: run `erp db upgrade` first")


# ----------------------------------------------------------------------------- db upgrade


def test_db_upgrade_builds_the_schema_on_an_empty_database_and_is_harmless_to_repeat(site):
    from erp_core.config import write_instance_config
    from erp_core.migrate import pending

    write_instance_config(site.folder, {"secret_key": "an-operator-made-secret"})
    first = site.erp("db", "upgrade")
    assert first.exit_code == 0, first.output
    assert first.output.startswith("Database is up to date. New permissions: core.users.manage")
    again = site.erp("db", "upgrade")
    assert again.exit_code == 0 and again.output.strip() == "Database is up to date."
    with site.app().app_context():
        assert not pending()
        tables = set(inspect(db.engine).get_table_names())
    assert {"core_user", "core_role", "core_audit_log", "core_plugin_state", "alembic_version"} <= tables


# ----------------------------------------------------------------------------- plugins


def test_plugins_list_shows_state_requirements_and_failures(site):
    site.setenv("ERP_PLUGINS", f"{ALPHA},{BETA},ghost,broken=tests.core.fakeplugins.broken")
    site.erp("init")
    result = site.erp("plugins", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("[on ] alpha") and "Alpha" in lines[0] and "module tests.core.fakeplugins.alpha" in lines[0]
    assert lines[1].startswith("[on ] beta") and "(needs alpha)" in lines[1]
    failures = [line for line in lines if line.startswith("[err]")]
    assert len(failures) == 2
    assert any("ghost" in line and "no plugin named 'ghost' is installed" in line for line in failures)
    assert any("broken" in line and "boom at import" in line for line in failures)


def test_plugins_enable_and_disable_hold_across_processes_and_refuse_clearly(site):
    site.setenv("ERP_PLUGINS", f"{ALPHA},{BETA}")
    site.erp("init")

    refused = site.erp("plugins", "disable", "alpha")
    assert refused.exit_code == 1
    assert one_error_line(refused.output) == (
        "Error: Cannot disable alpha: beta needs it. Disable beta first.")

    off = site.erp("plugins", "disable", "beta")
    assert off.exit_code == 0 and off.output.strip() == "beta is off."
    assert "[off] beta" in site.erp("plugins", "list").output  # a new process sees the switch
    assert site.erp("plugins", "disable", "alpha").exit_code == 0

    refused = site.erp("plugins", "enable", "beta")
    assert one_error_line(refused.output) == (
        "Error: Cannot enable beta: it needs alpha, which is switched off. Enable alpha first.")
    refused = site.erp("plugins", "enable", "alpha")  # its table was never created
    assert "alpha has no tables yet (alpha_note): run `erp db upgrade` first." in one_error_line(refused.output)

    from erp_core.models import AuditLog

    with site.app().app_context():
        entries = db.session.scalars(select(AuditLog).where(AuditLog.object_type == "plugin").order_by(AuditLog.id)).all()
        assert [(e.object_id, e.action, e.actor_name) for e in entries] == [
            ("beta", "disabled", "system"), ("alpha", "disabled", "system")]


@pytest.mark.parametrize("args, message", [
    (("enable", "nope"), "Error: No plugin named nope is installed."),
    (("disable", "core"), "Error: The core cannot be switched off."),
    (("enable", "ghost"), "Error: Plugin ghost cannot be used: no plugin named 'ghost' is installed: install its package or take it out of the PLUGINS setting"),
])
def test_plugin_switch_refusals_are_one_line(site, args, message):
    site.setenv("ERP_PLUGINS", "ghost")
    site.erp("init")
    result = site.erp("plugins", *args)
    assert result.exit_code == 1
    assert one_error_line(result.output) == message


def test_built_in_plugins_refuse_to_lose_what_others_need(site):
    site.erp("init")
    result = site.erp("plugins", "disable", "orders")
    assert result.exit_code == 1
    line = one_error_line(result.output)
    assert line.startswith("Error: Cannot disable orders:") and "inventory" in line


# ----------------------------------------------------------------------------- users


def test_users_create_list_and_set_password(site):
    site.erp("init", "--admin-password", "admin-password-1")
    created = site.erp("users", "create", "Wang.Li", "--password", "warehouse-pass", "--role", "warehouse",
                       "--role", "finance", "--name", "Wang Li", "--email", "wl@example.com")
    assert created.exit_code == 0 and created.output.strip() == "User Wang.Li created."
    prompted = site.erp("users", "create", "zhao", input="prompted-password\nprompted-password\n")
    assert prompted.exit_code == 0, prompted.output

    listed = site.erp("users", "list").output.strip().splitlines()
    assert [line.split()[0] for line in listed] == ["admin", "wang.li", "zhao"]
    assert re.match(r"wang\.li\s+active\s+finance, warehouse$", listed[1])

    changed = site.erp("users", "set-password", "wang.li", "--password", "a-new-long-password")
    assert changed.exit_code == 0 and changed.output.strip() == "Password of wang.li changed."
    app = site.app()
    assert _check_login(app, "wang.li", "a-new-long-password")
    assert not _check_login(app, "wang.li", "warehouse-pass")
    assert _check_login(app, "zhao", "prompted-password")


@pytest.mark.parametrize("args, message", [
    (("create", "weak", "--password", "short"), "Error: The password needs at least 10 characters."),
    (("create", "admin", "--password", "long-enough-pw"), "Error: The user name admin is taken."),
    (("create", "ADMIN", "--password", "long-enough-pw"), "Error: The user name admin is taken."),
    (("create", "x y", "--password", "long-enough-pw"),
     "Error: A user name uses 2-80 lowercase letters, digits, dots, dashes or underscores."),
    (("create", "newbie", "--password", "long-enough-pw", "--role", "king"), "Error: No role named king."),
    (("set-password", "admin", "--password", "short"), "Error: The password needs at least 10 characters."),
    (("set-password", "nobody", "--password", "long-enough-pw"), "Error: No user named nobody."),
    (("create", "newbie", "--password", "1234567890"),
     "Error: The password is too easy to guess: it is one of the most common passwords."),
    (("set-password", "admin", "--password", "aaaaaaaaaa"),
     "Error: The password is too easy to guess: it repeats characters or words (like aaaa or abcabc)."),
])
def test_users_refusals_are_one_line_and_change_nothing(site, args, message):
    site.erp("init", "--admin-password", "admin-password-1")
    result = site.erp("users", *args)
    assert result.exit_code == 1
    assert one_error_line(result.output) == message
    from erp_core.auth.models import User

    app = site.app()
    with app.app_context():
        assert db.session.scalars(select(User.username)).all() == ["admin"]
    assert _check_login(app, "admin", "admin-password-1")


# ----------------------------------------------------------------------------- worker


def _alpha_site(site):
    site.setenv("ERP_PLUGINS", ALPHA)
    site.erp("init")
    from tests.core.fakeplugins import alpha

    app = site.app()
    with app.app_context():
        alpha.AlphaNote.__table__.create(db.engine)  # the test plugin ships no migration
    return app


def _notes(app) -> list[str]:
    from tests.core.fakeplugins import alpha

    with app.app_context():
        return db.session.scalars(select(alpha.AlphaNote.text)).all()


def test_worker_burst_runs_due_schedules_once(site, monkeypatch):
    monkeypatch.setattr(jobs, "_worker_app", None)
    app = _alpha_site(site)
    first = site.erp("worker", "--burst")
    assert first.exit_code == 0, first.output
    assert first.output.strip().splitlines() == [
        "Scheduled jobs started: core.webhooks.retry, core.mail.retry, core.jobs.purge, alpha.tick", "Jobs run: 4"]
    assert _notes(app) == ["tick"]  # no Redis: the jobs table, run by the worker
    again = site.erp("worker", "--burst")
    assert again.output.strip().splitlines() == ["Scheduled jobs started: none", "Jobs run: 0"]  # not due yet
    assert _notes(app) == ["tick"]


@pytest.mark.skipif(not REDIS_URL, reason="set ERP_TEST_REDIS_URL to test against Redis")
def test_worker_burst_on_redis_runs_the_queued_job_in_the_worker_process(site):
    from redis import Redis
    from rq import Queue

    app = _alpha_site(site)
    queue_name = f"erp-test-{uuid.uuid4().hex[:8]}"
    env = {"ERP_INSTANCE_PATH": str(site.folder), "ERP_DATABASE_URL": site.database_url, "ERP_PLUGINS": ALPHA,
           "ERP_REDIS_URL": REDIS_URL, "ERP_JOB_QUEUE": queue_name}
    try:
        result = run_erp("worker", "--burst", env=env)
        assert result.returncode == 0, result.stderr
        assert "Scheduled jobs started: core.webhooks.retry, core.mail.retry, core.jobs.purge, alpha.tick" in result.stdout
        assert _notes(app) == ["tick"]
        queue = Queue(queue_name, connection=Redis.from_url(REDIS_URL))
        assert queue.count == 0 and queue.finished_job_registry.count == 4  # the four schedules
    finally:
        Queue(queue_name, connection=Redis.from_url(REDIS_URL)).empty()


def test_worker_refuses_an_unreachable_redis_in_one_line(site):
    site.erp("init")
    site.setenv("ERP_REDIS_URL", "redis://127.0.0.1:1/0")
    result = site.erp("worker", "--burst")
    assert result.exit_code == 1
    assert one_error_line(result.output).startswith("Error: cannot reach Redis at redis://127.0.0.1:1/0")


# ----------------------------------------------------------------------------- one line for every failure


@pytest.mark.parametrize("args", [
    ("init",), ("db", "upgrade"), ("users", "list"), ("plugins", "list"), ("plugins", "disable", "support"),
    ("worker", "--burst"), ("demo",), ("run",), ("quickstart",),
])
def test_unreachable_database_is_one_line(site, args):
    site.erp("init")  # a site with its secret, now pointed at a server that is not there
    site.setenv("ERP_DATABASE_URL", UNREACHABLE)
    result = site.erp(*args)
    assert result.exit_code == 1, result.output
    line = one_error_line(result.output)
    assert line.startswith("Error: cannot use the database at postgresql+psycopg://postgres@127.0.0.1:1/x: ")
    assert line.endswith("Check ERP_DATABASE_URL and that the server is running.")


def test_unreachable_database_through_the_installed_script(tmp_path):
    result = run_erp("init", env={"ERP_INSTANCE_PATH": str(tmp_path / "inst"), "ERP_DATABASE_URL": UNREACHABLE})
    assert result.returncode == 1
    line = one_error_line(result.stderr)
    assert line.startswith("Error: cannot use the database at postgresql+psycopg://postgres@127.0.0.1:1/x")
    assert "Traceback" not in result.stdout


def test_database_password_is_not_printed(tmp_path):
    result = run_erp("users", "list", env={"ERP_SECRET_KEY": "k", "ERP_INSTANCE_PATH": str(tmp_path),
                                           "ERP_DATABASE_URL": "postgresql://postgres:hunter2@127.0.0.1:1/x"})
    assert result.returncode == 1
    line = one_error_line(result.stderr)
    assert "hunter2" not in line and "postgres:***@127.0.0.1:1/x" in line


@pytest.mark.parametrize("env, message", [
    ({"ERP_PER_PAGE": "abc"},
     "Error: PER_PAGE from environment variable ERP_PER_PAGE must be a whole number, not 'abc'"),
    ({"ERP_DEBUG": "1"}, "Error: DEBUG is on in production mode, which exposes a remote shell: "
                         "set ERP_DEBUG=0, or ERP_ENV=development on a machine of your own"),
    ({"ERP_DATABASE_URL": "mysql://root@localhost/erp"},
     "Error: DATABASE_URL 'mysql' is not supported: use sqlite:///path or postgresql://user@host/db"),
])
def test_bad_configuration_is_one_line(tmp_path, env, message):
    folder = tmp_path / "inst"
    folder.mkdir()
    (folder / "config.toml").write_text('secret_key = "s3cret"\n')
    result = run_erp("users", "list", env={"ERP_INSTANCE_PATH": str(folder), **env})
    assert result.returncode == 1
    assert one_error_line(result.stderr) == message


def test_missing_secret_is_one_line_that_says_what_to_do(tmp_path):
    result = run_erp("users", "list", env={"ERP_INSTANCE_PATH": str(tmp_path / "nothing-here")})
    assert result.returncode == 1
    assert one_error_line(result.stderr) == (
        "Error: no secret key is configured: run `erp init` (it writes one into the instance folder) "
        "or set ERP_SECRET_KEY")


def test_missing_or_broken_plugins_are_one_line_each_and_the_command_still_works(tmp_path, site_db):
    env = {"ERP_INSTANCE_PATH": str(tmp_path / "inst"), "ERP_DATABASE_URL": site_db}
    assert run_erp("init", "--admin-password", "a-long-password", env=env).returncode == 0
    env["ERP_PLUGINS"] = "ghost,broken=tests.core.fakeplugins.broken"
    result = run_erp("users", "list", env=env)
    assert result.returncode == 0 and result.stdout.startswith("admin ")
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "plugin ghost could not be loaded: no plugin named 'ghost' is installed: install its package or take it out of the PLUGINS setting"
    assert lines[1].startswith("plugin broken could not be loaded: import failed: RuntimeError: boom at import (")
    assert lines[1].endswith("broken.py, line 3)")
    assert len(lines) == 2


def test_help_works_even_when_the_configuration_is_bad(tmp_path):
    result = run_erp("--help", env={"ERP_INSTANCE_PATH": str(tmp_path), "ERP_PER_PAGE": "abc"})
    assert result.returncode == 0
    for command in ("init", "quickstart", "run", "db", "plugins", "demo", "worker", "users"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.M), command


def test_instance_folder_defaults_to_instance_in_the_current_folder(tmp_path, site_db):
    result = run_erp("init", "--admin-password", "a-long-password",
                     env={"ERP_DATABASE_URL": site_db}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "instance" / "config.toml").exists()


# ----------------------------------------------------------------------------- healthz of a real site


def test_healthz_reports_the_database_and_the_enabled_plugins(site):
    site.setenv("ERP_PLUGINS", f"{ALPHA},{BETA}")
    site.erp("init")
    client = site.app().test_client()
    response = client.get("/healthz")
    assert response.status_code == 200 and response.is_json
    assert response.get_json() == {"status": "ok", "database": "ok",
                                   "plugins": {"enabled": ["alpha", "beta"], "failed": {}}}
    site.erp("plugins", "disable", "beta")
    assert client.get("/healthz").get_json()["plugins"]["enabled"] == ["alpha"]


def test_healthz_answers_503_when_the_database_is_unreachable(site):
    site.erp("init")
    site.setenv("ERP_DATABASE_URL", UNREACHABLE)
    site.setenv("ERP_PLUGINS", "ghost")
    response = site.app().test_client().get("/healthz")
    assert response.status_code == 503 and response.is_json
    body = response.get_json()
    assert body["status"] == "error" and body["database"] == "unreachable"
    assert body["plugins"]["failed"] == {"ghost": "no plugin named 'ghost' is installed: install its package or take it out of the PLUGINS setting"}
