"""Business rules of orders: customers, products, order entry, changes and the status machine.

Every function works in the caller's transaction and raises a DomainError (with a translated
message); the caller then rolls back (a refused call may have flushed part of its work) or
commits. Other plugins attach themselves through the hooks called here (``erp_order_created``,
``erp_order_changed``, ``erp_order_validate_transition``, ``erp_order_status_changed``), inside
the same transaction.

The package is split by job; import from the package, which re-exports every public name:

- :mod:`._common`: parsing of typed values (phone, e-mail, quantity, discount) and the order's
  version lock, shared by the modules below;
- :mod:`.catalogue`: customers, their addresses, products;
- :mod:`.customers`: contacts, tags, owner and the "own customers only" scope, credit limit and
  payment terms, billing addresses;
- :mod:`.entry`: what the forms submit (``OrderInput``, ``LineInput``), its checks, ``create_order``;
- :mod:`.editing`: ``update_order`` (changing an order that has not shipped);
- :mod:`.origin`: sales channel and external reference of an order (one order per reference);
- :mod:`.bulk`: tags, re-ordering (``duplicate_order``) and the order list's bulk actions;
- :mod:`.invoicing`: buyers' invoicing details (开票信息) of customers and their copy on orders;
- :mod:`.transitions`: the status machine, the order page's actions, shipping in full, and the
  announcements that goods came back (``goods_came_back``) or money was returned (``money_returned``).
"""

from ._common import (
                        MAX_LINES,
                        MAX_QUANTITY,
                        check_phone,
                        normalise_email,
                        parse_discount,
                        parse_quantity,
                        phone_key,
)
from .bulk import (
                        BULK_ACTIONS,
                        MAX_SELECTION,
                        Outcome,
                        add_tag,
                        check_tag,
                        duplicate_order,
                        remove_tag,
                        run_bulk,
                        selected_orders,
                        tags_of,
)
from .catalogue import (
                        ADDRESS_FIELDS,
                        PossibleDuplicate,
                        add_address,
                        check_language,
                        create_customer,
                        create_product,
                        customer_language,
                        delete_address,
                        find_by_barcode,
                        find_by_sku,
                        find_duplicates,
                        get_address,
                        get_customer,
                        get_product,
                        require_products,
                        set_default_address,
                        update_address,
                        update_customer,
                        update_product,
)
from .customers import (
                        CREDIT_OVERRIDE,
                        SCOPE_OWN,
                        CreditLimitExceeded,
                        add_contact,
                        check_credit,
                        customer_scope,
                        delete_contact,
                        get_contact,
                        open_balance,
                        order_scope,
                        scope_owner_id,
                        set_owner,
                        set_tags,
                        set_terms,
                        update_contact,
)
from .editing import update_order
from .entry import (
                        HEADER_FIELDS,
                        LineInput,
                        OrderInput,
                        OrderInvalid,
                        create_order,
                        next_order_number,
)
from .invoicing import (
                        InvoicingInvalid,
                        check_invoicing,
                        copy_customer_invoicing,
                        invoicing_locked_reasons,
                        set_customer_invoicing,
                        set_order_invoicing,
)
from .origin import DuplicateExternalRef, find_by_ref
from .transitions import (
                        PATHS,
                        advance_order,
                        available_actions,
                        get_order,
                        goods_came_back,
                        manual_shipping_allowed,
                        money_returned,
                        path_to,
                        perform_action,
                        quantities_by_product,
                        ship_everything,
                        transition,
)

__all__ = [
    "ADDRESS_FIELDS", "HEADER_FIELDS", "MAX_LINES", "MAX_QUANTITY", "PATHS", "LineInput", "OrderInput", "OrderInvalid",
    "PossibleDuplicate", "add_address", "advance_order", "available_actions", "check_language", "check_phone",
    "create_customer", "customer_language",
    "create_order", "create_product", "delete_address", "find_by_barcode", "find_by_sku", "find_duplicates", "get_address", "get_customer", "get_order",
    "get_product", "goods_came_back", "manual_shipping_allowed", "money_returned", "next_order_number", "normalise_email", "parse_discount",
    "parse_quantity", "path_to", "perform_action", "phone_key", "quantities_by_product", "require_products",
    "set_default_address", "ship_everything", "transition", "update_address", "update_customer", "update_order",
    "update_product",
    "InvoicingInvalid", "check_invoicing", "copy_customer_invoicing", "invoicing_locked_reasons",
    "set_customer_invoicing", "set_order_invoicing",
    "BULK_ACTIONS", "MAX_SELECTION", "DuplicateExternalRef", "Outcome", "add_tag", "check_tag", "duplicate_order",
    "find_by_ref", "remove_tag", "run_bulk", "selected_orders", "tags_of",
    "CREDIT_OVERRIDE", "SCOPE_OWN", "CreditLimitExceeded", "add_contact", "check_credit", "customer_scope",
    "delete_contact", "get_contact", "open_balance", "order_scope", "scope_owner_id", "set_owner", "set_tags",
    "set_terms", "update_contact",
]
