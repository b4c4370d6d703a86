"""``erp plugin new NAME --requires a,b``: check the required plugins and find their branch heads.

Works without an app: the built-in plugins are ``plugins.<name>``, third-party ones the
``erp.plugins`` entry points of the environment; each keeps its Alembic branch (labelled with its
name) in ``<package>/migrations/versions``. Nothing is imported beyond locating the packages.
"""

from __future__ import annotations

import importlib.util
import os
from importlib import metadata
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from ..config import BUILTIN_PLUGINS
from ..migrations_info import CORE_MIGRATIONS
from ..plugins import ENTRY_POINT_GROUP


def known_plugins() -> dict[str, str]:
    """Plugin name -> module name, for the built-in plugins and the installed entry points."""
    known = {name: f"plugins.{name}" for name in BUILTIN_PLUGINS}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        known.setdefault(ep.name, ep.value.split(":", 1)[0])
    return known


def parse_requires(text: str | None) -> tuple[str, ...]:
    """``"orders, inventory"`` -> ``("orders", "inventory")``: stripped, no blanks or repeats."""
    names: list[str] = []
    for part in (text or "").split(","):
        part = part.strip()
        if part and part not in names:
            names.append(part)
    return tuple(names)


def unknown(requires: tuple[str, ...], known: dict[str, str]) -> list[str]:
    """The names in ``requires`` that are no installed plugin."""
    return [name for name in requires if name not in known]


def _versions_dir(module_name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    folder = Path(spec.origin).resolve().parent / "migrations" / "versions"
    return folder if folder.is_dir() else None


def branch_heads(requires: tuple[str, ...], known: dict[str, str]) -> list[str]:
    """The newest revision of each required plugin's branch (plugins without migrations are skipped)."""
    if not requires:
        return []
    folders = [str(CORE_MIGRATIONS / "versions")]
    for module_name in known.values():
        folder = _versions_dir(module_name)
        if folder is not None:
            folders.append(str(folder))
    cfg = Config()
    cfg.set_main_option("script_location", str(CORE_MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(folders))
    script = ScriptDirectory.from_config(cfg)
    labelled = {label for rev in script.walk_revisions() for label in (rev.branch_labels or ())}
    return [script.get_revision(f"{name}@head").revision for name in requires if name in labelled]
