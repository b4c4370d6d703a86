"""Business rules of purchasing: suppliers and their terms, purchase orders, receiving and
replenishment.

Every function works in the caller's transaction and raises a DomainError with a translated
message; the caller commits or rolls back. Modules (each imports only the ones above it):

- :mod:`._common`         parsing of typed text, numbers, prices and dates (not public)
- :mod:`.suppliers`       suppliers, the terms on which they sell products
- :mod:`.csv_import`      suppliers from a CSV file, all or nothing
- :mod:`.purchase_orders` numbering, draft lines, the state table's moves, sending, closing
- :mod:`.incoming`        goods on order for inventory's stock pages (``erp_inventory_incoming``)
- :mod:`.receiving`       receiving in parts into inventory (conditional UPDATE per line)
- :mod:`.replenishment`   reorder rules, suggestions, draft orders from suggestions
- :mod:`.bills`           supplier bills and payments against them (conditional UPDATE)
- :mod:`.payables`        what is owed to whom by due date (the payables report)
"""

from __future__ import annotations

from .bills import (
    BILL_BADGES,
    BILL_LABELS,
    BILL_STATUSES,
    METHODS,
    bills_of,
    company_today,
    get_bill,
    pay_bill,
    payments_of,
    record_bill,
)
from .csv_import import COLUMNS, ImportRefused, import_suppliers
from .incoming import incoming_stock
from .payables import (
    BUCKETS,
    DUE_SOON,
    DUE_SOON_OR_OVERDUE,
    LATER,
    OVERDUE,
    bucket_of,
    csv_text,
    payables_query,
    payables_rows,
    payables_totals,
)
from .purchase_orders import (
    LANGUAGES,
    LineInput,
    cancel_po,
    close_po,
    create_po,
    get_po,
    late_query,
    lock_po,
    move,
    next_po_number,
    on_order_by_product,
    po_lines,
    send_po,
    totals_of,
    update_draft,
)
from .receiving import OverReceipt, receive
from .replenishment import (
    Suggestion,
    create_from_suggestions,
    round_order,
    rules_for,
    set_reorder_rule,
    suggestions,
)
from .suppliers import (
    SupplierInput,
    active_suppliers,
    find_product,
    get_supplier,
    remove_terms,
    save_supplier,
    set_terms,
    supplier_count,
    supplier_query,
    terms_of_products,
    terms_of_supplier,
)

__all__ = [
    "BILL_BADGES", "BILL_LABELS", "BILL_STATUSES", "METHODS", "bills_of", "company_today", "get_bill", "pay_bill",
    "payments_of", "record_bill", "BUCKETS", "DUE_SOON", "DUE_SOON_OR_OVERDUE", "LATER", "OVERDUE", "bucket_of",
    "csv_text", "incoming_stock", "payables_query", "payables_rows", "payables_totals",
    "COLUMNS", "ImportRefused", "LANGUAGES", "LineInput", "OverReceipt", "Suggestion", "SupplierInput",
    "active_suppliers", "cancel_po", "close_po", "create_from_suggestions", "create_po", "find_product", "get_po",
    "get_supplier", "import_suppliers", "late_query", "lock_po", "move", "next_po_number", "on_order_by_product",
    "po_lines", "receive", "remove_terms", "round_order", "rules_for", "save_supplier", "send_po", "set_reorder_rule",
    "set_terms", "suggestions", "supplier_count", "supplier_query", "terms_of_products", "terms_of_supplier", "totals_of",
    "update_draft",
]
