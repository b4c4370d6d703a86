"""WSGI entry point for production servers: ``gunicorn 'erp_core.wsgi:app'``.

Each process that loads it holds the site's serving lock, so ``erp restore`` refuses to run
under a live site (see :mod:`erp_core.backup.lock`).
"""

from .app import create_app
from .backup import hold_serving_lock

app = create_app()
hold_serving_lock(app.instance_path)
