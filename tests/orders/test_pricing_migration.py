"""The pricing migration (orders_0007_pricing): down and up again, orders entered before it keep
their amounts and read as having no fixed and no order discount."""

from alembic import command
from sqlalchemy import inspect, select

from erp_core.app import create_app
from erp_core.extensions import db
from erp_core.migrate import alembic_config, upgrade
from plugins.orders import services
from plugins.orders.models import Order
from plugins.orders.services import LineInput, OrderInput
from tests.conftest import base_config

TABLES = {"orders_price_list", "orders_price_list_item", "orders_customer_group", "orders_role_discount_limit"}


def test_older_orders_keep_their_amounts(empty_database_url, tmp_path):
    app = create_app(base_config(empty_database_url, plugins=["orders"]), instance=tmp_path)
    with app.app_context():
        upgrade()
        with app.test_request_context():
            customer = services.create_customer("Old customer")
            product = services.create_product("OLD-1", "Old", "9.99", "CNY")
            services.create_order(OrderInput(customer_id=customer.id, ship_line1="1 Road",
                                             lines=[LineInput(product.id, 3, discount="10")]))
            db.session.commit()
            before = db.session.scalars(select(Order)).one()
            amounts = (before.subtotal_minor, before.discount_minor, before.tax_minor, before.total_minor)
        db.session.remove()
        with db.engine.begin() as connection:
            command.downgrade(alembic_config(connection), "orders_0005_invoicing_details")
        assert not TABLES & set(inspect(db.engine).get_table_names())
        assert "group_id" not in {c["name"] for c in inspect(db.engine).get_columns("orders_customer")}
        upgrade()
        assert TABLES <= set(inspect(db.engine).get_table_names())
        with app.test_request_context():
            order = db.session.scalars(select(Order)).one()
            assert (order.subtotal_minor, order.discount_minor, order.tax_minor, order.total_minor) == amounts
            assert order.order_discount_percent == 0 and order.order_discount_amount_minor == 0
            assert [(line.line_discount_minor, line.order_discount_minor) for line in order.lines] == [(0, 0)]
            assert order.customer.group_id is None and order.customer.price_list_id is None
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
