"""pytest fixtures for plugin authors (``pytest_plugins = ["erp_core.testing.fixtures"]``)."""

from __future__ import annotations

import pytest

from ..extensions import db
from . import build_app


@pytest.fixture
def erp_app_factory(tmp_path):
    """``erp_app_factory(plugins=[...], migrate=False, **config)`` -> an app on a fresh SQLite file."""
    made = []

    def factory(plugins=None, migrate=False, **config):
        url = config.pop("DATABASE_URL", None) or f"sqlite:///{tmp_path / f'erp{len(made)}.sqlite'}"
        app = build_app(url, tmp_path / "instance", plugins, migrate=migrate, **config)
        made.append(app)
        return app

    yield factory
    for app in made:
        with app.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
