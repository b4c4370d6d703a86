"""Finance beside the real inventory plugin: the warehouse filter comes from its warehouses."""

from erp_core.extensions import db
from plugins.finance import services
from plugins.orders.models import Order
from tests.finance.conftest import make_order
from tests.helpers import login, make_user


def test_reports_filter_by_inventory_warehouses(make_app):
    from plugins.inventory import services as inventory

    app = make_app(plugins=["orders", "inventory", "finance"])
    with app.test_request_context(method="POST"):
        east = inventory.save_warehouse(None, "EAST", "East depot")
        west = inventory.save_warehouse(None, "WEST", "West depot")
        db.session.commit()
        east_id, west_id = east.id, west.id
        orders = [make_order((price, 1, "0"), confirm=False) for price in ("100", "30")]
        for order, warehouse_id in zip(orders, (east_id, west_id)):
            order.warehouse_id = warehouse_id
            order.status, order.confirmed_at = "confirmed", order.created_at  # stock is not what is tested here
        db.session.commit()
        for order in orders:
            services.record_payment(db.session.get(Order, order.id), "cash", "10")
        db.session.commit()
    client = app.test_client()
    login(client, app, make_user(app, roles=["finance"]))
    page = client.get("/finance/reports/sales").get_data(as_text=True)
    assert 'data-testid="warehouse-filter"' in page and "East depot" in page and "West depot" in page
    west_only = client.get(f"/finance/reports/takings?warehouse={west_id}").get_data(as_text=True)
    east_only = client.get(f"/finance/reports/sales?warehouse={east_id}").get_data(as_text=True)
    assert "CN¥30.00" not in east_only and "CN¥100.00" in east_only
    assert west_only.count("CN¥10.00") >= 1
    csv = client.get(f"/finance/reports/sales/export.csv?warehouse={west_id}").get_data(as_text=True)
    assert csv.strip().splitlines()[1].endswith(",CNY,1,30.00,0.00")
