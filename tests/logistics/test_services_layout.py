"""The services package keeps its promises: old import paths work, modules stay small and
import only from the modules listed above them in ``services/__init__.py`` (no cycles)."""


from plugins.logistics import services
from tests.helpers import assert_layered_package

# The order of services/__init__.py: a module may import only from those before it.
ORDER = ["_common", "carrier_setup", "shipments", "dispatch", "replacements", "registration", "exceptions",
         "tracking", "reports"]


def test_every_public_name_is_importable_from_the_package():
    used_elsewhere = ["AlreadyCreated", "EXCEPTION_SOURCE", "Invalid", "MAX_PACKAGES", "MAX_WEIGHT_GRAMS",
                      "NOTES_LIMIT", "SHIPPABLE", "ShipmentInput", "adapter_classes", "adapter_for",
                      "add_staff_event", "available_resolutions", "can_contact", "cancel_pending", "carriers",
                      "check_delays", "contact_customer", "create_carrier", "create_replacement", "create_shipment",
                      "current_exception", "default_due_date", "dispatch_shipment", "get_carrier", "get_exception",
                      "get_shipment", "handle_webhook", "masked", "order_overview", "order_shipments",
                      "possible_owners", "public_shipments", "raise_exception", "record_events",
                      "registration_request", "remaining_by_line", "replacement_links", "resolve_exception",
                      "retry_registration", "rotate_webhook_secret", "set_carrier_enabled", "shipment_exceptions",
                      "shipment_value", "shipments_needing_attention", "store_registration", "today",
                      "tracking_link", "tracking_timeline", "try_adapter", "update_carrier", "update_exception",
                      "utcnow", "webhook_secret"]
    assert [n for n in used_elsewhere if n not in services.__all__] == []
    assert callable(services.carriers)  # the function, not a module of that name
    for name in services.__all__:
        assert getattr(services, name) is not None


def test_modules_are_small_and_import_only_from_the_modules_before_them():
    assert_layered_package(services, ORDER)
