"""Fixtures: apps with a chosen set of plugins, on SQLite and (when set) PostgreSQL.

The apps and databases come from ``erp_core.testing.fixtures``, the fixtures plugin authors use
(``make_app`` is ``erp_app_factory``): ``ERP_TEST_DATABASE_URL`` switches every database test to
PostgreSQL (each pytest-xdist worker gets its own database, created on demand, emptied before each
test). ``ERP_TEST_REDIS_URL`` enables the tests against real Redis.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from erp_core.testing import config_for_tests
from erp_core.testing.databases import server_url
from tests.helpers import login, make_user

# The project's suite uses the fixtures offered to plugin authors (erp_app_factory, ...).
pytest_plugins = ["erp_core.testing.fixtures"]

PG_URL = server_url()
REDIS_URL = os.environ.get("ERP_TEST_REDIS_URL") or None
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def pg_url(erp_pg_url):
    """The PostgreSQL database of this test process, or None on SQLite runs."""
    return erp_pg_url


@pytest.fixture(scope="session")
def backend(pg_url):
    return "postgresql" if pg_url else "sqlite"


@pytest.fixture
def empty_database_url(erp_database_url):
    """URL of a brand-new, empty database (SQLite file, or PostgreSQL made and dropped)."""
    return erp_database_url


def base_config(database_url: str, plugins=None, **extra) -> dict:
    return config_for_tests(database_url, plugins, **extra)


@pytest.fixture
def make_app(erp_app_factory):
    """Build an app: ``make_app(plugins=[...], enabled=[...], **config)``; apps made in one test
    share one database (so two apps can prove cross-process behaviour)."""
    return erp_app_factory


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def admin_client(app, client):
    user_id = make_user(app, roles=["admin"], username="admin")
    login(client, app, user_id)
    return client
