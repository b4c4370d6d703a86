"""Migration orders_0004_tax: the seeded rates, and existing orders moved over as "no tax"."""

from alembic import command
from sqlalchemy import inspect, text

from erp_core.app import create_app
from erp_core.extensions import db
from erp_core.migrate import alembic_config, upgrade
from tests.conftest import base_config


def test_existing_orders_migrate_as_no_tax_and_rates_are_seeded(empty_database_url, tmp_path):
    app = create_app(base_config(empty_database_url, plugins=["orders"]), instance=tmp_path)
    with app.app_context():
        upgrade("core@head")
        upgrade("orders_0003")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO orders_customer (id, name, name_key, active, created_at, updated_at) "
                              "VALUES (1, 'Li', 'li', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            conn.execute(text("INSERT INTO orders_product (id, sku, name, name_key, spec, unit, price_minor, currency, "
                              "active, created_at, updated_at) VALUES (1, 'PEN', 'Pen', 'pen', '', 'pcs', 999, 'CNY', "
                              "true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            conn.execute(text(
                "INSERT INTO orders_order (id, number, status, customer_id, contact_name, contact_phone, "
                "contact_phone_key, contact_email, ship_recipient, ship_line1, ship_line2, ship_city, ship_region, "
                "ship_postcode, ship_country, currency, subtotal_minor, discount_minor, total_minor, notes, "
                "created_at, updated_at, version) VALUES (1, 'SO-1', 'draft', 1, '', '', '', '', '', 'x', '', '', "
                "'', '', 'CN', 'CNY', 2997, 300, 2697, '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"))
            conn.execute(text(
                "INSERT INTO orders_order_line (id, order_id, position, product_id, sku, name, spec, unit, quantity, "
                "unit_price_minor, discount_percent, line_total_minor) VALUES (1, 1, 1, 1, 'PEN', 'Pen', '', 'pcs', "
                "3, 999, 10, 2697)"))
        upgrade()
        with db.engine.connect() as conn:
            line = conn.execute(text("SELECT tax_rate_percent, tax_exempt, net_minor, tax_minor, gross_minor, "
                                     "line_total_minor FROM orders_order_line")).one()
            order = conn.execute(text("SELECT tax_minor, total_minor, prices_include_tax FROM orders_order")).one()
            product = conn.execute(text("SELECT tax_rate_id, cost_minor FROM orders_product")).one()
            rates = conn.execute(text("SELECT name, percent, exempt, active, position FROM orders_tax_rate "
                                      "ORDER BY position")).all()
        assert (float(line[0]), bool(line[1]), *line[2:]) == (0.0, False, 2697, 0, 2697, 2697)
        assert (order[0], order[1], bool(order[2])) == (0, 2697, True)
        assert tuple(product) == (None, None)
        assert [(r[0], float(r[1]), bool(r[2]), bool(r[3]), r[4]) for r in rates] == [
            ("VAT 13%", 13, False, True, 1), ("VAT 9%", 9, False, True, 2), ("VAT 6%", 6, False, True, 3),
            ("VAT 3%", 3, False, True, 4), ("VAT 1%", 1, False, True, 5), ("VAT 0%", 0, False, True, 6),
            ("VAT exempt", 0, True, True, 7)]
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
    # and back down (an empty database: SQLite rebuilds tables that orders refer to)
    app = create_app(base_config(empty_database_url, plugins=["orders"]), instance=tmp_path)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM orders_order_line"))
            conn.execute(text("DELETE FROM orders_order"))
            conn.execute(text("DELETE FROM orders_product"))
        with db.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "orders_0003")
        with db.engine.connect() as conn:
            assert "tax_minor" not in {c["name"] for c in inspect(conn).get_columns("orders_order")}
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
