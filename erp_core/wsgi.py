"""WSGI entry point for production servers: ``gunicorn 'erp_core.wsgi:app'``."""

from .app import create_app

app = create_app()
