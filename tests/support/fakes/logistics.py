"""Stands in for the logistics plugin: answers erp_replacement_shipment_requested, fires
erp_ticket_requested like logistics does, and shows a panel on the customer's tracking page."""

from erp_core import hookimpl
from erp_core.plugins import PluginMeta

meta = PluginMeta(name="logistics", version="0", title="Fake logistics", requires=("orders",))

CALLS: list = []


@hookimpl
def erp_replacement_shipment_requested(order, quantities, reason, source_type, source_id):
    CALLS.append((order.number, dict(quantities), reason, source_type, source_id))
    return [{"id": 5, "label": "SH-2026-000005", "url": "/fake/shipment/5"}]
