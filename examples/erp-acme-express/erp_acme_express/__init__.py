"""ACME Express for the ERP: a carrier adapter shipped as a separate, third-party package.

The package is found through its ``erp.plugins`` entry point (see ``pyproject.toml``); no site
configuration has to name it. It needs the logistics plugin, whose adapter interface it
implements, and contributes one carrier adapter through ``erp_carrier_adapters`` and a panel on
the page of each shipment that ACME carries (``erp_shipment_panels``). It has no tables, pages
or migrations of its own: carriers configured with it are logistics' carriers.
"""

from flask import Blueprint
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from erp_core import hookimpl
from erp_core.contrib import Panel
from erp_core.plugins import PluginMeta

__version__ = "0.1.0"

meta = PluginMeta(
    name="acme_express",
    version=__version__,
    title=_l("ACME Express"),
    description=_l("Carrier adapter for the ACME Express web API: tracking numbers and labels, "
                   "tracking updates and signed push notifications."),
    requires=("logistics",),
)


@hookimpl
def erp_carrier_adapters():
    """The ACME Express adapter, offered under *Carriers → Add carrier* while this plugin is on."""
    from .adapter import AcmeExpressAdapter

    return [AcmeExpressAdapter]


# No pages: the blueprint only makes the package's templates (the panel's body) available.
bp = Blueprint("acme_express", __name__, template_folder="templates")


@hookimpl
def erp_blueprints():
    return [bp]


@hookimpl
def erp_shipment_panels(shipment, user):
    """An "ACME Express" card on shipments carried by ACME: the account it was booked under, the
    registration's state and whether the label is ready. Other carriers' shipments get none."""
    carrier = shipment.carrier
    if carrier is None or carrier.adapter != "acme_express":
        return []
    states = {"done": _("Registered with ACME"), "failed": _("Failed: %(error)s", error=shipment.registration_error),
              "waiting": _("Waiting to be sent to ACME")}

    def context():
        return {"account": (carrier.credentials or {}).get("account", ""), "has_label": bool(shipment.label_data),
                "registration": states.get(shipment.registration or "", _("Not needed"))}

    return [Panel(_l("ACME Express"), "acme_express/_shipment_panel.html", context, permission="logistics.view",
                  order=50)]
