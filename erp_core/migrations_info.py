"""Read the core's migration scripts without an app (for the plugin generator)."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

CORE_MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def core_head() -> str:
    """The newest revision of the core's branch, which a new plugin's first migration depends on."""
    cfg = Config()
    cfg.set_main_option("script_location", str(CORE_MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)
    return script.get_current_head()
