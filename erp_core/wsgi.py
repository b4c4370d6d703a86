"""WSGI entry point for production servers: ``gunicorn 'erp_core.wsgi:app'``.

Each process that loads it holds the site's serving lock, so ``erp restore`` refuses to run
under a live site (see :mod:`erp_core.backup.lock`), and, without Redis, runs background jobs
and schedules in a thread of its own (see :mod:`erp_core.runner`).
"""

from .app import create_app
from .backup import hold_serving_lock
from .runner import start_for_process

app = create_app()
hold_serving_lock(app.instance_path)
start_for_process(app)
