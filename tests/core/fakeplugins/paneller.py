"""A test plugin adding a panel to every record page, extra template variables, a script and a
style sheet; ``BEHAVIOUR`` makes one of its hooks raise or one panel's context fail."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for

from erp_core import hookimpl
from erp_core.contrib import Panel, Permission, ScriptUrl
from erp_core.plugins import PluginMeta
from erp_core.security import login_only

meta = PluginMeta(name="paneller", version="1", title="Paneller", requires=("orders",))

# "raise": the panel hook of that record kind raises; "context": a panel's context raises
BEHAVIOUR: dict[str, str] = {}
SEEN: list[tuple[str, str]] = []  # (hook, template) of the extra hooks' calls

bp = Blueprint("paneller", __name__, url_prefix="/paneller", template_folder="templates",
               static_folder="static")


@bp.route("/")
@login_only
def page():
    return render_template("paneller/page.html")


def reset() -> None:
    BEHAVIOUR.clear()
    SEEN.clear()


def _panels(kind: str, label: str, user) -> list[Panel]:
    if BEHAVIOUR.get(kind) == "raise":
        raise RuntimeError(f"paneller broke on the {kind} page")

    def context():
        if BEHAVIOUR.get(kind) == "context":
            raise RuntimeError("context failed")
        return {"record_kind": kind, "label": label, "viewer": user.username}

    return [Panel(f"Paneller {kind}", "paneller/_panel.html", context),
            Panel(f"Secret {kind}", "paneller/_panel.html", context, permission="paneller.secret")]


@hookimpl
def erp_blueprints():
    return [bp]


@hookimpl
def erp_permissions():
    return [Permission("paneller.secret", "See the paneller's secret panels")]


@hookimpl
def erp_customer_panels(customer, user):
    return _panels("customer", customer.name, user)


@hookimpl
def erp_product_panels(product, user):
    return _panels("product", product.sku, user)


@hookimpl
def erp_order_panels(order, user):
    return _panels("order", order.number, user)


@hookimpl
def erp_shipment_panels(shipment, user):
    return _panels("shipment", shipment.number, user)


@hookimpl
def erp_ticket_panels(ticket, user):
    return _panels("ticket", ticket.number, user)


@hookimpl
def erp_return_panels(return_request, user):
    return _panels("return", return_request.number, user)


@hookimpl
def erp_payment_panels(payment, user):
    return _panels("payment", payment.merchant_ref, user)


@hookimpl
def erp_extra_template_vars(template, user):
    SEEN.append(("vars", template))
    if BEHAVIOUR.get("vars") == "raise":
        raise RuntimeError("extra vars failed")
    return {"paneller_greeting": f"<b>hi {user.username if user else 'guest'}</b>",
            "company_name": "overridden?"}


@hookimpl
def erp_extra_js_urls(template, user):
    SEEN.append(("js", template))
    urls = [url_for("paneller.static", filename="paneller.js"), ScriptUrl("/paneller/static/mod.js", module=True)]
    return urls + ["https://cdn.example.com/x.js", "//cdn.example.com/y.js", "javascript:alert(1)", "/a\\b.js"]


@hookimpl
def erp_extra_css_urls(template, user):
    SEEN.append(("css", template))
    return ["/paneller/static/paneller.css", "https://cdn.example.com/x.css"]
