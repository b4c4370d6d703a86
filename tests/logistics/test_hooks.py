"""The hooks logistics owns: carrier adapters, shipment status changes, replacement requests."""

import pytest

from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.plugins import switch_plugin
from plugins.logistics import adapters as a
from plugins.logistics import services, states
from plugins.logistics.models import Shipment
from plugins.logistics.testing import CarrierAdapterContract
from tests.logistics import acme_plugin
from tests.logistics import spy_plugin as spy
from tests.logistics.conftest import SPY, make_carriers, make_order, ship

ACME = "acme=tests.logistics.acme_plugin"


class TestAcmeAdapterContract(CarrierAdapterContract):
    """A third-party adapter runs the same kit."""

    adapter_factory = acme_plugin.AcmeAdapter
    credentials = {"customer_no": "C-1"}


def test_hook_erp_carrier_adapters(make_app):
    app = make_app(plugins=["orders", "logistics", ACME])
    with app.test_request_context():
        assert set(services.adapter_classes()) == {"manual", "manual_named", "demo_express", "kuaidi100",
                                                   "acme_post"}  # bad keys are ignored
        with pytest.raises(services.Invalid) as refused:
            services.create_carrier("ACME", "acme", "acme_post", {})
        assert "cred_customer_no" in refused.value.errors
        carrier = services.create_carrier("ACME", "acme", "acme_post", {"customer_no": "C-1"})
        db.session.commit()
        order = make_order()
        shipment = ship(order, carrier, tracking_number="ac123456")
        assert shipment.tracking_number == "AC123456"
        assert services.tracking_link(shipment) == "https://acme.example/track/AC123456"
        switch_plugin("acme", False)
        db.session.commit()
        db.session.expire_all()
        assert "acme_post" not in services.adapter_classes()
        shipment = db.session.get(Shipment, shipment.id)
        assert services.tracking_link(shipment) is None  # the adapter is gone, the shipment stays
        with pytest.raises(DomainError, match="not installed or switched off"):
            services.adapter_for(carrier)


def test_hook_erp_shipment_status_changed(spy_app):
    with spy_app.test_request_context():
        _demo, manual = make_carriers()
        order = make_order()
        shipment = ship(order, manual)
        exception = services.raise_exception(shipment, a.LOST)
        services.resolve_exception(exception, states.RESHIP)
        db.session.commit()
        assert spy.calls("status") == [(shipment.number, "pending", "in_transit"),
                                       (shipment.number, "in_transit", "exception"),
                                       (shipment.number, "exception", "lost")]

        def refuse_delivery(shipment, old, new):
            if new == states.DELIVERED:
                raise DomainError("delivery not accepted")

        spy.BEHAVIOUR["status"] = refuse_delivery
        replacement = db.session.query(Shipment).filter_by(replaces_id=shipment.id).one()
        services.dispatch_shipment(replacement, services.ShipmentInput(carrier_id=manual.id, carrier_name="SF",
                                                                       tracking_number="SF-R-1"))
        db.session.commit()
        with pytest.raises(DomainError, match="not accepted"):
            services.add_staff_event(replacement, a.DELIVERED, None, "", "")
        db.session.rollback()
        db.session.expire_all()
        assert db.session.get(Shipment, replacement.id).status == states.IN_TRANSIT


def test_hook_erp_replacement_shipment_requested(make_app):
    """Support fires the hook for an exchange; logistics answers with a pending shipment."""
    spy.reset()
    app = make_app(plugins=["orders", "logistics", SPY])
    with app.test_request_context():
        order = make_order()
        manager = app.extensions["erp_plugins"]
        pen = order.lines[0]
        answers = manager.hook.erp_replacement_shipment_requested(
            order=order, quantities={pen.product_id: 2}, reason="Exchange: wrong size", source_type="support_return",
            source_id=41)
        db.session.commit()
        (links,) = answers
        shipment = db.session.get(Shipment, links[0]["id"])
        assert links == [{"id": shipment.id, "label": shipment.number, "url": f"/logistics/shipments/{shipment.id}"}]
        assert (shipment.status, shipment.kind, shipment.source_type, shipment.source_id, shipment.reason) == (
            states.PENDING, states.KIND_EXCHANGE, "support_return", "41", "Exchange: wrong size")
        assert [(l.product_id, l.quantity, l.order_line_id) for l in shipment.lines] == [(pen.product_id, 2, pen.id)]
        with pytest.raises(DomainError):
            manager.hook.erp_replacement_shipment_requested(order=order, quantities={pen.product_id: 0}, reason="",
                                                            source_type="support_return", source_id=42)
        db.session.rollback()
        switch_plugin("lspy", False)
        switch_plugin("logistics", False)
        db.session.commit()
        assert manager.hook.erp_replacement_shipment_requested(
            order=order, quantities={pen.product_id: 1}, reason="", source_type="support_return", source_id=43) == []
