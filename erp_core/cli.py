"""The ``erp`` command. Every failure ends with one line naming the problem and what to do."""

from __future__ import annotations

import functools
import random
import secrets
import socket
import sys
from pathlib import Path

import click
from sqlalchemy.exc import DBAPIError, OperationalError

from .config import ConfigError, instance_path, write_instance_config

if __name__ == "__main__":  # pragma: no cover - `python -m erp_core.cli`: run the one real module,
    # not this second copy of it (whose command modules would import the real one half-built).
    from erp_core.cli import main as _main

    sys.exit(_main())


def fail(message: str) -> None:
    click.secho(f"Error: {message}", fg="red", err=True)
    sys.exit(1)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


_APP = None


def get_app():
    """The site's app, built once per command; configuration errors end the command cleanly."""
    global _APP
    if _APP is None:
        from .app import create_app

        try:
            _APP = create_app()
        except ConfigError as exc:
            fail(str(exc))
    return _APP


def with_app(func):
    """Run the command inside the site's app context, turning database failures into one line."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        app = get_app()
        with app.app_context():
            try:
                return func(*args, **kwargs)
            except OperationalError as exc:
                fail(f"cannot use the database at {_safe_url(app.config['DATABASE_URL'])}: "
                     f"{str(exc.orig).strip().splitlines()[0]}. Check ERP_DATABASE_URL and that the server is running.")
            except DBAPIError as exc:
                fail(f"database error: {str(exc.orig).strip().splitlines()[0]}. Has `erp db upgrade` been run?")

    return wrapper


class ErpGroup(click.Group):
    """The ``erp`` group: built-in commands plus those plugins contribute."""

    def _plugin_commands(self) -> dict:
        from .app import create_app

        global _APP
        try:
            app = _APP or create_app()
        except ConfigError:
            return {}
        _APP = app
        manager = app.extensions["erp_plugins"]
        found = {}
        with app.app_context():
            for plugin, commands in manager.call_each("erp_cli_commands", only_enabled=False):
                for command in commands or []:
                    found[command.name] = _gate(command, plugin)
        return found

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self._plugin_commands()))

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        return self._plugin_commands().get(name)


def _gate(command: click.Command, plugin: str) -> click.Command:
    """Run a plugin's command in the app context, and only while the plugin is enabled."""
    if isinstance(command, click.Group):
        for sub in list(command.commands.values()):
            _gate(sub, plugin)
        return command
    original = command.callback
    if getattr(original, "_erp_gated", False):
        return command  # a module-level command seen again: wrapping it twice would nest app contexts

    @functools.wraps(original)
    def callback(*args, **kwargs):
        app = get_app()
        with app.app_context():
            if not app.extensions["erp_plugins"].is_enabled(plugin):
                fail(f"the {plugin} plugin is switched off; switch it on with `erp plugins enable {plugin}`")
            return original(*args, **kwargs)

    callback._erp_gated = True
    command.callback = callback
    return command


@click.group(cls=ErpGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Self-hosted order management: orders, stock, shipping, payments and customer service."""


# ----------------------------------------------------------------------------- set-up


def _ensure_instance() -> bool:
    """Create the instance folder and its secret key; True when it was new."""
    folder = instance_path()
    config_file = folder / "config.toml"
    if config_file.exists() or (folder / "config.py").exists():
        return False
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "uploads").mkdir(exist_ok=True)
    write_instance_config(folder, {"secret_key": secrets.token_urlsafe(48)})
    click.echo(f"Created {config_file} with a new random secret key.")
    return True


def _initialise(admin_user: str, admin_password: str | None, demo: bool, seed: int = 1) -> tuple[str, str | None]:
    from sqlalchemy import func, select

    from .auth import services as auth
    from .auth.models import User
    from .extensions import db
    from .migrate import upgrade

    upgrade()
    auth.sync_roles_and_permissions()
    db.session.commit()
    password = None
    if not db.session.scalar(select(func.count()).select_from(User)):
        password = admin_password or auth.random_password()
        try:
            auth.create_user(admin_user, password, display_name="Administrator", roles=["admin"])
        except Exception as exc:
            db.session.rollback()
            fail(str(exc))
        db.session.commit()
    if demo:
        _run_demo(seed=seed, scale=1)
    return admin_user, password


@main.command()
@click.option("--admin-user", default="admin", show_default=True, help="User name of the first administrator.")
@click.option("--admin-password", default=None, help="Their password (a random one is printed when left out).")
@click.option("--demo", is_flag=True, help="Also load demo data.")
def init(admin_user, admin_password, demo):
    """Create the instance folder, the database schema and the first administrator."""
    _ensure_instance()
    _init_in_app(admin_user, admin_password, demo)


@with_app
def _init_in_app(admin_user, admin_password, demo):
    user, password = _initialise(admin_user, admin_password, demo)
    if password:
        click.secho(f"Administrator created: user {user!r}, password {password!r}", fg="green")
    else:
        click.echo("The site already has users; no administrator was created.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def quickstart(host, port):
    """Set up a site on SQLite with demo data (first time only) and start it."""
    _ensure_instance()
    _quickstart_setup(host, port)
    _serve(host, port)


@with_app
def _quickstart_setup(host, port):
    from sqlalchemy import func, inspect, select

    from .auth.models import User
    from .extensions import db

    fresh = "core_user" not in inspect(db.engine).get_table_names() or not db.session.scalar(
        select(func.count()).select_from(User))
    # End this read before the migrations open their own connection: on SQLite the session's
    # transaction holds the write lock (BEGIN IMMEDIATE), and the migrations would wait on it.
    db.session.rollback()
    if fresh:
        user, password = _initialise("admin", None, demo=True)
        click.secho(f"\n  Sign in at http://{host}:{port}/login\n  user: {user}\n  password: {password}\n",
                    fg="green", bold=True)
    else:
        from .migrate import upgrade

        upgrade()
        click.echo("The site is already set up; sign in with your account "
                   "(forgot it? `erp users set-password admin`).")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def run(host, port):
    """Serve the site (development server; see docs/DEPLOY.md for gunicorn)."""
    _check_ready()
    _serve(host, port)


@with_app
def _check_ready():
    from .migrate import pending

    if pending():
        fail("the database schema is not up to date: run `erp db upgrade` first")


def _serve(host: str, port: int) -> None:
    from werkzeug.serving import run_simple

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As the server itself will: a port held only by closing connections (TIME_WAIT) is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(f"cannot listen on {host}:{port} ({exc.strerror}); another program may use the port: "
                 f"choose another with --port")
    from .backup import hold_serving_lock
    from .runner import start_for_process

    app = get_app()
    hold_serving_lock(app.instance_path)  # `erp restore` refuses while this process lives
    start_for_process(app)  # background jobs and schedules, without Redis
    click.echo(f"Serving on http://{host}:{port}/ (Ctrl+C to stop)")
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


# ----------------------------------------------------------------------------- plugins


@main.group()
def plugins():
    """List plugins and switch them on or off."""


@plugins.command("list")
@with_app
def plugins_list():
    """Show every plugin with its state."""
    from flask import current_app

    manager = current_app.extensions["erp_plugins"]
    enabled = manager.enabled()
    for name in manager.loaded_names:
        rec = manager.records[name]
        state = "on " if name in enabled else "off"
        needs = f" (needs {', '.join(rec.meta.requires)})" if rec.meta.requires else ""
        click.echo(f"[{state}] {name:<12} {rec.meta.version:<8} {rec.meta.title}{needs}  - {rec.source}")
    for rec in manager.failed:
        click.secho(f"[err] {rec.name:<12} {rec.error}  - {rec.source}", fg="red")


def _switch(name: str, enable: bool) -> None:
    from .extensions import db as database
    from .plugins import PluginError, switch_plugin

    try:
        switch_plugin(name, enable)
        database.session.commit()
    except PluginError as exc:
        database.session.rollback()
        fail(str(exc))
    click.echo(f"{name} is {'on' if enable else 'off'}.")


@plugins.command("enable")
@click.argument("name")
@with_app
def plugins_enable(name):
    """Switch plugin NAME on."""
    _switch(name, True)


@plugins.command("disable")
@click.argument("name")
@with_app
def plugins_disable(name):
    """Switch plugin NAME off (its data is kept)."""
    _switch(name, False)


# ----------------------------------------------------------------------------- demo, worker


def _run_demo(seed: int, scale: int) -> None:
    from flask import current_app
    from sqlalchemy import select

    from . import settings
    from .auth.models import Role, User
    from .contrib import DemoContext
    from .extensions import db as database

    if settings.get("demo.loaded"):
        fail("demo data is already loaded on this site")
    manager = current_app.extensions["erp_plugins"]
    admin = database.session.scalar(select(User).join(User.roles).where(Role.name == "admin").order_by(User.id))
    notes: list[str] = []  # what the plugins report, printed under the progress bar once done
    ctx = DemoContext(rng=random.Random(seed), scale=scale, admin=admin, log=notes.append)
    enabled = manager.enabled()
    steps = []
    for name in ["core", *manager.loaded_names]:
        impl = [i for i in manager.pm.hook.erp_demo_data.get_hookimpls() if i.plugin_name == name]
        if impl and (name == "core" or name in enabled):
            steps.append((name, impl[0].function))
    try:
        with click.progressbar(steps, label="Demo data", item_show_func=lambda step: step[0] if step else "",
                               show_pos=True) as bar:
            for name, function in bar:
                notes.append(f"{name}:")
                try:
                    function(ctx=ctx)
                    database.session.commit()
                except Exception:
                    database.session.rollback()
                    raise
                if notes[-1] == f"{name}:":  # a plugin that had nothing to say gets no heading
                    notes.pop()
    finally:
        for line in notes:
            click.echo(line)
    settings.set_many({"demo.loaded": True})
    database.session.commit()
    click.echo("Demo data loaded.")


@main.command()
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--scale", default=1, show_default=True, type=click.IntRange(1, 1000))
@with_app
def demo(seed, scale):
    """Load demo data of every enabled plugin."""
    _run_demo(seed, scale)


@main.command()
@click.option("--burst", is_flag=True, help="Run queued jobs and due schedules once, then stop.")
@with_app
def worker(burst):
    """Run background jobs (RQ on Redis when ERP_REDIS_URL is set) and the scheduler."""
    import threading

    from flask import current_app
    from sqlalchemy import text

    from . import scheduler
    from .backup import hold_serving_lock
    from .extensions import db as database
    from .jobs import rq_queue, set_worker_app

    app = current_app._get_current_object()
    hold_serving_lock(app.instance_path)  # `erp restore` refuses while this process lives
    set_worker_app(app)
    # Check both services before doing anything, so a wrong URL is one line, not a failing loop.
    database.session.execute(text("SELECT 1"))
    database.session.rollback()
    queue = None
    if app.config.get("REDIS_URL"):
        try:
            queue = rq_queue(app)
            queue.connection.ping()
        except Exception as exc:
            fail(f"cannot reach Redis at {app.config['REDIS_URL']}: {exc}")
    if burst:
        started = scheduler.run_due()
        click.echo(f"Scheduled jobs started: {', '.join(started) or 'none'}")
    if queue is None:
        from .jobs import run_pending
        from .runner import run_forever

        if burst:
            click.echo(f"Jobs run: {run_pending(app)}")
            return
        click.echo("No ERP_REDIS_URL: this worker runs the jobs table and the scheduler.")
        run_forever(app)
        return
    from rq import Worker

    stop = threading.Event()
    if not burst:
        threading.Thread(target=scheduler.loop, args=(app, stop), daemon=True).start()
    try:
        Worker([queue], connection=queue.connection).work(burst=burst, with_scheduler=True)
    finally:
        stop.set()


# ----------------------------------------------------------------------------- users


def _add_user_commands() -> None:
    from .auth.cli import users

    main.add_command(users)


_add_user_commands()


# ----------------------------------------------------------------------------- plugin authors


@main.group()
def plugin():
    """(Plugin authors) Tools for writing plugins."""


@plugin.command("new")
@click.argument("name")
@click.option("--path", "target", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Folder to create the package in.")
@click.option("--requires", "requires", default="", metavar="PLUGIN,...",
              help="Plugins the new one needs, comma-separated (e.g. orders,inventory).")
def plugin_new(name, target, requires):
    """Generate a working plugin package erp-NAME (page, model, migration, translations, tests)."""
    from .migrations_info import core_head
    from .scaffold import ScaffoldError, generate
    from .scaffold.requires import parse_requires

    try:
        folder = generate(name, Path(target).resolve(), core_head(), parse_requires(requires))
    except ScaffoldError as exc:
        fail(str(exc))
    click.echo(f"Created {folder}")
    click.echo(f"Next: pip install -e '{folder}[test]' && pytest {folder}")
    click.echo("Then `erp init` (new site) or `erp db upgrade` (existing site) creates its tables.")


# ----------------------------------------------------------------------------- translations


@main.group()
def i18n():
    """(Developers) Extract, update and compile translation catalogs."""


def _packages(package, third_party: bool = False):
    """The folder named, or the ERP's packages (and, with ``third_party``, the installed
    plugins' that have a catalog)."""
    from .i18n_tools import installed_plugin_dirs, package_dirs

    if package:
        return [Path(package).resolve()]
    root = Path(__file__).resolve().parent.parent
    folders = package_dirs(root)
    if third_party:
        folders += [f for f in installed_plugin_dirs() if f not in folders]
    return folders


@i18n.command("update")
@click.argument("package", required=False)
def i18n_update(package):
    """Extract messages of PACKAGE (default: the ERP's own) and merge them into the .po files."""
    from .i18n_tools import compile_catalogs, update

    for folder in _packages(package):
        counts = update(folder)
        compile_catalogs(folder)
        click.echo(f"{folder.name}: " + ", ".join(f"{loc} {n} untranslated" for loc, n in counts.items()))


@i18n.command("compile")
@click.argument("package", required=False)
def i18n_compile(package):
    """Write the .mo files of PACKAGE (default: the ERP's and every installed plugin's)."""
    from .i18n_tools import compile_catalogs

    for folder in _packages(package, third_party=True):
        try:
            compile_catalogs(folder)
        except OSError as exc:
            fail(f"cannot write the catalogs of {folder}: {exc.strerror or exc}")
        click.echo(f"{folder.name}: compiled ({folder})")


@i18n.command("missing")
@click.argument("package", required=False)
def i18n_missing(package):
    """List messages that zh_CN does not translate yet (default: the ERP's and installed plugins')."""
    from .i18n_tools import LOCALES, missing

    for folder in _packages(package, third_party=True):
        for locale in LOCALES:
            for msgid in missing(folder, locale):
                click.echo(f"{folder.name} {locale}: {msgid}")

# Commands kept in modules of their own; registered last, as they import this module.
from .backup.commands import backup, restore  # noqa: E402
from .cli_db import db  # noqa: E402

main.add_command(db)
main.add_command(backup)
main.add_command(restore)


if __name__ == "__main__":  # pragma: no cover
    main()
