"""What the quotation pages, the print sheet and the mail show of a quotation."""

from __future__ import annotations

from erp_core.extensions import db
from plugins.orders.public import Customer, Order, rate_label

from . import states


def quotation_context(quotation) -> dict:
    """Template values: the quotation, its customer, lines, status labels and the order it became."""
    customer = db.session.get(Customer, quotation.customer_id)
    order = db.session.get(Order, quotation.order_id) if quotation.order_id else None
    return {"quotation": quotation, "customer": customer, "lines": list(quotation.lines), "order": order,
            "labels": states.LABELS, "badges": states.BADGES, "rate_label": rate_label}
