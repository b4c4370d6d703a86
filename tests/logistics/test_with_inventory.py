"""Logistics and the real inventory plugin together: the stock follows every shipment."""

import pytest

from erp_core.errors import DomainError
from erp_core.extensions import db
from plugins.inventory import services as inv
from plugins.logistics import adapters as a
from plugins.logistics import services, states
from plugins.logistics.models import Shipment
from plugins.orders import services as orders
from plugins.orders import states as order_states
from plugins.orders.models import Order
from tests.inventory.common import catalogue, level, make_order, receive
from tests.logistics.conftest import make_carriers, ship


@pytest.fixture
def stock_app(make_app):
    return make_app(plugins=["orders", "inventory", "logistics"])


def test_shipments_consume_the_reservation_and_returns_restock(stock_app):
    with stock_app.test_request_context():
        _demo, manual = make_carriers()
        customer, (tea, cup, _pot) = catalogue()
        warehouse = inv.default_warehouse()
        receive(warehouse, {tea: 10, cup: 10})
        order = make_order(customer, [(tea, 5), (cup, 2)])
        orders.transition(order, order_states.CONFIRMED)
        db.session.commit()
        assert level(tea, warehouse) == (10, 5)
        tea_line, cup_line = order.lines

        first = ship(order, manual, {tea_line.id: 3})
        assert level(tea, warehouse) == (7, 2)
        second = ship(order, manual, {tea_line.id: 2, cup_line.id: 2})
        assert (level(tea, warehouse), level(cup, warehouse)) == ((5, 0), (8, 0))
        assert db.session.get(Order, order.id).status == order_states.SHIPPED

        # refused, back at the warehouse: on the shelf again, and free to ship again
        exception = services.raise_exception(db.session.get(Shipment, first.id), a.REFUSED)
        assert services.available_resolutions(exception) == [states.RESHIP, states.RETURN_TO_STOCK]
        links = services.resolve_exception(exception, states.RETURN_TO_STOCK)
        db.session.commit()
        assert level(tea, warehouse) == (8, 0)
        assert links and "url" in links[0]
        assert services.remaining_by_line(db.session.get(Order, order.id))[tea_line.id] == 3

        # lost: written off (on hand stays), and the re-ship takes new goods from available stock
        exception = services.raise_exception(db.session.get(Shipment, second.id), a.LOST)
        services.resolve_exception(exception, states.RESHIP)
        db.session.commit()
        assert level(tea, warehouse) == (8, 0)
        replacement = db.session.query(Shipment).filter_by(replaces_id=second.id).one()
        services.dispatch_shipment(replacement, services.ShipmentInput(carrier_id=manual.id, carrier_name="SF",
                                                                       tracking_number="SF-RESHIP-1"))
        db.session.commit()
        assert (level(tea, warehouse), level(cup, warehouse)) == ((6, 0), (6, 0))
        assert inv.check_ledger() == []


def test_not_enough_stock_for_a_reship_refuses_the_dispatch(stock_app):
    with stock_app.test_request_context():
        _demo, manual = make_carriers()
        customer, (tea, _cup, _pot) = catalogue()
        warehouse = inv.default_warehouse()
        receive(warehouse, {tea: 2})
        order = make_order(customer, [(tea, 2)])
        orders.transition(order, order_states.CONFIRMED)
        db.session.commit()
        shipment = ship(order, manual)
        exception = services.raise_exception(db.session.get(Shipment, shipment.id), a.DAMAGED)
        services.resolve_exception(exception, states.RESHIP)
        db.session.commit()
        replacement = db.session.query(Shipment).filter_by(replaces_id=shipment.id).one()
        with pytest.raises(DomainError):
            services.dispatch_shipment(replacement, services.ShipmentInput(
                carrier_id=manual.id, carrier_name="SF", tracking_number="SF-RESHIP-2"))
        db.session.rollback()
        assert db.session.get(Shipment, replacement.id).status == states.PENDING
        assert level(tea, warehouse) == (0, 0)


def test_goods_returned_answers_outside_a_request(stock_app):
    """Jobs, the CLI and demo data call the hook without a request: links still carry the site path."""
    with stock_app.app_context():
        customer, (tea, _cup, _pot) = catalogue()
        receive(inv.default_warehouse(), {tea: 3})
        order = make_order(customer, [(tea, 3)])
        orders.transition(order, order_states.CONFIRMED)
        manager = stock_app.extensions["erp_plugins"]
        manager.hook.erp_order_goods_shipped(order=order, quantities={tea.id: 3}, reference="SH-TEST-1")
        (links,) = manager.hook.erp_order_goods_returned(order=order, quantities={tea.id: 1}, restock=True,
                                                          reference="SH-TEST-1")
        assert links[0]["url"].startswith(f"/inventory/products/{tea.id}")
    from erp_core.i18n import render_system_text

    with stock_app.test_request_context(headers={"Accept-Language": "en"}):
        assert "Stock move" in render_system_text(links[0]["label"])  # stored as a key, read in words
