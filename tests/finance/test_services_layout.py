"""The services package keeps its promises: old import paths work, modules stay small and
import only from the modules listed above them in ``services/__init__.py`` (no cycles)."""


from plugins.finance import services
from tests.helpers import assert_layered_package

# The order of services/__init__.py: a module may import only from those before it.
ORDER = ["_common", "methods", "queries", "credit", "invoices", "invoice_shipments", "payments", "refunds", "callbacks", "settle"]


def test_every_public_name_is_importable_from_the_package():
    used_elsewhere = ["MAX_TEXT", "Payment", "adapter_classes", "adapter_refund_request", "approve_refund",
                      "callback_request", "clean_text", "enabled_methods", "finance_timeline",
                      "finish_remote_refund", "get_adapter", "get_payment", "get_refund", "handle_callback",
                      "mark_payment_failed", "method_label", "method_labels", "method_setting_key",
                      "order_summary", "payment_from_ref", "record_payment", "refund_order", "refund_ref",
                      "reject_refund", "request_refund", "shipping_problems", "start_online_payment"]
    assert [n for n in used_elsewhere if n not in services.__all__] == []
    for name in services.__all__:
        assert getattr(services, name) is not None


def test_modules_are_small_and_import_only_from_the_modules_before_them():
    assert_layered_package(services, ORDER)
