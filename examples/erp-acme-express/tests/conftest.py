"""Fixtures: the fake ACME Express server, and ERP apps that discover this package by entry point.

The apps come from ``erp_core.testing`` (``erp_app_factory``), like any plugin's tests. With
``ERP_TEST_DATABASE_URL`` set (a PostgreSQL URL), each app gets a fresh database created on that
server for the test and dropped after it; otherwise a fresh SQLite file.
"""

from __future__ import annotations

import os

import pytest

from acme_fake_server import FakeAcmeServer

pytest_plugins = ["erp_core.testing.fixtures"]

# The fake carrier is on 127.0.0.1: never send the tests' requests through a proxy.
for _name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
    os.environ.pop(_name, None)

PG_URL = os.environ.get("ERP_TEST_DATABASE_URL") or None
PLUGINS = ["orders", "logistics"]  # the built-ins ACME Express needs; the package itself is not listed


@pytest.fixture(scope="session")
def acme_server():
    server = FakeAcmeServer().start()
    yield server
    server.stop()


@pytest.fixture
def acme(acme_server):
    """The fake carrier, emptied for this test."""
    acme_server.acme.reset()
    return acme_server


@pytest.fixture
def database_url(erp_database_url):
    """A brand-new database for this test's app: SQLite, or PostgreSQL when ERP_TEST_DATABASE_URL is set."""
    return erp_database_url


@pytest.fixture
def make_site(erp_app_factory, database_url):
    """``make_site(**config)``: an app with orders and logistics listed and entry points loaded,
    as a site where ``pip install erp-acme-express`` was run would have."""

    def factory(**config):
        config.setdefault("LOAD_ENTRY_POINTS", True)
        return erp_app_factory(plugins=config.pop("plugins", PLUGINS), DATABASE_URL=database_url, **config)

    return factory
