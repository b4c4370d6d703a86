"""Business rules of inventory: the ledger, reservations for orders, receipts, stocktakes,
transfers, warehouses, thresholds and replenishment.

Every function works in the caller's transaction and raises a DomainError with a translated
message; the caller rolls back or commits. Every change of stock goes through
:func:`~.ledger.apply_changes` (one conditional UPDATE for any number of products).

The rules live in one module per part; this package re-exports their public names, so
``from plugins.inventory import services; services.receive_goods(...)`` and
``from plugins.inventory.services import check_ledger`` work as they always did:

- :mod:`._common`       small helpers the modules share (not public)
- :mod:`.warehousing`   warehouses: the default one, create/change, switch off and on
- :mod:`.low_stock`     thresholds, low-stock flags, their alerts and mails
- :mod:`.ledger`        the engine (levels and moves), the shortage refusal, the ledger check
- :mod:`.reservations`  stock for orders: reserve/release, ship, return, change of warehouse
- :mod:`.documents`     receipts, stocktakes, transfers and the parsing of their lines
- :mod:`.replenishment` expected receipts (incoming) and order suggestions
- :mod:`.on_order`      goods on order (asked through ``erp_inventory_incoming``), available to promise
- :mod:`.product_stock` the stock panel of the product page and the product list's column

Modules import only from the ones above them in this list (no cycles).
"""

from __future__ import annotations

from ._common import FINISHED, HOLDING
from .documents import (
    count_stock,
    lines_by_product_id,
    new_form_token,
    parse_lines,
    receive_goods,
    transfer,
)
from .ledger import (
    MAX_LIST,
    MOVE_LABELS,
    Change,
    Difference,
    InsufficientStock,
    MoveSpec,
    apply_changes,
    check_ledger,
    lock_levels,
    move_links,
)
from .low_stock import (
    EMAIL_SETTING,
    low_stock_recipients,
    open_alert_count,
    set_rule,
    sync_low_flags,
)
from .on_order import (
    AvailableToPromise,
    IncomingStock,
    OnOrder,
    atp_by_product,
    available_to_promise,
    incoming_answered,
    incoming_by_level,
    incoming_by_product,
)
from .product_stock import RECENT_MOVES, available_by_product, product_panel, visible_moves
from .replenishment import (
    Suggestion,
    cancel_expected,
    expect_receipt,
    incoming_subquery,
    parse_date,
    receive_expected,
    replenishment_query,
    suggest,
)
from .reservations import (
    OrderStock,
    change_order_warehouse,
    lock_order,
    on_order_changed,
    on_status_changed,
    order_panel,
    order_stock,
    order_warehouse_id,
    return_goods,
    ship_goods,
    sync_order_reservation,
)
from .warehousing import (
    default_warehouse,
    find_default_warehouse,
    get_warehouse,
    save_warehouse,
    set_default_warehouse,
    set_warehouse_active,
    warehouses,
)

__all__ = [
    "AvailableToPromise",
    "IncomingStock",
    "OnOrder",
    "atp_by_product",
    "available_to_promise",
    "incoming_answered",
    "incoming_by_level",
    "incoming_by_product",
    "RECENT_MOVES",
    "available_by_product",
    "product_panel",
    "EMAIL_SETTING",
    "FINISHED",
    "HOLDING",
    "MAX_LIST",
    "MOVE_LABELS",
    "Change",
    "Difference",
    "InsufficientStock",
    "MoveSpec",
    "OrderStock",
    "Suggestion",
    "apply_changes",
    "cancel_expected",
    "change_order_warehouse",
    "check_ledger",
    "count_stock",
    "default_warehouse",
    "expect_receipt",
    "find_default_warehouse",
    "get_warehouse",
    "incoming_subquery",
    "lines_by_product_id",
    "lock_levels",
    "lock_order",
    "low_stock_recipients",
    "move_links",
    "new_form_token",
    "on_order_changed",
    "on_status_changed",
    "open_alert_count",
    "order_panel",
    "order_stock",
    "order_warehouse_id",
    "parse_date",
    "parse_lines",
    "receive_expected",
    "receive_goods",
    "replenishment_query",
    "return_goods",
    "save_warehouse",
    "set_default_warehouse",
    "set_rule",
    "set_warehouse_active",
    "ship_goods",
    "suggest",
    "sync_low_flags",
    "sync_order_reservation",
    "transfer",
    "visible_moves",
    "warehouses",
]
