"""The services package keeps its promises: old import paths work, modules stay small and
import only from the modules listed above them in ``services/__init__.py`` (no cycles)."""


from plugins.inventory import services
from tests.helpers import assert_layered_package

# The order of services/__init__.py: a module may import only from those before it.
ORDER = ["_common", "warehousing", "low_stock", "ledger", "reservations", "documents", "replenishment", "on_order", "product_stock"]


def test_every_public_name_is_importable_from_the_package():
    used_elsewhere = ["InsufficientStock", "cancel_expected", "change_order_warehouse", "check_ledger",
                      "count_stock", "default_warehouse", "expect_receipt", "find_default_warehouse",
                      "get_warehouse", "lines_by_product_id", "move_links", "new_form_token", "on_order_changed",
                      "on_status_changed", "open_alert_count", "order_panel", "available_by_product", "product_panel", "parse_date", "parse_lines",
                      "receive_expected", "receive_goods", "replenishment_query", "return_goods", "save_warehouse",
                      "set_default_warehouse", "set_rule", "set_warehouse_active", "ship_goods", "suggest",
                      "sync_low_flags", "transfer", "warehouses"]
    assert [n for n in used_elsewhere if n not in services.__all__] == []
    assert callable(services.warehouses)  # the function, not a module of that name
    for name in services.__all__:
        assert getattr(services, name) is not None


def test_modules_are_small_and_import_only_from_the_modules_before_them():
    assert_layered_package(services, ORDER)
