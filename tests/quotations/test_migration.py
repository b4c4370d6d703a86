"""Migration quotations_0001: the tables appear on top of the orders schema and go back down."""

from alembic import command
from sqlalchemy import inspect

from erp_core.app import create_app
from erp_core.extensions import db
from erp_core.migrate import alembic_config, upgrade
from tests.conftest import base_config
from tests.quotations.common import PLUGINS


def test_quotation_tables_go_up_and_down(empty_database_url, tmp_path):
    app = create_app(base_config(empty_database_url, plugins=PLUGINS), instance=tmp_path)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            assert {"quotations_quotation", "quotations_line"} <= set(inspect(conn).get_table_names())
        with db.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "quotations@base")
        with db.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
        assert "quotations_quotation" not in tables and "orders_order" in tables
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
