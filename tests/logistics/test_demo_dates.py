"""The whole demo (every plugin, seeded): each record's dates agree with its history."""

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from erp_core import cli, settings
from erp_core.extensions import db
from erp_core.models import AuditLog
from erp_core.timeutil import replaying, to_zone, utcnow
from plugins.logistics.models import DeliveryException, Shipment, TrackingEvent
from plugins.orders.models import Order

MINUTE = timedelta(minutes=1)


def _status_entries(object_type: str) -> dict[str, list[tuple[str, object]]]:
    found: dict[str, list] = {}
    for entry in db.session.scalars(select(AuditLog).where(AuditLog.object_type == object_type,
                                                           AuditLog.action == "status_changed")):
        found.setdefault(entry.object_id, []).append(((entry.after or {}).get("status"), entry.at))
    return found


def _near(moment, candidates) -> bool:
    return any(c is not None and abs(moment - c) <= MINUTE for c in candidates)


def test_every_demo_record_carries_the_demos_point_in_time(make_app, monkeypatch):
    app = make_app(plugins=["orders", "inventory", "logistics", "finance", "support"])
    monkeypatch.setattr(cli, "_APP", app)
    result = CliRunner().invoke(cli.main, ["demo", "--seed", "5"])
    assert result.exit_code == 0, result.output
    now = utcnow() + MINUTE
    with app.app_context():
        shipments = list(db.session.scalars(select(Shipment)))
        assert len([s for s in shipments if s.delivered_at]) >= 5
        by_order: dict[int, list[Shipment]] = {}
        shipment_entries = _status_entries("shipment")
        for s in shipments:
            by_order.setdefault(s.order_id, []).append(s)
            assert s.created_at >= s.order.created_at, s.number
            entries = dict(shipment_entries.get(str(s.id), []))
            if s.shipped_at:
                assert s.shipped_at >= s.order.created_at and s.shipped_at <= now, s.number
                assert abs(entries["in_transit"] - s.shipped_at) <= MINUTE, s.number
                assert s.ship_date == to_zone(s.shipped_at, settings.company_timezone()).date(), s.number
            if s.delivered_at:
                assert s.shipped_at <= s.delivered_at <= now, s.number
                assert abs(entries["delivered"] - s.delivered_at) <= MINUTE, s.number
        checked = 0
        for order_id, entries in _status_entries("order").items():
            order = db.session.get(Order, int(order_id))
            mine = by_order.get(order.id, [])
            # An order whose rest was closed becomes shipped when it is closed, after its parcel left.
            closed = any(line.cancelled_quantity for line in order.lines)
            for status, at in entries:
                assert order.created_at - MINUTE <= at <= now, (order.number, status, at)
                if status == "shipped" and mine and closed:
                    assert at >= min(s.shipped_at for s in mine if s.shipped_at), (order.number, at)
                elif status == "shipped" and mine:
                    assert _near(at, [s.shipped_at for s in mine]), (order.number, at)
                    checked += 1
                elif status == "delivered" and mine:
                    assert _near(at, [s.delivered_at for s in mine]), (order.number, at)
                    checked += 1
        assert checked >= 10
        for event in db.session.scalars(select(TrackingEvent)):
            shipment = db.session.get(Shipment, event.shipment_id)
            assert event.received_at <= now and event.received_at >= shipment.created_at - MINUTE, event.id
            assert abs(event.received_at - event.occurred_at) <= MINUTE or event.received_at > event.occurred_at
        for exception in db.session.scalars(select(DeliveryException)):
            shipment = db.session.get(Shipment, exception.shipment_id)
            assert shipment.shipped_at <= exception.raised_at <= now, exception.id
        later = db.session.scalar(select(AuditLog).where(AuditLog.at > now).limit(1))
        assert later is None, (later.object_type, later.action, later.at)


def test_replaying_moves_utcnow_only_inside_the_block():
    past = utcnow() - timedelta(days=3)
    with replaying(past):
        assert utcnow() == past
    assert utcnow() - past > timedelta(days=2)
    with pytest.raises(ValueError):
        with replaying(past.replace(tzinfo=None)):
            pass
