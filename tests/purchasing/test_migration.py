"""Migration purchasing_0002_bills_and_tax: existing purchase order lines move over as "no tax"
(net = gross = quantity x unit price), the bill tables appear, and it goes back down."""

from alembic import command
from sqlalchemy import inspect, text

from erp_core.app import create_app
from erp_core.extensions import db
from erp_core.migrate import alembic_config, upgrade
from tests.conftest import base_config
from tests.purchasing.common import PLUGINS


def _dispose():
    db.session.remove()
    for engine in db.engines.values():
        engine.dispose()


def test_existing_lines_migrate_as_no_tax_and_back_down(empty_database_url, tmp_path):
    app = create_app(base_config(empty_database_url, plugins=PLUGINS), instance=tmp_path)
    with app.app_context():
        upgrade("core@head")
        upgrade("purchasing_0001")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO orders_product (id, sku, name, name_key, spec, unit, price_minor, currency, "
                              "active, created_at, updated_at) VALUES (1, 'PEN', 'Pen', 'pen', '', 'pcs', 999, 'CNY', "
                              "true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            warehouse = conn.execute(text("SELECT min(id) FROM inventory_warehouse")).scalar_one()
            conn.execute(text("INSERT INTO purchasing_supplier (id, code, name, name_key, contact_name, phone, email, "
                              "address, tax_id, currency, payment_terms, notes, active, created_at, updated_at) VALUES "
                              "(1, 'S', 'S', 's', '', '', '', '', '', 'CNY', '', '', true, CURRENT_TIMESTAMP, "
                              "CURRENT_TIMESTAMP)"))
            conn.execute(text("INSERT INTO purchasing_order (id, number, supplier_id, warehouse_id, status, currency, "
                              "note, close_reason, created_by, created_at) VALUES (1, 'PO-2026-000001', 1, :w, 'sent', "
                              "'CNY', '', '', 'x', CURRENT_TIMESTAMP)"), {"w": warehouse})
            conn.execute(text("INSERT INTO purchasing_order_line (id, order_id, product_id, quantity, received, "
                              "unit_price_minor) VALUES (1, 1, 1, 3, 0, 450)"))
        upgrade()
        with db.engine.connect() as conn:
            line = conn.execute(text("SELECT tax_rate_percent, tax_exempt, net_minor, tax_minor, gross_minor "
                                     "FROM purchasing_order_line")).one()
            tables = set(inspect(conn).get_table_names())
        assert (float(line[0]), bool(line[1]), *line[2:]) == (0.0, False, 1350, 0, 1350)
        assert {"purchasing_bill", "purchasing_bill_payment"} <= tables
        with db.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "purchasing_0001")
        with db.engine.connect() as conn:
            assert "gross_minor" not in {c["name"] for c in inspect(conn).get_columns("purchasing_order_line")}
            assert "purchasing_bill" not in set(inspect(conn).get_table_names())
            assert conn.execute(text("SELECT quantity FROM purchasing_order_line")).scalar_one() == 3
        _dispose()
