"""What code outside logistics may use of it: a carrier plugin's own tests and set-up code
configure a carrier and sign pushes the way the site does. Other plugins talk to logistics
through its hooks (``erp_replacement_shipment_requested``, ``erp_shipment_status_changed``,
``erp_shipment_panels``) and carrier adapters through :mod:`plugins.logistics.adapters`.

These functions work in the caller's transaction (commit yourself) and need an application
context.
"""

from __future__ import annotations

from .models import Carrier, Shipment
from .services import create_carrier, get_shipment, webhook_secret

__all__ = ["Carrier", "Shipment", "create_carrier", "get_shipment", "webhook_secret"]
