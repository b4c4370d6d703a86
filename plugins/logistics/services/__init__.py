"""Business rules of logistics: carriers, shipments, tracking events and delivery exceptions.

Every function works in the caller's transaction and raises a DomainError with a translated
message; the caller then rolls back or commits. Functions that change a shipment first lock its
order's row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite writers are serialised by
``BEGIN IMMEDIATE``), so two shipments of one order delivered at the same moment cannot both
miss that the order is now delivered.

Other plugins are reached only through hooks, inside the same transaction:
``erp_order_goods_shipped`` (inventory consumes the reservation), ``erp_order_goods_returned``,
``erp_refund_requested`` (finance), ``erp_ticket_requested`` (support),
``erp_replacement_shipment_requested`` (answered by logistics itself) and
``erp_shipment_status_changed``. The order moves through ``plugins.orders.services.transition``.
Carrier systems are called only from jobs (:mod:`plugins.logistics.jobs`), outside transactions.

The rules live in one module per part; this package re-exports their public names, so
``from plugins.logistics import services; services.create_shipment(...)`` and
``from plugins.logistics.services import ShipmentInput`` work as they always did:

- :mod:`._common`        constants, the form error, locking an order's row, whole numbers, today
- :mod:`.carrier_setup`  adapters offered by plugins, a carrier's adapter, configuring carriers
- :mod:`.shipments`      an order's shipments, what is left to ship, numbers, status changes,
                         the order following its shipments
- :mod:`.dispatch`       the shipment form's checks, creating and dispatching shipments,
                         withdrawing a pending one
- :mod:`.replacements`   replacement shipments (exchanges from support, re-ships)
- :mod:`.registration`   registering shipments with carriers that issue tracking numbers or take subscriptions
- :mod:`.exceptions`     delivery exceptions: raise, assign, resolve, contact the customer, delays
- :mod:`.tracking`       tracking events (pulled, pushed by webhook, typed by staff), links
- :mod:`.reports`        the dashboard list, the order panel, what customers see, look-ups

Modules import only from the ones above them in this list (no cycles).
"""

from __future__ import annotations

from erp_core.timeutil import utcnow

from ._common import (
    EXCEPTION_SOURCE,
    MAX_PACKAGES,
    MAX_WEIGHT_GRAMS,
    NOTES_LIMIT,
    SHIPPABLE,
    AlreadyCreated,
    Invalid,
    hook_answered,
    sender_address,
    today,
)
from .carrier_setup import (
    adapter_classes,
    adapter_for,
    carriers,
    create_carrier,
    get_carrier,
    masked,
    rotate_webhook_secret,
    set_carrier_enabled,
    stored_credentials,
    test_connection,
    try_adapter,
    update_carrier,
    webhook_secret,
    webhook_url,
)
from .dispatch import (
    ShipmentInput,
    cancel_pending,
    check_tracking_number,
    create_shipment,
    dispatch_shipment,
)
from .exceptions import (
    available_resolutions,
    can_contact,
    check_delays,
    contact_customer,
    current_exception,
    default_due_date,
    possible_owners,
    raise_exception,
    resolve_exception,
    shipment_value,
    update_exception,
)
from .registration import (
    registration_request,
    retry_registration,
    store_registration,
    store_subscription,
)
from .replacements import (
    create_replacement,
)
from .reports import (
    get_exception,
    get_shipment,
    order_overview,
    public_shipments,
    replacement_links,
    shipment_exceptions,
    shipments_needing_attention,
    source_labels,
)
from .shipments import (
    next_shipment_number,
    order_shipments,
    remaining_by_line,
    taken_by_line,
)
from .tracking import (
    add_staff_event,
    future_limit,
    handle_webhook,
    mark_delivered,
    record_events,
    tracking_link,
    tracking_timeline,
)

__all__ = [
    "EXCEPTION_SOURCE",
    "source_labels",
    "MAX_PACKAGES",
    "MAX_WEIGHT_GRAMS",
    "NOTES_LIMIT",
    "SHIPPABLE",
    "AlreadyCreated",
    "Invalid",
    "ShipmentInput",
    "adapter_classes",
    "adapter_for",
    "add_staff_event",
    "available_resolutions",
    "can_contact",
    "cancel_pending",
    "carriers",
    "check_delays",
    "check_tracking_number",
    "contact_customer",
    "create_carrier",
    "create_replacement",
    "create_shipment",
    "current_exception",
    "default_due_date",
    "dispatch_shipment",
    "future_limit",
    "get_carrier",
    "get_exception",
    "get_shipment",
    "handle_webhook",
    "hook_answered",
    "mark_delivered",
    "masked",
    "next_shipment_number",
    "order_overview",
    "order_shipments",
    "possible_owners",
    "public_shipments",
    "raise_exception",
    "record_events",
    "registration_request",
    "remaining_by_line",
    "taken_by_line",
    "replacement_links",
    "resolve_exception",
    "retry_registration",
    "rotate_webhook_secret",
    "sender_address",
    "set_carrier_enabled",
    "stored_credentials",
    "shipment_exceptions",
    "shipment_value",
    "shipments_needing_attention",
    "store_registration",
    "store_subscription",
    "test_connection",
    "today",
    "tracking_link",
    "tracking_timeline",
    "try_adapter",
    "update_carrier",
    "update_exception",
    "utcnow",
    "webhook_secret",
    "webhook_url",
]
