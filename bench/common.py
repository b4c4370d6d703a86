"""What the bench scripts share: database URLs, creating and dropping bench databases, the app.

Nothing here is used by the application itself.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PLUGINS = ["orders", "inventory", "logistics", "finance", "support"]
TIMEZONE = "Asia/Shanghai"
SECRET_KEY = "bench-secret-key-not-for-production"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def backend_of(url: str) -> str:
    return "sqlite" if is_sqlite(url) else "postgresql"


def _admin_engine(url: str):
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def fresh_database(url: str) -> str:
    """Make ``url`` an empty database: delete the SQLite file, or drop and create the PostgreSQL
    database (only databases named ``erp_bench_*`` or ``*_bench*``, so that a typo cannot drop a
    real site)."""
    if is_sqlite(url):
        path = Path(make_url(url).database)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return url
    name = make_url(url).database
    if "bench" not in name:
        raise SystemExit(f"refusing to recreate the PostgreSQL database {name!r}: bench databases have 'bench' "
                         "in their name")
    admin = _admin_engine(url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url


def drop_database(url: str) -> None:
    """Remove a bench database made by :func:`fresh_database`."""
    if is_sqlite(url):
        path = Path(make_url(url).database)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    name = make_url(url).database
    if "bench" not in name:
        return
    admin = _admin_engine(url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def app_config(url: str, **extra) -> dict:
    """The configuration every bench process uses (the gunicorn workers get the same through ERP_*)."""
    config = {"SECRET_KEY": SECRET_KEY, "DATABASE_URL": url, "PLUGINS": list(PLUGINS),
              "PLUGINS_ENABLED": list(PLUGINS), "LOAD_ENTRY_POINTS": False, "REDIS_URL": "", "MAIL_SERVER": "",
              "TIMEZONE": TIMEZONE, "CURRENCY": "CNY", "LOG_LEVEL": "WARNING"}
    config.update(extra)
    return config


def server_env(url: str, instance: Path) -> dict:
    """Environment for a gunicorn running ``erp_core.wsgi:app`` on ``url`` (see docs/DEPLOY.md)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ERP_")}
    env.update({"PYTHONPATH": str(ROOT), "ERP_DATABASE_URL": url, "ERP_SECRET_KEY": SECRET_KEY,
                "ERP_PLUGINS": ",".join(PLUGINS), "ERP_PLUGINS_ENABLED": ",".join(PLUGINS),
                "ERP_LOAD_ENTRY_POINTS": "0", "ERP_INSTANCE_PATH": str(instance), "ERP_TIMEZONE": TIMEZONE,
                "ERP_LOG_LEVEL": "WARNING", "ERP_MAIL_SERVER": ""})
    return env


def build_app(url: str, instance: Path, migrate: bool = True):
    """The ERP app on ``url`` with its schema made by the real migrations (as ``erp db upgrade``)."""
    from erp_core.app import create_app
    from erp_core.auth.services import sync_roles_and_permissions
    from erp_core.extensions import db
    from erp_core.migrate import upgrade

    instance.mkdir(parents=True, exist_ok=True)
    app = create_app(app_config(url), instance=instance)
    if migrate:
        with app.app_context():
            upgrade()
            sync_roles_and_permissions()
            db.session.commit()
    return app


def line_tax(gross_minor: int, percent: int = 13) -> int:
    """The VAT inside a tax-inclusive line amount, half-up (the rule of ``plugins.orders.tax``),
    so that generated lines carry net, tax and gross as entered orders do."""
    return (gross_minor * percent * 2 + (100 + percent)) // ((100 + percent) * 2)
