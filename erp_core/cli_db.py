"""``erp db``: bring the schema up to date; autogenerate a plugin's migration (developers).

``erp db revision PLUGIN -m MSG`` compares the plugin's models with a database at the newest
schema. On a site whose database is configured, that is the site's database (refused, in one
line, while it is behind: run ``erp db upgrade`` first). When no database is configured (a
plugin author's checkout: no ``ERP_DATABASE_URL``, no instance file naming one, no
``instance/erp.sqlite``), or with ``--scratch``, it is a scratch SQLite database in a temporary
folder, brought to the newest schema of every loaded plugin and deleted afterwards.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import click

from .cli import _safe_url, fail, with_app
from .config import ConfigError, _read_instance_file, instance_path


@click.group()
def db():
    """Database schema."""


@db.command("upgrade")
@with_app
def db_upgrade():
    """Bring the database to the newest schema of the core and every installed plugin."""
    from .auth.services import sync_roles_and_permissions
    from .extensions import db as database
    from .migrate import upgrade
    from .settings import seal_plaintext_secrets

    upgrade()
    new = sync_roles_and_permissions()
    seal_plaintext_secrets()
    database.session.commit()
    click.echo("Database is up to date." + (f" New permissions: {', '.join(new)}." if new else ""))


def database_configured() -> bool:
    """True when the site names a database (``ERP_DATABASE_URL``, the instance file) or its
    default SQLite file exists."""
    if os.environ.get("ERP_DATABASE_URL"):
        return True
    folder = instance_path()
    try:
        values, _source = _read_instance_file(folder)
    except ConfigError as exc:
        fail(str(exc))
    return bool(values.get("DATABASE_URL")) or (folder / "erp.sqlite").exists()


@db.command("revision")
@click.argument("plugin")
@click.option("-m", "--message", required=True, help="What the migration does (its file name and docstring).")
@click.option("--scratch", is_flag=True,
              help="Compare with a scratch SQLite database at the newest schema (the default when no database "
                   "is configured).")
def db_revision(plugin, message, scratch):
    """(Developers) Autogenerate a migration of PLUGIN's tables into its own branch."""
    if scratch or not database_configured():
        _revision_on_scratch(plugin, message)
    else:
        _revision_on_site(plugin, message)


def _check_loaded(plugin: str) -> None:
    from flask import current_app

    if plugin != "core" and plugin not in current_app.extensions["erp_plugins"].loaded_names:
        fail(f"no loaded plugin named {plugin!r}: install its package (pip install -e .) or name it in ERP_PLUGINS")


def _written(script) -> None:
    path = getattr(script, "path", None)
    if path:
        click.echo(f"Wrote {path}: read it before committing (autogenerate misses renames and some types).")


@with_app
def _revision_on_site(plugin: str, message: str) -> None:
    from flask import current_app

    from .migrate import pending, revision

    _check_loaded(plugin)
    if pending():
        fail(f"the database at {_safe_url(current_app.config['DATABASE_URL'])} is behind the newest schema: "
             "run `erp db upgrade` first, or pass --scratch to compare with a scratch SQLite database")
    _written(revision(plugin, message))


def _revision_on_scratch(plugin: str, message: str) -> None:
    from .app import create_app
    from .extensions import db as database
    from .migrate import revision, upgrade

    with tempfile.TemporaryDirectory(prefix="erp-revision-") as folder:
        url = "sqlite:///" + str(Path(folder) / "scratch.sqlite")
        try:
            # The secret key only lets the app start; nothing is signed with it.
            app = create_app({"DATABASE_URL": url, "SECRET_KEY": secrets.token_urlsafe(32)})
        except ConfigError as exc:
            fail(str(exc))
        try:
            with app.app_context():
                _check_loaded(plugin)
                click.echo("No database is configured: comparing with a scratch SQLite database at the newest schema.")
                try:
                    upgrade()
                except Exception as exc:
                    first = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc).strip() else ""
                    fail(f"the migrations could not be applied to a scratch SQLite database ({type(exc).__name__}: "
                         f"{first}); set ERP_DATABASE_URL to a database at the newest schema and run again")
                _written(revision(plugin, message))
        finally:
            with app.app_context():
                database.session.remove()
                for engine in database.engines.values():
                    engine.dispose()
