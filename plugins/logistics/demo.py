"""Demo data of logistics: carriers, and shipments of the demo's confirmed orders in every state.

Orders whose demo target (``ctx.data["order_targets"]``) is shipped, delivered or completed were
left confirmed by the orders demo (with logistics on, orders ship only through shipments): they
are shipped here first, dated after their confirmation, and delivered where their target says so.

Shipments go through the same services as the pages. Demo Express parcels follow the
simulator's story for their number (see ``builtin_adapters.scenario_of``), so the periodic
tracking sync keeps telling the same story afterwards; each order gets the plan that fits the
story its shipment number will have.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from itertools import cycle

from sqlalchemy import select

from erp_core import audit
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.models import Counter
from erp_core.timeutil import utcnow, wall_clock
from plugins.orders.public import Order, close_rest
from plugins.orders.public import states as order_states

from . import adapters as a
from . import services, states
from .builtin_adapters import DemoExpressAdapter, NamedManualAdapter, scenario_of

log = logging.getLogger(__name__)

# In this order, so that even a small demo (nine or ten confirmed orders) shows every state.
NORMAL_PLANS = ("delivered", "partial", "lost_reship", "exchange", "manual", "damaged", "delivered", "partial_closed")
HISTORY_TARGETS = (order_states.SHIPPED, order_states.DELIVERED, order_states.COMPLETED)
# Hours from the ship date's 10:00 (China) to delivery in the simulator's stories that end delivered.
_DELIVERED_AFTER = {"normal": 30, "address_problem": 55, "delayed": 154}


def _orders(ctx) -> list[Order]:
    found = []
    for item in ctx.data.get("orders", []) or []:
        order_id = item if isinstance(item, int) else getattr(item, "id", None)
        order = db.session.get(Order, order_id) if order_id else None
        if order is not None and order.status == order_states.CONFIRMED:
            found.append(order)
    return found


def _next_serial() -> int:
    year = services.today().year
    value = db.session.scalar(select(Counter.value).where(Counter.key == f"logistics.shipment.{year}"))
    return int(value or 0) + 1


def _next_scenario() -> str:
    number = DemoExpressAdapter.number_for(f"SH-{services.today().year}-{_next_serial():06d}", services.today())
    return scenario_of(number)


class _Demo:
    def __init__(self, ctx, demo_carrier, manual_carrier):
        self.ctx, self.demo_carrier, self.manual_carrier = ctx, demo_carrier, manual_carrier
        self.adapter = services.adapter_for(demo_carrier)

    def moment(self, order, days_ago: int) -> datetime:
        """When a demo shipment leaves: 10:00 (China) ``days_ago`` days back, never before the
        order was confirmed and never after now."""
        now = wall_clock() - timedelta(minutes=1)
        at = datetime.combine(services.today() - timedelta(days=days_ago), time(2, 0, tzinfo=UTC))
        confirmed = order.confirmed_at or order.created_at
        if confirmed is not None:
            at = max(at, confirmed.astimezone(UTC) + timedelta(minutes=30))
        return min(at, now)

    def ship(self, order, days_ago: int, carrier=None, part: bool = False, at: datetime | None = None):
        """Create (and for Demo Express register and track) a shipment at the demo's point in time:
        every record, status time and audit entry of it carries that moment."""
        carrier = carrier or self.demo_carrier
        at = at or self.moment(order, days_ago)
        remaining = services.remaining_by_line(order)
        quantities = {line_id: qty for line_id, qty in remaining.items() if qty}
        if part:
            first = next(iter(quantities))
            quantities = {first: max(quantities[first] // 2, 1)} if len(quantities) == 1 else {first: quantities[first]}
        manual = carrier.adapter != DemoExpressAdapter.key
        with audit.recorded_at(at):
            ship_day = services.today()
            data = services.ShipmentInput(
                carrier_id=carrier.id, quantities=quantities, ship_date=ship_day,
                carrier_name="SF Express" if manual else "",
                tracking_number=f"SF{self.ctx.rng.randint(10**11, 10**12 - 1)}" if manual else "",
                packages=self.ctx.rng.randint(1, 3), weight_kg=f"{self.ctx.rng.randint(5, 80) / 10:.1f}",
                expected_delivery=ship_day + timedelta(days=2) if manual else None)
            shipment = services.create_shipment(order, data)
            if not manual:
                created = self.adapter.create_shipment(services.registration_request(shipment))
                services.store_registration(shipment, created)
        if not manual:
            self.track(shipment)
        return shipment

    def track(self, shipment) -> None:
        """Replay the simulated carrier's events, each at the moment it happened."""
        for event in self.adapter.simulated_events(shipment.tracking_number, until=wall_clock()):
            # the simulator starts its day at 10:00 China time; a shipment made later that morning
            # (its order confirmed after 9:30) hears of that first event once it exists
            with audit.recorded_at(max(event.occurred_at, shipment.created_at)):
                services.record_events(shipment, [event], "carrier")

    def later(self, shipment, hours: float) -> datetime:
        """``hours`` after the shipment left (never after now)."""
        return min(shipment.shipped_at + timedelta(hours=hours), wall_clock() - timedelta(minutes=1))

    def catch_up(self, order, target: str) -> None:
        """Ship an order of the demo's past as it would have been: the day after it was confirmed,
        by Demo Express when the parcel's simulated story ends delivered by now, else by SF
        Express with the courier's delivery typed in. Orders meant to be merely shipped leave
        now (they are still on their way)."""
        rng = self.ctx.rng
        if target == order_states.SHIPPED:
            at = self.moment(order, 0)
            at = max(at - timedelta(hours=rng.uniform(2, 20)), order.confirmed_at or order.created_at)
            shipment = self.ship(order, 0, carrier=self.manual_carrier, at=at)
            with audit.recorded_at(at):
                services.add_staff_event(shipment, a.PICKED_UP, at, "Collected by SF courier", "Warehouse")
            return
        confirmed = order.confirmed_at or order.created_at
        days_ago = max((services.today() - confirmed.date()).days - 1, 2)
        shipped_at = self.moment(order, days_ago)
        hours = _DELIVERED_AFTER.get(_next_scenario())
        by_demo_express = hours is not None and shipped_at + timedelta(hours=hours) < wall_clock()
        if by_demo_express:
            shipment = self.ship(order, days_ago, at=shipped_at)  # the simulator's events deliver it
        else:
            shipment = self.ship(order, days_ago, carrier=self.manual_carrier, at=shipped_at)
            with audit.recorded_at(shipped_at):
                services.add_staff_event(shipment, a.PICKED_UP, shipped_at, "Collected by SF courier", "Warehouse")
            delivered_at = self.later(shipment, rng.uniform(20, 60))
            with audit.recorded_at(delivered_at):
                services.add_staff_event(shipment, a.DELIVERED, delivered_at, "Signed by recipient", "Destination")
        if target == order_states.COMPLETED and order.status == order_states.DELIVERED:
            from plugins.orders import public as order_services

            done = shipment.delivered_at or shipped_at
            with audit.recorded_at(min(done + timedelta(days=rng.uniform(3, 8)), wall_clock() - timedelta(minutes=1))):
                order_services.transition(order, order_states.COMPLETED)

    def run(self, order, plan: str):
        admin_id = self.ctx.admin.id if self.ctx.admin is not None else None
        if plan == "delivered":
            self.ship(order, 3)
        elif plan == "partial":
            self.ship(order, 0, part=True)
        elif plan == "partial_closed":  # part shipped, the rest will never come: closed
            shipment = self.ship(order, 2, part=True)
            with audit.recorded_at(self.later(shipment, 20)):
                close_rest(order, "The supplier stopped making the rest; the customer agreed.")
        elif plan == "manual":
            shipment = self.ship(order, 1, carrier=self.manual_carrier)
            with audit.recorded_at(shipment.shipped_at):
                services.add_staff_event(shipment, a.PICKED_UP, shipment.shipped_at, "Collected by SF courier",
                                         "Warehouse")
        elif plan == "lost_reship":
            shipment = self.ship(order, 0)
            with audit.recorded_at(self.later(shipment, 2)):
                exception = services.raise_exception(shipment, a.LOST, "Carrier confirmed the parcel is lost.",
                                                     owner_id=admin_id)
            with audit.recorded_at(self.later(shipment, 3)):
                services.resolve_exception(exception, states.RESHIP, "Sending the goods again.")
        elif plan == "damaged":
            shipment = self.ship(order, 0)
            with audit.recorded_at(self.later(shipment, 2)):
                services.raise_exception(shipment, a.DAMAGED, "Box crushed at the hub; photos requested.",
                                         owner_id=admin_id)
        elif plan == "exchange":
            shipment = self.ship(order, 3)
            line = shipment.lines[0]
            with audit.recorded_at(self.later(shipment, 40)):
                replacement = services.create_replacement(order, {line.product_id: 1}, "Exchange for another colour",
                                                          "demo", shipment.id)
            with audit.recorded_at(self.later(shipment, 44)):
                services.cancel_pending(replacement, "The customer kept the original after all.")
        elif plan in ("delayed", "address_problem"):
            self.ship(order, 4 if plan == "delayed" else 2)
        elif plan == "refused":
            shipment = self.ship(order, 2)
            exception = services.current_exception(shipment)
            if exception is not None:
                options = services.available_resolutions(exception)
                choice = states.RETURN_TO_STOCK if states.RETURN_TO_STOCK in options else states.RESHIP
                with audit.recorded_at(max(self.later(shipment, 30), exception.raised_at)):
                    services.resolve_exception(exception, choice, "Parcel back at the warehouse.")


def load(ctx) -> None:
    demo_carrier = services.create_carrier("Demo Express", "demo-express", DemoExpressAdapter.key,
                                           {"account": "DEMO-0001", "api_key": "demo-key-2f9c41"})
    manual_carrier = services.create_carrier(
        "SF Express", "sf-express", NamedManualAdapter.key,
        {"tracking_url_template": "https://www.sf-express.com/chn/en/waybill/waybill-detail/{number}"})
    services.create_carrier("China Post", "china-post", NamedManualAdapter.key, {}, enabled=False)
    db.session.flush()
    demo = _Demo(ctx, demo_carrier, manual_carrier)
    targets = dict(ctx.data.get("order_targets") or [])
    confirmed = _orders(ctx)
    shipped = []
    for order in [o for o in confirmed if targets.get(o.id) in HISTORY_TARGETS]:
        try:
            with db.session.begin_nested():
                demo.catch_up(order, targets[order.id])
            shipped.append(order.id)
        except DomainError as exc:
            db.session.refresh(order)
            log.debug("demo: order %s not shipped (%s): %s", order.number, targets[order.id], exc)
    history = len(shipped)
    orders = [o for o in confirmed if targets.get(o.id) not in HISTORY_TARGETS]
    plans = cycle(NORMAL_PLANS)
    # Leave about a third of the confirmed orders waiting (for the dashboard's "not shipped yet"),
    # but ship at least ten when there are more, so that every state appears.
    for order in orders[: max(len(orders) * 2 // 3, min(len(orders) - 1, 10))]:
        scenario = _next_scenario()
        plan = next(plans) if scenario == "normal" else scenario
        try:
            with db.session.begin_nested():
                demo.run(order, plan)
            shipped.append(order.id)
        except DomainError as exc:
            log.debug("demo: order %s not shipped (%s): %s", order.number, plan, exc)
    services.check_delays()
    # A few of the orders left waiting were promised for a day already gone: the dashboard's
    # "orders past their promised date" (orders has no service for the date; demo data only).
    for order in [o for o in orders if o.id not in shipped][:4]:
        order.promised_date = min(order.created_at + timedelta(days=2), utcnow() - timedelta(hours=1))
    ctx.data["shipped_orders"] = shipped
    waiting = len(confirmed) - len(shipped)
    ctx.log(f"  {history} orders of the past shipped, {len(shipped) - history} more in every state, "
            f"{waiting} confirmed {'order' if waiting == 1 else 'orders'} left to ship.")
