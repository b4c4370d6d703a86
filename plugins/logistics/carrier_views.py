"""The carriers admin page: which carriers shipments can use, their adapters and credentials."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from erp_core import audit
from erp_core.extensions import db
from erp_core.forms import attempt
from erp_core.security import requires

from . import adapters as a
from . import services
from .forms import carrier_form
from .models import Carrier
from .views import _invalid

bp = Blueprint("logistics_carriers", __name__, url_prefix="/logistics/carriers", template_folder="templates")

@bp.route("/")
@requires("logistics.carriers")
def index():
    adapters = services.adapter_classes()
    rows = []
    for carrier in services.carriers():
        adapter = services.try_adapter(carrier)  # what this carrier, as configured, can do
        rows.append((carrier, adapters.get(carrier.adapter), adapter.supports if adapter else frozenset()))
    return render_template("logistics/carriers.html", rows=rows)


def _credentials_from(form, cls) -> dict:
    return {f.key: getattr(form, "cred_" + f.key).data or "" for f in cls.credential_fields}


@bp.route("/new", methods=["GET", "POST"])
@requires("logistics.carriers")
def new():
    adapters = services.adapter_classes()
    cls = adapters.get(request.values.get("adapter", ""))
    if cls is None:
        return render_template("logistics/carrier_adapters.html", adapters=adapters)
    form = carrier_form(cls)()
    if form.validate_on_submit():
        with attempt(form, on_error=_invalid) as outcome:
            carrier = services.create_carrier(form.name.data, form.code.data, cls.key, _credentials_from(form, cls),
                                              form.enabled.data)
        if outcome.ok:
            flash(_("Carrier %(name)s added.", name=carrier.name), "success")
            return redirect(url_for("logistics_carriers.edit", carrier_id=carrier.id))
    return render_template("logistics/carrier_form.html", form=form, adapter=cls, carrier=None, stored={})


@bp.route("/<int:carrier_id>", methods=["GET", "POST"])
@requires("logistics.carriers")
def edit(carrier_id: int):
    carrier = db.session.get(Carrier, carrier_id) or abort(404)
    cls = services.adapter_classes().get(carrier.adapter)
    if cls is None:
        flash(_("Carrier %(name)s uses the adapter %(adapter)s, which is not installed or switched off.",
                name=carrier.name, adapter=carrier.adapter), "warning")
        return redirect(url_for("logistics_carriers.index"))
    form = carrier_form(cls)()
    stored = services.stored_credentials(carrier, cls)
    if request.method == "GET":
        form.name.data = carrier.name
        for f in cls.credential_fields:
            if not f.secret:
                getattr(form, "cred_" + f.key).data = stored.get(f.key, "")
    del form.code
    del form.enabled
    if form.validate_on_submit():
        with attempt(form, on_error=_invalid) as outcome:
            services.update_carrier(carrier, form.name.data, _credentials_from(form, cls))
        if outcome.ok:
            flash(_("Carrier %(name)s saved.", name=carrier.name), "success")
            return redirect(url_for("logistics_carriers.edit", carrier_id=carrier.id))
    masked = {f.key: services.masked(stored.get(f.key)) for f in cls.credential_fields if f.secret}
    webhook = None
    if a.WEBHOOK in cls.supports:
        webhook = {"url": services.webhook_url(carrier),
                   "secret": services.masked(services.webhook_secret(carrier))}
    return render_template("logistics/carrier_form.html", form=form, adapter=cls, carrier=carrier, stored=masked,
                           webhook=webhook, history=audit.timeline("carrier", carrier.id),
                           can_test=a.offers_connection_test(cls) and carrier.enabled)


@bp.route("/<int:carrier_id>/test-connection", methods=["POST"])
@requires("logistics.carriers")
def test_connection(carrier_id: int):
    """Ask the carrier whether the stored credentials work and show what it answered."""
    carrier = db.session.get(Carrier, carrier_id) or abort(404)
    carrier_id, name = carrier.id, carrier.name
    with attempt() as outcome:
        adapter = services.adapter_for(carrier)  # refused when its adapter is gone
    if not outcome.ok:
        return redirect(url_for("logistics_carriers.edit", carrier_id=carrier_id))
    if not a.offers_connection_test(type(adapter)) or not carrier.enabled:
        abort(404)
    db.session.commit()  # no transaction stays open while the carrier answers
    ok, message = services.test_connection(carrier)
    audit.record("carrier", carrier_id, "connection_tested", after={"ok": ok}, note=message)
    db.session.commit()
    if ok:
        flash(_("The connection of %(name)s works. %(answer)s", name=name, answer=message), "success")
    else:
        flash(_("The connection of %(name)s failed. %(answer)s", name=name, answer=message), "danger")
    return redirect(url_for("logistics_carriers.edit", carrier_id=carrier_id))


@bp.route("/<int:carrier_id>/<any(enable, disable):action>", methods=["POST"])
@requires("logistics.carriers")
def switch(carrier_id: int, action: str):
    carrier = db.session.get(Carrier, carrier_id) or abort(404)
    services.set_carrier_enabled(carrier, action == "enable")
    db.session.commit()
    flash(_("Carrier %(name)s is switched on.", name=carrier.name) if carrier.enabled
          else _("Carrier %(name)s is switched off; its shipments keep their history.", name=carrier.name), "success")
    return redirect(url_for("logistics_carriers.index"))


@bp.route("/<int:carrier_id>/rotate-secret", methods=["POST"])
@requires("logistics.carriers")
def rotate_secret(carrier_id: int):
    carrier = db.session.get(Carrier, carrier_id) or abort(404)
    secret = services.rotate_webhook_secret(carrier)
    db.session.commit()
    flash(_("New webhook secret of %(name)s (shown once; give it to the carrier): %(secret)s",
            name=carrier.name, secret=secret), "warning")
    return redirect(url_for("logistics_carriers.edit", carrier_id=carrier.id))
