"""Pages of logistics: shipments, the exception queue, carriers, and the carrier webhook."""

from __future__ import annotations

import uuid
from datetime import datetime
from io import BytesIO

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import or_, select
from werkzeug.routing import BuildError

from erp_core import audit
from erp_core.errors import DomainError, NotFound
from erp_core.extensions import csrf, db
from erp_core.forms import attempt, choices, show_domain_error
from erp_core.security import public, requires
from erp_core.ui import apply_sort, paginate
from erp_core.web.templating import record_panels
from plugins.orders.public import Order, order_scope

from . import adapters as a
from . import services, states
from .builtin_adapters import DemoExpressAdapter
from .forms import CancelForm, DeliveredForm, EventForm, RaiseExceptionForm, ShipmentForm
from .models import Carrier, Shipment

bp = Blueprint("logistics", __name__, url_prefix="/logistics", template_folder="templates",
               static_folder="static")

ORDER_ENDPOINTS = ("orders.detail", "orders.view", "orders.order", "orders.show")


@bp.app_template_global("logistics_order_url")
def order_url(order_id: int) -> str | None:
    """The order page of the orders plugin (None before it has one)."""
    for endpoint in ORDER_ENDPOINTS:
        try:
            return url_for(endpoint, order_id=order_id)
        except BuildError:
            continue
    return None


bp.add_app_template_global(states, "shipment_states")  # labels, also inside imported macros


def _invalid(form, exc: DomainError) -> None:
    """Put each message of a service's refusal beside its field, or in a flash message."""
    errors = getattr(exc, "errors", None)
    if not errors:
        show_domain_error(form, exc)
        return
    for name, messages in errors.items():
        target = getattr(form, name, None) if form is not None else None
        if target is not None and hasattr(target, "errors"):
            target.errors = list(target.errors) + list(messages)
    flash(_("Please correct the marked fields."), "danger")


# ----------------------------------------------------------------------------- shipments


def _date_filter(stmt, column, args):
    for name, is_start in (("from", True), ("to", False)):
        if args.get(name):
            try:
                day = datetime.strptime(args[name], "%Y-%m-%d").date()
            except ValueError:
                flash(_("Dates are written YYYY-MM-DD."), "warning")
                continue
            stmt = stmt.where(column >= day) if is_start else stmt.where(column <= day)
    return stmt


@bp.route("/")
@requires("logistics.view")
def index():
    args = request.args
    stmt = select(Shipment).where(order_scope(Shipment.order_id))  # a salesperson: own customers' only
    if args.get("status") in states.STATUS_LABELS:
        stmt = stmt.where(Shipment.status == args["status"])
    if (args.get("carrier") or "").isdigit():
        stmt = stmt.where(Shipment.carrier_id == int(args["carrier"]))
    q = (args.get("q") or "").strip()
    if q:
        like = f"%{q.upper()}%"
        stmt = stmt.where(or_(Shipment.number.like(like), Shipment.tracking_number.like(like),
                              Shipment.order_id.in_(select(Order.id).where(Order.number.like(like)))))
    stmt = _date_filter(stmt, Shipment.ship_date, args)
    stmt, sort, desc = apply_sort(stmt, {"number": Shipment.id, "ship_date": Shipment.ship_date,
                                         "expected": Shipment.expected_delivery, "status": Shipment.status},
                                  "-number")
    page = paginate(stmt)
    return render_template("logistics/index.html", page=page, sort=sort, desc=desc, q=q,
                           carrier_options=[(c.id, c.name) for c in services.carriers()])


def _carrier_options(include_id: int | None = None) -> list[dict]:
    options = []
    for carrier in services.carriers():
        if not carrier.enabled and carrier.id != include_id:
            continue
        adapter = services.try_adapter(carrier)
        if adapter is None:
            continue
        options.append({"carrier": carrier, "creates": adapter.can(a.CREATE), "label": adapter.can(a.LABEL),
                        "asks_name": bool(getattr(adapter, "asks_carrier_name", False))})
    return options


def _shipment_input(form, quantities=None) -> services.ShipmentInput:
    return services.ShipmentInput(
        carrier_id=form.carrier_id.data, quantities=quantities or {}, tracking_number=form.tracking_number.data or "",
        carrier_name=form.carrier_name.data or "", ship_date=form.ship_date.data,
        expected_delivery=form.expected_delivery.data, packages=form.packages.data or "",
        weight_kg=form.weight.data or "", notes=form.notes.data or "", request_key=form.request_key.data or None)


@bp.route("/orders/<int:order_id>/ship", methods=["GET", "POST"])
@requires("logistics.ship")
def new(order_id: int):
    order = db.session.get(Order, order_id) or abort(404)
    form = ShipmentForm()
    options = _carrier_options()
    form.carrier_id.choices = choices([("", _("Choose a carrier"))] +
                                      [(str(o["carrier"].id), o["carrier"].name) for o in options])
    if request.method == "GET":
        form.request_key.data = uuid.uuid4().hex
        form.ship_date.data = services.today()
        if len(options) == 1:
            form.carrier_id.data = str(options[0]["carrier"].id)
    quantities = {key[4:]: value for key, value in request.form.items() if key.startswith("qty-")}
    line_errors: dict[str, list[str]] = {}
    if form.validate_on_submit():
        try:
            shipment = services.create_shipment(order, _shipment_input(form, quantities))
            db.session.commit()
        except services.AlreadyCreated as exc:
            db.session.rollback()
            flash(str(exc), "info")
            return redirect(url_for("logistics.shipment", shipment_id=exc.shipment_id))
        except DomainError as exc:
            db.session.rollback()
            _invalid(form, exc)
            line_errors = {k: v for k, v in (getattr(exc, "errors", None) or {}).items()
                           if k.startswith("qty-") or k == "lines"}
        else:
            flash(_("Shipment %(number)s created for order %(order)s.", number=shipment.number, order=order.number),
                  "success")
            return redirect(url_for("logistics.shipment", shipment_id=shipment.id))
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "danger")
    overview = services.order_overview(order)
    return render_template("logistics/new.html", order=order, form=form, options=options, overview=overview,
                           posted=quantities, line_errors=line_errors)


@bp.route("/shipments/<int:shipment_id>")
@requires("logistics.view")
def shipment(shipment_id: int):
    shipment = services.get_shipment(shipment_id)
    adapter = services.try_adapter(shipment.carrier)
    event_form = EventForm()
    raise_form = RaiseExceptionForm()
    raise_form.owner_id.choices = owner_choices()
    raise_form.due_date.data = services.default_due_date()
    cancel_form = CancelForm()
    return render_template(
        "logistics/shipment.html", shipment=shipment, adapter=adapter, link=services.tracking_link(shipment, adapter),
        events=services.tracking_timeline(shipment.id), exceptions=services.shipment_exceptions(shipment.id),
        current=services.current_exception(shipment), replacements=services.replacement_links(shipment),
        replaces=db.session.get(Shipment, shipment.replaces_id) if shipment.replaces_id else None,
        history=audit.timeline("shipment", shipment.id), event_form=event_form, raise_form=raise_form,
        cancel_form=cancel_form, delivered_form=DeliveredForm(), remaining=sum(services.remaining_by_line(shipment.order).values()),
        panels=record_panels("erp_shipment_panels", shipment=shipment),
        can_track=bool(adapter and adapter.can(a.TRACK) and shipment.tracking_number
                       and shipment.status in states.ACTIVE))


@bp.route("/shipments/<int:shipment_id>/dispatch", methods=["GET", "POST"])
@requires("logistics.ship")
def dispatch(shipment_id: int):
    shipment = services.get_shipment(shipment_id)
    if shipment.status != states.PENDING:
        flash(_("Shipment %(number)s has been dispatched already.", number=shipment.number), "info")
        return redirect(url_for("logistics.shipment", shipment_id=shipment.id))
    form = ShipmentForm()
    options = _carrier_options()
    form.carrier_id.choices = choices([("", _("Choose a carrier"))] +
                                      [(str(o["carrier"].id), o["carrier"].name) for o in options])
    if request.method == "GET":
        form.ship_date.data = services.today()
        form.carrier_id.data = str(shipment.carrier_id or "")
        form.carrier_name.data = shipment.carrier_name
    if form.validate_on_submit():
        with attempt(form, on_error=_invalid) as outcome:
            services.dispatch_shipment(shipment, _shipment_input(form))
        if outcome.ok:
            flash(_("Shipment %(number)s dispatched.", number=shipment.number), "success")
            return redirect(url_for("logistics.shipment", shipment_id=shipment.id))
    return render_template("logistics/dispatch.html", shipment=shipment, form=form, options=options)


def _back(shipment_id: int):
    return redirect(url_for("logistics.shipment", shipment_id=shipment_id))


def _form_problems(form) -> str:
    return "; ".join(e for errs in form.errors.values() for e in errs)


@bp.route("/shipments/<int:shipment_id>/cancel", methods=["POST"])
@requires("logistics.ship")
def cancel(shipment_id: int):
    shipment = services.get_shipment(shipment_id)
    form = CancelForm()
    with attempt() as outcome:
        services.cancel_pending(shipment, form.note.data or "")
    if outcome.ok:
        flash(_("Shipment %(number)s cancelled.", number=shipment.number), "success")
    return _back(shipment_id)


@bp.route("/shipments/<int:shipment_id>/events", methods=["POST"])
@requires("logistics.ship")
def add_event(shipment_id: int):
    shipment = services.get_shipment(shipment_id)
    form = EventForm()
    if not form.validate():
        flash(_("The event could not be recorded: %(problem)s", problem=_form_problems(form)), "danger")
        return _back(shipment_id)
    with attempt() as outcome:
        services.add_staff_event(shipment, form.status.data, form.occurred_utc(),
                                 form.description.data or "", form.location.data or "")
    if outcome.ok:
        flash(_("Event recorded on shipment %(number)s.", number=shipment.number), "success")
    return _back(shipment_id)


@bp.route("/shipments/<int:shipment_id>/delivered", methods=["POST"])
@requires("logistics.ship")
def mark_delivered(shipment_id: int):
    shipment = services.get_shipment(shipment_id)
    form = DeliveredForm()
    if not form.validate():
        flash(_("The delivery could not be recorded: %(problem)s", problem=_form_problems(form)), "danger")
        return _back(shipment_id)
    with attempt() as outcome:
        services.mark_delivered(shipment, form.occurred_utc())
    if outcome.ok:
        flash(_("Shipment %(number)s marked delivered.", number=shipment.number), "success")
    return _back(shipment_id)


@bp.route("/shipments/<int:shipment_id>/packing-slip")
@requires("logistics.view")
def packing_slip(shipment_id: int):
    """A printable packing slip and address label of the shipment (A4), in the reader's language."""
    shipment = services.get_shipment(shipment_id)
    return render_template("logistics/packing_slip.html", shipment=shipment, order=shipment.order,
                           sender_address=services.sender_address())


@bp.route("/shipments/<int:shipment_id>/sync", methods=["POST"])
@requires("logistics.ship")
def sync(shipment_id: int):
    shipment = services.get_shipment(shipment_id)
    from erp_core.jobs import enqueue

    from . import jobs

    enqueue(jobs.sync_shipment, shipment.id)
    db.session.commit()
    flash(_("Tracking update of %(number)s requested from the carrier.", number=shipment.number), "success")
    return _back(shipment_id)


@bp.route("/shipments/<int:shipment_id>/register", methods=["POST"])
@requires("logistics.ship")
def register(shipment_id: int):
    shipment = services.get_shipment(shipment_id)
    with attempt() as outcome:
        services.retry_registration(shipment)
    if outcome.ok:
        flash(_("Asked the carrier again for shipment %(number)s.", number=shipment.number), "success")
    return _back(shipment_id)


@bp.route("/shipments/<int:shipment_id>/label")
@requires("logistics.view")
def label(shipment_id: int):
    shipment = services.get_shipment(shipment_id)
    if not shipment.label_data:
        abort(404)
    response = send_file(BytesIO(shipment.label_data), mimetype=shipment.label_type or "application/octet-stream",
                         as_attachment=True, download_name=shipment.label_name or f"{shipment.number}-label")
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/shipments/<int:shipment_id>/exception", methods=["POST"])
@requires("logistics.exceptions")
def raise_exception(shipment_id: int):
    shipment = services.get_shipment(shipment_id)
    form = RaiseExceptionForm()
    form.owner_id.choices = owner_choices()
    if not form.validate():
        flash(_("The exception could not be raised: %(problem)s", problem=_form_problems(form)), "danger")
        return _back(shipment_id)
    with attempt() as outcome:
        exception = services.raise_exception(shipment, form.kind.data, form.note.data or "",
                                             form.due_date.data, form.owner_id.data)
    if not outcome.ok:
        return _back(shipment_id)
    flash(_("Exception raised on shipment %(number)s.", number=shipment.number), "success")
    return redirect(url_for("logistics_exceptions.detail", exception_id=exception.id))


def owner_choices():
    return choices([("", _("Nobody yet"))] + [(str(u.id), u.label) for u in services.possible_owners()])


# ----------------------------------------------------------------------------- public endpoints


@bp.route("/webhooks/<code>", methods=["POST"])
@public
def webhook(code: str):
    """Carriers push tracking events here, signed with the carrier's webhook secret.

    The status says what happened (200 stored, 401 bad signature, 400 unreadable, 409 refused
    for now, 404 unknown carrier); the body is the adapter's ``webhook_answer`` when it has one.
    """
    body = request.get_data(cache=False)
    try:
        counts = services.handle_webhook(code, request.headers, body)
        db.session.commit()
    except NotFound:
        db.session.rollback()
        return jsonify({"error": "unknown carrier"}), 404
    except a.WebhookRejected as exc:
        db.session.rollback()
        return _webhook_answer(code, exc, {"error": "invalid signature"}, 401)
    except a.WebhookMalformed as exc:
        db.session.rollback()
        return _webhook_answer(code, exc, {"error": str(exc)}, 400)
    except DomainError as exc:  # e.g. another plugin refused the order's new status: retry later
        db.session.rollback()
        current_app.logger.warning("webhook of %s refused: %s", code, exc)
        return _webhook_answer(code, a.AdapterError(str(exc)), {"error": str(exc)}, 409)
    return _webhook_answer(code, None, counts, 200)


def _webhook_answer(code: str, error: a.AdapterError | None, default: dict, status: int):
    """The carrier's own form of answer (``webhook_answer``), or logistics's JSON ``default``."""
    carrier = db.session.scalar(select(Carrier).where(Carrier.code == (code or "")[:40]))
    adapter = services.try_adapter(carrier)
    answer = adapter.webhook_answer(error) if adapter is not None else None
    db.session.rollback()  # nothing more to write; end the read transaction
    if answer is None:
        return jsonify(default), status
    content, media_type = answer
    return Response(content, status=status, mimetype=media_type)


csrf.exempt(webhook)


@bp.route("/track/demo-express/<number>")
@public
def demo_track(number: str):
    """The simulated carrier's own public tracking page (what a real carrier's site would show)."""
    uses_demo = db.session.scalar(select(Carrier.id).where(Carrier.adapter == DemoExpressAdapter.key,
                                                           Carrier.enabled.is_(True)).limit(1))
    if not uses_demo:
        abort(404)
    adapter = DemoExpressAdapter(a.CarrierConfig(code="demo", name="Demo Express"))
    try:
        events = adapter.fetch_tracking(number)
    except a.TrackingNumberInvalid:
        abort(404)
    return render_template("logistics/demo_track.html", number=adapter.validate_tracking_number(number),
                           events=list(reversed(events)))
