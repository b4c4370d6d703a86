"""Fixtures of the finance tests: an app with orders + finance, and orders to pay."""

from __future__ import annotations

import pytest

from plugins.orders import states as order_states
from plugins.orders import testing as order_testing


def with_demo_gateway(app):
    """Switch the demo gateway on, as demo data does (it is off on other sites); returns ``app``."""
    from erp_core import settings
    from erp_core.extensions import db

    with app.app_context():
        settings.set_many({"finance.method.demo_gateway": True})
        db.session.commit()
    return app


@pytest.fixture
def fin_app(make_app):
    return with_demo_gateway(make_app(plugins=["orders", "finance"]))


def make_order(*lines, currency="CNY", confirm=True, customer=None, warehouse_id=None):
    """An order with ``lines`` = ``(price text, quantity, discount text)`` tuples (in a request
    or app context). Confirmed unless told otherwise."""
    return order_testing.make_order([(quantity, price, discount) for price, quantity, discount in lines or [("100", 1, "0")]],
                                    status=order_states.CONFIRMED if confirm else order_states.DRAFT,
                                    currency=currency, customer=customer, warehouse_id=warehouse_id)
