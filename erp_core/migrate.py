"""Alembic migrations: the core and every plugin own a branch labelled with their name.

``upgrade()`` (``erp db upgrade``) brings the database to the newest schema of the core and of
every loaded plugin, so a plugin switched on later finds its tables ready. Tables belong to the
plugin whose name prefixes them (``orders_order`` belongs to ``orders``; ``core_*`` to the core).
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app

from .extensions import db
from .search import SEARCH_INDEX_SUFFIX

CORE_ROOT = Path(__file__).resolve().parent


def _plugin_versions_dir(name: str) -> Path | None:
    manager = current_app.extensions["erp_plugins"]
    module = manager.records[name].module
    folder = Path(module.__file__).resolve().parent / "migrations" / "versions"
    return folder


def alembic_config(connection=None, only_plugin: str | None = None) -> Config:
    """An Alembic Config over the core's and the loaded plugins' version folders."""
    manager = current_app.extensions["erp_plugins"]
    cfg = Config()
    cfg.set_main_option("script_location", str(CORE_ROOT / "migrations"))
    cfg.set_main_option("path_separator", "os")
    folders = [str(CORE_ROOT / "migrations" / "versions")]
    for name in manager.loaded_names:
        folder = _plugin_versions_dir(name)
        if folder and folder.is_dir():
            folders.append(str(folder))
    cfg.set_main_option("version_locations", os.pathsep.join(folders))
    cfg.attributes["connection"] = connection
    cfg.attributes["only_plugin"] = only_plugin
    cfg.attributes["loaded_plugins"] = ["core", *manager.loaded_names]
    return cfg


def owner_of_table(table_name: str) -> str:
    return table_name.split("_", 1)[0]


def include_object_for(only_plugin: str | None, loaded: list[str] | None):
    """Alembic filter: only tables of ``only_plugin`` (autogenerate) or of loaded plugins, without
    the search indexes the migrations add on PostgreSQL only (names ending in ``_search``)."""

    def include(obj, name, type_, reflected, compare_to):
        if type_ == "index" and reflected and (name or "").endswith(SEARCH_INDEX_SUFFIX):
            return False  # PostgreSQL-only search indexes (erp_core.search), not in the models
        table = obj if type_ == "table" else getattr(obj, "table", None)
        table_name = name if type_ == "table" else (table.name if table is not None else None)
        if table_name is None:
            return True
        if table_name == "alembic_version":
            return False
        owner = owner_of_table(table_name)
        if only_plugin:
            return owner == only_plugin
        return loaded is None or owner in loaded

    return include


def upgrade(target: str = "heads") -> None:
    """Apply every pending migration of the core and the loaded plugins."""
    with db.engine.begin() as connection:
        command.upgrade(alembic_config(connection), target)


def current_heads() -> set[str]:
    """Revisions the database is at."""
    with db.engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def pending() -> bool:
    """True when the database is behind the newest schema."""
    with db.engine.connect() as connection:
        script = ScriptDirectory.from_config(alembic_config(connection))
        current = MigrationContext.configure(connection).get_current_heads()
        # The version table keeps only the tips: a branch that depends on the core's head
        # stands for both, so walk down from the tips to see what is applied.
        applied = {rev.revision for rev in script.iterate_revisions(current, "base")} if current else set()
        return not set(script.get_heads()) <= applied


def revision(plugin: str, message: str):
    """Autogenerate a migration for ``plugin``'s tables into its own branch (developers);
    returns Alembic's Script of the new file."""
    manager = current_app.extensions["erp_plugins"]
    version_dir = CORE_ROOT / "migrations" / "versions" if plugin == "core" else _plugin_versions_dir(plugin)
    version_dir.mkdir(parents=True, exist_ok=True)
    with db.engine.begin() as connection:
        cfg = alembic_config(connection, only_plugin=plugin)
        script = ScriptDirectory.from_config(cfg)
        has_branch = any(plugin in (rev.branch_labels or ()) for rev in script.walk_revisions())
        kwargs = {}
        if has_branch:
            kwargs["head"] = f"{plugin}@head"
        else:
            kwargs["head"] = "base"
            kwargs["branch_label"] = plugin
            deps = ["core", *manager.records[plugin].meta.requires] if plugin != "core" else []
            kwargs["depends_on"] = [f"{d}@head" for d in deps] or None
            if kwargs["depends_on"]:
                kwargs["depends_on"] = [_head_of(script, d) for d in deps]
        count = sum(1 for rev in script.walk_revisions() if rev.revision.startswith(plugin + "_"))
        return command.revision(cfg, message=message, autogenerate=True, version_path=str(version_dir),
                         rev_id=f"{plugin}_{count + 1:04d}", **kwargs)


def _head_of(script: ScriptDirectory, branch: str) -> str:
    return script.get_revision(f"{branch}@head").revision
