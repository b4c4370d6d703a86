"""Tracking events: pulled by the sync job, pushed by signed webhooks, typed by staff."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from erp_core import settings
from erp_core.errors import Conflict, DomainError
from erp_core.extensions import db
from plugins.logistics import adapters as a
from plugins.logistics import jobs, services, states
from plugins.logistics.builtin_adapters import DemoExpressAdapter
from plugins.logistics.models import DeliveryException, Shipment, TrackingEvent
from plugins.orders import states as order_states
from plugins.orders.models import Order
from tests.logistics import spy_plugin as spy
from tests.logistics.conftest import make_carriers, make_order, ship


def _fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def _clock(monkeypatch, moment):
    monkeypatch.setattr(DemoExpressAdapter, "clock", staticmethod(lambda: moment))


def _start(shipment):
    return datetime.combine(shipment.ship_date, datetime.min.time(), tzinfo=UTC) + timedelta(hours=2)


@pytest.fixture(autouse=True)
def _stories_may_run_ahead(request, monkeypatch):
    """The parcel stories here start today and run up to three days on (the simulator's clock is
    moved): events later than a day ahead would be refused, so these tests allow a month.
    The tests of that rule (named "...dated...ahead...") keep the real tolerance."""
    if "ahead" not in request.node.name:
        monkeypatch.setattr(services.tracking, "_future_hours", lambda: 24 * 30)


def _event(number, hours, status, start, kind=None, event_id=None, description=""):
    return a.TrackingEvent(tracking_number=number, occurred_at=start + timedelta(hours=hours), status=status,
                           event_id=event_id if event_id is not None else f"{number}-{status}-{hours}",
                           exception_kind=kind, description=description)


def _post(client, carrier, events, secret=None):
    adapter = services.adapter_for(carrier)
    if secret is not None:
        adapter = DemoExpressAdapter(a.CarrierConfig("x", "x", webhook_secret=secret))
    headers, body = adapter.build_test_webhook(events)
    return client.post(f"/logistics/webhooks/{carrier.code}", data=body, headers=headers)


def test_sync_pulls_the_carriers_story_and_delivers_the_order(spy_app, monkeypatch):
    with spy_app.test_request_context():
        demo, _manual = make_carriers()
        order = make_order()
        shipment = _fresh(Shipment, ship(order, demo).id)
        start = _start(shipment)
        _clock(monkeypatch, start + timedelta(hours=20))
        summary = jobs.sync_tracking()
        assert summary == {"shipments": 1, "new": 3, "duplicate": 0, "failed": 0}
        shipment = _fresh(Shipment, shipment.id)
        assert shipment.status == states.IN_TRANSIT and shipment.last_synced_at is not None
        _clock(monkeypatch, start + timedelta(days=3))
        assert jobs.sync_tracking() == {"shipments": 1, "new": 2, "duplicate": 3, "failed": 0}
        shipment = _fresh(Shipment, shipment.id)
        assert shipment.status == states.DELIVERED
        assert shipment.delivered_at == start + timedelta(hours=30)
        assert _fresh(Order, order.id).status == order_states.DELIVERED
        assert [s[1:] for s in spy.calls("status")] == [("pending", "in_transit"), ("in_transit", "delivered")]
        assert jobs.sync_tracking()["shipments"] == 0  # delivered shipments are no longer pulled


def test_order_is_delivered_only_when_everything_shipped_has_arrived(app, monkeypatch):
    with app.test_request_context():
        _demo, manual = make_carriers()
        order = make_order()
        pen, ink = order.lines
        first = ship(order, manual, {pen.id: 5})
        services.add_staff_event(first, a.DELIVERED, None, "", "")
        db.session.commit()
        assert _fresh(Order, order.id).status == order_states.PARTIALLY_SHIPPED  # ink not shipped yet
        second = ship(order, manual, {ink.id: 1})
        third = ship(order, manual, {ink.id: 1})
        assert _fresh(Order, order.id).status == order_states.SHIPPED
        services.add_staff_event(_fresh(Shipment, second.id), a.DELIVERED, None, "", "")
        db.session.commit()
        assert _fresh(Order, order.id).status == order_states.SHIPPED  # the third is still on its way
        services.add_staff_event(_fresh(Shipment, third.id), a.DELIVERED, None, "left at the door", "")
        db.session.commit()
        assert _fresh(Order, order.id).status == order_states.DELIVERED


def test_webhook_events_are_verified_and_stored_once(app):
    with app.test_request_context():
        demo, _manual = make_carriers()
        order = make_order()
        shipment = _fresh(Shipment, ship(order, demo).id)
        number, start = shipment.tracking_number, _start(shipment)
    client = app.test_client()
    events = [_event(number, 3, a.PICKED_UP, start), _event(number, 14, a.IN_TRANSIT, start)]
    with app.test_request_context():
        demo = db.session.get(type(demo), demo.id)
        response = _post(client, demo, events)
        assert response.status_code == 200 and response.json == {"new": 2, "duplicate": 0, "unknown": 0}
        again = _post(client, demo, events + [_event("DEX260101260000090", 1, a.INFO, start)])
        assert again.json == {"new": 0, "duplicate": 2, "unknown": 1}
        assert db.session.query(TrackingEvent).count() == 2
        forged = _post(client, demo, [_event(number, 30, a.DELIVERED, start)], secret="guessed")
        assert forged.status_code == 401
        headers, body = services.adapter_for(demo).build_test_webhook([_event(number, 30, a.DELIVERED, start)])
        tampered = client.post(f"/logistics/webhooks/{demo.code}", data=body.replace(b"delivered", b"Delivered"),
                               headers=headers)
        assert tampered.status_code == 401
        assert client.post(f"/logistics/webhooks/{demo.code}", data=body).status_code == 401  # no signature
        assert client.post("/logistics/webhooks/nobody", data=body, headers=headers).status_code == 404
        junk = b'{"events": [{"status": "teleported"}]}'
        signed = {DemoExpressAdapter.SIGNATURE_HEADER: "sha256=" + a.sign_hmac_sha256(services.webhook_secret(demo), junk)}
        assert client.post(f"/logistics/webhooks/{demo.code}", data=junk, headers=signed).status_code == 400
        assert _fresh(Shipment, shipment.id).status == states.IN_TRANSIT
        assert db.session.query(TrackingEvent).count() == 2
        services.set_carrier_enabled(_fresh(type(demo), demo.id), False)
        db.session.commit()
        assert client.post(f"/logistics/webhooks/{demo.code}", data=body, headers=headers).status_code == 404


def test_rotating_the_secret_stops_the_old_one(app):
    with app.test_request_context():
        demo, _manual = make_carriers()
        order = make_order()
        shipment = _fresh(Shipment, ship(order, demo).id)
        event = _event(shipment.tracking_number, 3, a.PICKED_UP, _start(shipment))
        headers, body = services.adapter_for(demo).build_test_webhook([event])
        old_secret = services.webhook_secret(demo)
        services.rotate_webhook_secret(demo)
        db.session.commit()
        assert services.webhook_secret(demo) != old_secret
    response = app.test_client().post("/logistics/webhooks/demo-express", data=body, headers=headers)
    assert response.status_code == 401


def test_out_of_order_events_keep_the_timeline_in_time_order(app):
    with app.test_request_context():
        demo, _manual = make_carriers()
        order = make_order()
        shipment = _fresh(Shipment, ship(order, demo).id)
        number, start = shipment.tracking_number, _start(shipment)
        services.record_events(shipment, [_event(number, 30, a.DELIVERED, start)], "webhook")
        db.session.commit()
        services.record_events(shipment, [_event(number, 26, a.OUT_FOR_DELIVERY, start),
                                          _event(number, 3, a.PICKED_UP, start)], "webhook")
        services.record_events(shipment, [_event(number, 29, a.EXCEPTION, start, kind=a.ADDRESS_PROBLEM)], "carrier")
        db.session.commit()
        shipment = _fresh(Shipment, shipment.id)
        assert shipment.status == states.DELIVERED  # the late, older events changed nothing
        assert db.session.query(DeliveryException).count() == 0
        timeline = services.tracking_timeline(shipment.id)
        assert [e.status for e in timeline] == [a.PICKED_UP, a.OUT_FOR_DELIVERY, a.EXCEPTION, a.DELIVERED]
        assert [e.occurred_at for e in timeline] == sorted(e.occurred_at for e in timeline)


def test_events_without_carrier_ids_are_recognised_by_content(app):
    with app.test_request_context():
        demo, _manual = make_carriers()
        order = make_order()
        shipment = _fresh(Shipment, ship(order, demo).id)
        event = _event(shipment.tracking_number, 3, a.PICKED_UP, _start(shipment), event_id="")
        assert services.record_events(shipment, [event, event], "webhook") == {"new": 1, "duplicate": 1}
        bogus = a.TrackingEvent(shipment.tracking_number, datetime(2026, 1, 1), "teleported")
        assert services.record_events(shipment, [bogus], "carrier") == {"new": 0, "duplicate": 0}


def test_carrier_exception_raises_and_delivery_resolves_it(spy_app):
    with spy_app.test_request_context():
        demo, _manual = make_carriers()
        order = make_order()
        shipment = _fresh(Shipment, ship(order, demo).id)
        number, start = shipment.tracking_number, _start(shipment)
        services.record_events(shipment, [_event(number, 29, a.EXCEPTION, start, kind=a.ADDRESS_PROBLEM,
                                                 description="Address incomplete")], "webhook")
        db.session.commit()
        exception = db.session.query(DeliveryException).one()
        assert (exception.kind, exception.source, exception.status) == (a.ADDRESS_PROBLEM, states.SOURCE_CARRIER, states.OPEN)
        assert exception.due_date == services.today() + timedelta(days=2)
        assert _fresh(Shipment, shipment.id).status == states.EXCEPTION
        services.record_events(_fresh(Shipment, shipment.id), [_event(number, 55, a.DELIVERED, start)], "webhook")
        db.session.commit()
        exception = _fresh(DeliveryException, exception.id)
        assert (exception.status, exception.resolution, exception.open_key) == (states.RESOLVED, states.DELIVERED_AFTER_ALL, None)
        assert _fresh(Order, order.id).status == order_states.DELIVERED
        assert [s[1:] for s in spy.calls("status")] == [("pending", "in_transit"), ("in_transit", "exception"),
                                                        ("exception", "delivered")]


def test_returned_event_opens_a_returned_to_sender_exception(app):
    with app.test_request_context():
        demo, _manual = make_carriers()
        order = make_order()
        shipment = _fresh(Shipment, ship(order, demo).id)
        services.record_events(shipment, [_event(shipment.tracking_number, 80, a.RETURNED, _start(shipment))], "carrier")
        db.session.commit()
        assert db.session.query(DeliveryException).one().kind == a.RETURNED_TO_SENDER


def test_staff_events(app):
    with app.test_request_context():
        _demo, manual = make_carriers()
        order = make_order()
        shipment = ship(order, manual)
        with pytest.raises(DomainError, match="what happened"):
            services.add_staff_event(shipment, "teleported", None, "", "")
        with pytest.raises(DomainError, match="future"):
            services.add_staff_event(shipment, a.IN_TRANSIT, services.utcnow() + timedelta(hours=2), "", "")
        db.session.rollback()
        yesterday = services.utcnow() - timedelta(days=1)
        services.add_staff_event(shipment, a.PICKED_UP, yesterday, "collected", "Warehouse")
        db.session.commit()
        assert _fresh(Shipment, shipment.id).status == states.IN_TRANSIT
        services.add_staff_event(_fresh(Shipment, shipment.id), a.DELIVERED, yesterday - timedelta(hours=1), "", "")
        db.session.commit()
        assert _fresh(Shipment, shipment.id).status == states.DELIVERED  # what staff type always applies
        with pytest.raises(Conflict):
            services.add_staff_event(_fresh(Shipment, shipment.id), a.IN_TRANSIT, None, "", "")
        event = db.session.query(TrackingEvent).filter_by(status=a.PICKED_UP).one()
        assert (event.source, event.description, event.location) == ("staff", "collected", "Warehouse")


def test_check_delays_raises_one_delayed_exception_per_late_shipment(app):
    with app.test_request_context():
        _demo, manual = make_carriers()
        order = make_order()
        pen, ink = order.lines
        late = ship(order, manual, {pen.id: 5}, ship_date=services.today() - timedelta(days=5),
                    expected_delivery=services.today() - timedelta(days=1))
        on_time = ship(order, manual, {ink.id: 2}, expected_delivery=services.today())
        assert jobs.check_delays() == 1
        assert jobs.check_delays() == 0
        exception = db.session.query(DeliveryException).one()
        assert (exception.shipment_id, exception.kind, exception.source) == (late.id, a.DELAYED, states.SOURCE_SCHEDULE)
        assert _fresh(Shipment, on_time.id).status == states.IN_TRANSIT
        settings.set_many({"logistics.delay_grace_days": 3})
        db.session.commit()
        services.add_staff_event(_fresh(Shipment, on_time.id), a.OUT_FOR_DELIVERY, None, "", "")
        assert services.check_delays(on_day=services.today() + timedelta(days=2)) == []  # within the grace
        assert len(services.check_delays(on_day=services.today() + timedelta(days=4))) == 1


def test_sync_survives_a_failing_carrier_and_skips_switched_off_ones(app, monkeypatch):
    with app.test_request_context():
        demo, _manual = make_carriers()
        order = make_order()
        pen, ink = order.lines
        first = ship(order, demo, {pen.id: 5})
        ship(order, demo, {ink.id: 2})

        def broken(self, number):
            if number == _fresh(Shipment, first.id).tracking_number:
                raise a.AdapterError("carrier API timed out")
            return []

        monkeypatch.setattr(DemoExpressAdapter, "fetch_tracking", broken)
        assert jobs.sync_tracking() == {"shipments": 2, "new": 0, "duplicate": 0, "failed": 1}
        services.set_carrier_enabled(_fresh(type(demo), demo.id), False)
        db.session.commit()
        assert jobs.sync_tracking()["shipments"] == 0


def test_cli_sync_and_check_delays(app, monkeypatch):
    from erp_core import cli

    monkeypatch.setattr(cli, "_APP", app)
    with app.test_request_context():
        demo, _manual = make_carriers()
        shipment = ship(make_order(), demo)
        _clock(monkeypatch, _start(_fresh(Shipment, shipment.id)) + timedelta(hours=4))
    result = CliRunner().invoke(cli.main, ["logistics", "sync"])
    assert result.exit_code == 0, result.output
    assert "Synced 1 shipment(s): 2 new event(s)" in result.output
    result = CliRunner().invoke(cli.main, ["logistics", "check-delays"])
    assert result.exit_code == 0 and "0 delayed" in result.output


def _concurrently(app, posts):
    """Send each (url, body, headers) from its own thread, all released at once."""
    barrier = threading.Barrier(len(posts))
    results = [None] * len(posts)

    def run(index, url, body, headers):
        client = app.test_client()
        barrier.wait()
        results[index] = client.post(url, data=body, headers=headers).status_code

    threads = [threading.Thread(target=run, args=(i, *post)) for i, post in enumerate(posts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_the_same_webhook_delivered_twice_at_once_is_stored_once(app):
    with app.test_request_context():
        demo, _manual = make_carriers()
        shipment = _fresh(Shipment, ship(make_order(), demo).id)
        events = [_event(shipment.tracking_number, 30, a.DELIVERED, _start(shipment))]
        headers, body = services.adapter_for(demo).build_test_webhook(events)
    url = "/logistics/webhooks/demo-express"
    assert _concurrently(app, [(url, body, headers)] * 4) == [200] * 4
    with app.app_context():
        assert db.session.query(TrackingEvent).count() == 1
        assert db.session.get(Shipment, shipment.id).status == states.DELIVERED
        assert db.session.query(Order).one().status == order_states.DELIVERED
        from erp_core.models import AuditLog

        assert db.session.query(AuditLog).filter_by(object_type="shipment", action="status_changed").count() == 2


def test_two_shipments_of_one_order_delivered_at_once_deliver_the_order(app):
    with app.test_request_context():
        demo, _manual = make_carriers()
        order = make_order()
        pen, ink = order.lines
        posts = []
        for line in (pen, ink):
            shipment = _fresh(Shipment, ship(order, demo, {line.id: line.quantity}).id)
            events = [_event(shipment.tracking_number, 30, a.DELIVERED, _start(shipment))]
            posts.append(("/logistics/webhooks/demo-express", *reversed(services.adapter_for(demo).build_test_webhook(events))))
    assert _concurrently(app, posts) == [200, 200]
    with app.app_context():
        assert {s.status for s in db.session.query(Shipment)} == {states.DELIVERED}
        assert db.session.query(Order).one().status == order_states.DELIVERED


# ----------------------------------------------------------------------------- events dated in the future


def test_a_webhook_event_dated_years_ahead_is_refused_and_stores_nothing(app):
    with app.test_request_context():
        demo, _manual = make_carriers()
        shipment = _fresh(Shipment, ship(make_order(), demo).id)
        number, now = shipment.tracking_number, datetime.now(UTC)
    client = app.test_client()
    future = a.TrackingEvent(tracking_number=number, occurred_at=now + timedelta(days=3650), status=a.IN_TRANSIT,
                             event_id="far-future")
    with app.test_request_context():
        demo = db.session.get(type(demo), demo.id)
        response = _post(client, demo, [_event(number, 0, a.PICKED_UP, now - timedelta(hours=5)), future])
        assert response.status_code == 400 and "24 hours in the future" in response.json["error"]
        assert db.session.query(TrackingEvent).count() == 0
        # within the tolerance (an hour ahead: clocks differ) is accepted; later true events still apply
        soon = a.TrackingEvent(tracking_number=number, occurred_at=now + timedelta(hours=1), status=a.IN_TRANSIT,
                               event_id="soon")
        assert _post(client, demo, [soon]).status_code == 200
        settings.set_many({"logistics.future_event_hours": 0})
        db.session.commit()
        later = a.TrackingEvent(tracking_number=number, occurred_at=now + timedelta(hours=1),
                                status=a.OUT_FOR_DELIVERY, event_id="soon-2")
        assert _post(client, demo, [later]).status_code == 400  # no tolerance: an hour ahead is refused


def test_sync_ignores_events_dated_years_ahead_so_the_shipment_moves_on(app):
    with app.test_request_context():
        demo, _manual = make_carriers()
        shipment = _fresh(Shipment, ship(make_order(), demo).id)
        number, now = shipment.tracking_number, datetime.now(UTC)
        far = a.TrackingEvent(tracking_number=number, occurred_at=now + timedelta(days=3650), status=a.IN_TRANSIT,
                              event_id="far")
        counts = services.record_events(shipment, [far, _event(number, 0, a.PICKED_UP, now - timedelta(hours=3))],
                                        "carrier")
        db.session.commit()
        assert counts == {"new": 1, "duplicate": 0}
        services.record_events(_fresh(Shipment, shipment.id), [_event(number, 0, a.DELIVERED, now - timedelta(hours=1))],
                               "carrier")
        db.session.commit()
        shipment = _fresh(Shipment, shipment.id)
        assert shipment.status == states.DELIVERED and shipment.last_event_at < now
