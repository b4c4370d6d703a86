"""Business rules of finance: payments, refunds, gateway callbacks and an order's balance.

Every function works in the caller's transaction and raises a DomainError with a translated
message; the caller commits, or rolls back and shows the message. Other plugins hear about
payments and refunds through ``erp_payment_recorded`` and ``erp_refund_recorded``, fired here
inside the same transaction.

Rules kept here:

* an order's payment state and balance are derived from its payments and refunds
  (:func:`order_summary`), never typed in;
* a payment is in the order's currency and never more than what the order still owes, unless the
  user records the excess explicitly as customer credit;
* a refund never exceeds what is left of its payment: one conditional UPDATE of the payment's
  ``refunded_minor`` counter (``WHERE amount - refunded >= :x``), checked by row count, so twenty
  simultaneous requests cannot refund more than was paid;
* a provider callback is verified by its adapter and recorded once, however often it arrives
  (a conditional UPDATE ``pending -> paid`` checked by row count, plus a unique provider
  reference).

The rules live in one module per subject (listed from the bottom layer up: a module imports only
those above it); every public name stays importable from here:

- ``methods``: the payment adapters of enabled plugins, which are switched on, an adapter with
  its settings;
- ``queries``: an order's derived position (``Summary``), finding payments and refunds, the
  "payment before shipping" policy, the audit timeline;
- ``credit``: the order lock and the rule that an excess is taken only as customer credit;
- ``invoices``: invoices and credit notes (numbers without gaps, snapshots, credits split by rate),
  fapiao records; used as ``services.invoices``;
- ``invoice_shipments``: invoices of one shipment (pro-rata amounts, the last shipment takes the
  remainder; shipments learnt through the hook ``erp_shipped_goods``); used as
  ``services.invoice_shipments``;
- ``payments``: manual payments, online payments started, payments given up;
- ``callbacks``: provider callbacks, verified and recorded once;
- ``settle``: pending online payments whose notification never came, asked of the provider
  (recorded on the callbacks' path) and withdrawn when too old;
- ``refunds``: requests, approval through the adapter, rejection, refunds of an order for other
  plugins.

Helpers shared by these modules (errors, typed amounts and text) are in ``_common``.
"""

from ..adapters import CallbackRejected
from ..models import Payment, Refund
from . import invoices
from ._common import MAX_TEXT, PaymentRefused, RefundRefused, SettingsInvalid, clean_text, parse_money
from .callbacks import CallbackOutcome, callback_request, handle_callback, record_notification
from .methods import (
    MAX_SETTING_LENGTH,
    adapter_classes,
    configure_method,
    derived_secret,
    enabled_methods,
    get_adapter,
    method_configured,
    method_enabled,
    method_label,
    method_labels,
    method_setting_key,
    method_settings,
)
from .payments import mark_payment_failed, record_payment, start_online_payment
from .queries import (
    Summary,
    finance_timeline,
    get_payment,
    get_refund,
    order_summary,
    payment_before_shipping,
    payment_from_ref,
    shipping_problems,
    summaries,
)
from .refunds import (
    adapter_refund_request,
    approve_refund,
    finish_remote_refund,
    record_refund_notice,
    refund_cancelled_order,
    refund_from_ref,
    refund_order,
    refund_overpaid_order,
    refund_ref,
    reject_refund,
    request_refund,
)
from .settle import EXPIRY_DEFAULT, EXPIRY_SETTING, SettleReport, settle_payment, settle_pending

__all__ = [
    "invoices", "MAX_SETTING_LENGTH", "MAX_TEXT", "CallbackOutcome", "CallbackRejected", "Payment", "PaymentRefused", "Refund", "RefundRefused",
    "SettingsInvalid", "Summary",
    "adapter_classes", "adapter_refund_request", "approve_refund", "callback_request", "clean_text",
    "configure_method", "derived_secret", "enabled_methods", "finance_timeline", "finish_remote_refund", "get_adapter",
    "get_payment", "get_refund", "handle_callback", "mark_payment_failed", "method_configured", "method_enabled",
    "method_label", "method_labels", "method_setting_key", "method_settings", "order_summary", "parse_money",
    "payment_before_shipping", "payment_from_ref", "record_notification", "record_payment", "record_refund_notice",
    "refund_cancelled_order", "refund_overpaid_order", "refund_from_ref", "refund_order", "refund_ref", "reject_refund", "request_refund",
    "EXPIRY_DEFAULT", "EXPIRY_SETTING", "SettleReport", "settle_payment", "settle_pending", "shipping_problems",
    "start_online_payment", "summaries",
]
