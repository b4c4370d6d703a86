"""The migration of invoicing details (orders_0005_invoicing_details): the two tables come and go,
and customers and orders made before it read as asking for no invoice."""

from alembic import command
from sqlalchemy import inspect, select

from erp_core.app import create_app
from erp_core.extensions import db
from erp_core.migrate import alembic_config, current_heads, upgrade
from plugins.orders import services
from plugins.orders.invoicing_details import customer_invoicing_details, order_invoicing_details
from plugins.orders.models import Customer, Order
from plugins.orders.services import LineInput, OrderInput
from tests.conftest import base_config

TABLES = {"orders_customer_invoicing", "orders_order_invoicing"}


def test_downgrade_and_upgrade_keep_older_records(empty_database_url, tmp_path):
    app = create_app(base_config(empty_database_url, plugins=["orders"]), instance=tmp_path)
    with app.app_context():
        upgrade()
        assert "orders_0008_backorders" in current_heads()  # the head of orders, after 0005
        with app.test_request_context():
            customer = services.create_customer("Old customer")
            services.set_customer_invoicing(customer, {"invoice_type": "ordinary", "title": "Old customer"})
            product = services.create_product("OLD-1", "Old", "1", "CNY")
            services.create_order(OrderInput(customer_id=customer.id, ship_line1="1 Road",
                                             lines=[LineInput(product.id, 1)]))
            db.session.commit()
        db.session.remove()
        with db.engine.begin() as connection:
            command.downgrade(alembic_config(connection), "orders_0003")
        assert not TABLES & set(inspect(db.engine).get_table_names())
        upgrade()
        assert TABLES <= set(inspect(db.engine).get_table_names())
        with app.test_request_context():
            customer = db.session.scalars(select(Customer)).one()
            order = db.session.scalars(select(Order)).one()
            assert customer_invoicing_details(customer).invoice_type == "none"
            assert order_invoicing_details(order).is_empty
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
