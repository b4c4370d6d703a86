"""'Mark delivered' on a shipment (any carrier, typically one without tracking) and the printable
packing slip with its address label."""

from datetime import timedelta

from erp_core.extensions import db
from erp_core.models import AuditLog
from erp_core.timeutil import utcnow
from plugins.logistics import states
from plugins.logistics.models import Carrier, Shipment, TrackingEvent
from plugins.orders.models import Order
from tests.helpers import login, make_user
from tests.logistics.conftest import make_carriers, make_order, ship

PAYLOAD = "<script>alert(1)</script>"


def _client(app, perms=None, roles=()):
    client = app.test_client()
    login(client, app, make_user(app, perms=perms or [], roles=roles))
    return client


def _shipment(app, **fields):
    with app.test_request_context():
        _demo, manual = make_carriers()
        order = make_order()
        shipment = ship(db.session.get(Order, order.id), db.session.get(Carrier, manual.id), **fields)
        return shipment.id


def test_mark_delivered_moves_the_shipment_once(app):
    shipment_id = _shipment(app)
    admin = _client(app, roles=["admin"])
    page = admin.get(f"/logistics/shipments/{shipment_id}").get_data(as_text=True)
    assert 'data-testid="mark-delivered"' in page
    when = (utcnow() - timedelta(hours=2)).replace(second=0, microsecond=0)
    local = when.strftime("%Y-%m-%dT%H:%M")  # the test site's time zone is UTC
    response = admin.post(f"/logistics/shipments/{shipment_id}/delivered", data={"occurred_at": local})
    assert response.status_code == 302
    assert "marked delivered" in admin.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        shipment = db.session.get(Shipment, shipment_id)
        assert shipment.status == states.DELIVERED
        assert shipment.delivered_at.replace(tzinfo=None) == when.replace(tzinfo=None)
        events = db.session.query(TrackingEvent).filter_by(shipment_id=shipment_id, source="staff").all()
        assert [e.status for e in events] == ["delivered"]
        actions = [r.action for r in db.session.query(AuditLog).filter_by(object_type="shipment", object_id=str(shipment_id))]
        assert "event_added" in actions and "status_changed" in actions
        audit_count = db.session.query(AuditLog).count()
    # twice: refused with a message, nothing written
    again = admin.post(f"/logistics/shipments/{shipment_id}/delivered", data={"occurred_at": ""})
    assert "delivered already" in admin.get(again.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.query(AuditLog).count() == audit_count
        assert db.session.query(TrackingEvent).filter_by(shipment_id=shipment_id, source="staff").count() == 1
    page = admin.get(f"/logistics/shipments/{shipment_id}").get_data(as_text=True)
    assert 'data-testid="mark-delivered"' not in page


def test_mark_delivered_refuses_bad_times_and_changes_nothing(app):
    shipment_id = _shipment(app)
    admin = _client(app, roles=["admin"])
    for value, message in (("2999-01-01T10:00", "cannot be in the future"),
                           ("2001-01-01T10:00", "cannot be delivered before it was shipped"),
                           ("not a time", "could not be recorded")):
        response = admin.post(f"/logistics/shipments/{shipment_id}/delivered", data={"occurred_at": value})
        assert response.status_code == 302
        assert message in admin.get(response.headers["Location"]).get_data(as_text=True), value
    with app.app_context():
        assert db.session.get(Shipment, shipment_id).status == states.IN_TRANSIT
        assert db.session.query(TrackingEvent).filter_by(shipment_id=shipment_id, source="staff").count() == 0


def test_new_routes_need_their_permissions(app):
    shipment_id = _shipment(app)
    nobody = _client(app)
    viewer = _client(app, perms=["logistics.view"])
    assert nobody.get(f"/logistics/shipments/{shipment_id}/packing-slip").status_code == 403
    assert nobody.post(f"/logistics/shipments/{shipment_id}/delivered").status_code == 403
    assert viewer.post(f"/logistics/shipments/{shipment_id}/delivered").status_code == 403
    assert viewer.get(f"/logistics/shipments/{shipment_id}/packing-slip").status_code == 200
    assert 'data-testid="mark-delivered"' not in viewer.get(f"/logistics/shipments/{shipment_id}").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Shipment, shipment_id).status == states.IN_TRANSIT
    assert viewer.get("/logistics/shipments/999999/packing-slip").status_code == 404


def test_packing_slip_in_both_languages_escapes_text(app):
    with app.test_request_context():
        from erp_core import settings

        settings.set_many({"logistics.sender_address": "上海市 1 号\n" + PAYLOAD})
        db.session.commit()
    shipment_id = _shipment(app, notes=PAYLOAD, tracking_number="SF-777888")
    admin = _client(app, roles=["admin"])
    page = admin.get(f"/logistics/shipments/{shipment_id}").get_data(as_text=True)
    assert f"/logistics/shipments/{shipment_id}/packing-slip" in page
    slip = admin.get(f"/logistics/shipments/{shipment_id}/packing-slip").get_data(as_text=True)
    assert PAYLOAD not in slip and "&lt;script&gt;" in slip
    assert "Packing slip" in slip and "SF-777888" in slip and "上海市 1 号" in slip and "data-print" in slip
    with app.app_context():
        shipment = db.session.get(Shipment, shipment_id)
        for line in shipment.lines:
            assert line.sku in slip
        assert shipment.order.number in slip
    admin.post("/language", data={"lang": "zh_CN", "next": "/"})
    slip = admin.get(f"/logistics/shipments/{shipment_id}/packing-slip").get_data(as_text=True)
    assert "装箱单" in slip and "SF-777888" in slip and "Packing slip" not in slip
