"""Shared set-up of the quotations tests: a customer with an e-mail and two products."""

from __future__ import annotations

from erp_core.extensions import db
from plugins.orders import services as orders
from plugins.quotations import services

PLUGINS = ["orders", "quotations"]


def setup_data() -> dict:
    """Products P-001 (10.00) and P-002 (25.50), customer Wang with an e-mail; committed."""
    products = [orders.create_product("P-001", "Pen", "10", "CNY"), orders.create_product("P-002", "Book", "25.50", "CNY")]
    customer = orders.create_customer("Wang Customer", "138 0013 8000", "wang@example.com")
    db.session.commit()
    return {"products": [p.id for p in products], "customer": customer.id}


def quote_input(data: dict, **extra) -> services.QuoteInput:
    """A quotation of 3 x P-001 at 9.50 with 10 % off and 2 x P-002 at the catalogue price."""
    values = {"customer_id": data["customer"], "ship_line1": "1 Main Road", "ship_city": "Shanghai",
              "lines": [services.LineInput("P-001", "3", "9.50", "10"), services.LineInput("P-002", "2")]}
    values.update(extra)
    return services.QuoteInput(**values)


def make_quotation(data: dict, *, send: bool = True, **extra):
    """A quotation (sent unless ``send`` is False); committed."""
    quotation = services.create_quotation(quote_input(data, **extra))
    if send:
        services.send_quotation(quotation)
    db.session.commit()
    return quotation
