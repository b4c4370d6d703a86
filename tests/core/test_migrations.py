"""The migrations build exactly the models' schema, on SQLite and PostgreSQL."""


from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from erp_core.app import create_app
from erp_core.extensions import db
from erp_core.migrate import include_object_for, pending, upgrade
from tests.conftest import base_config


def test_migrations_give_exactly_the_models_schema(empty_database_url, tmp_path):
    app = create_app(base_config(empty_database_url), instance=tmp_path)
    with app.app_context():
        assert pending()
        upgrade()
        assert not pending()
        loaded = ["core", *app.extensions["erp_plugins"].loaded_names]
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True, "include_object": include_object_for(None, loaded)})
            diff = compare_metadata(context, db.metadata)
        assert diff == []
        tables = set(inspect(db.engine).get_table_names())
        assert {"core_user", "core_audit_log", "core_plugin_state"} <= tables
        upgrade()  # running it again is harmless
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
