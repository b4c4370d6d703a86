"""Records the events support fires and contributes panels to the customer's tracking page."""

from flask import Blueprint

from erp_core import hookimpl
from erp_core.contrib import Panel
from erp_core.plugins import PluginMeta

meta = PluginMeta(name="spy", version="0", title="Spy", requires=("orders", "support"))

CALLS: list = []
BEHAVIOUR: dict = {}

bp = Blueprint("fake_spy", __name__, template_folder="templates")


def reset():
    CALLS.clear()
    BEHAVIOUR.clear()


@hookimpl
def erp_blueprints():
    return [bp]


@hookimpl
def erp_ticket_status_changed(ticket, old_status, new_status):
    CALLS.append(("ticket", ticket.number, old_status, new_status))
    action = BEHAVIOUR.get("ticket")
    if action:
        action(ticket, old_status, new_status)


@hookimpl
def erp_return_status_changed(return_request, old_status, new_status):
    CALLS.append(("return", return_request.number, old_status, new_status))
    action = BEHAVIOUR.get("return")
    if action:
        action(return_request, old_status, new_status)


@hookimpl
def erp_order_public_panels(order):
    def broken():
        raise RuntimeError("panel bug")

    panels = [Panel("Parcel tracking", "fake_spy/_panel.html", lambda: {"number": order.number, "secret": "x"})]
    if BEHAVIOUR.get("broken_panel"):
        panels.append(Panel("Broken panel", "fake_spy/_panel.html", broken))
    CALLS.append(("public_panels", order.number))
    return panels
