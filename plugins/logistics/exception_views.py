"""The delivery exception queue (配送异常) and its resolutions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from erp_core import audit
from erp_core.forms import attempt
from erp_core.i18n import render_system_text
from erp_core.security import requires
from erp_core.ui import apply_sort, paginate
from plugins.orders.public import Order, order_scope

from . import services, states
from .forms import ContactForm, ExceptionEditForm, ResolveForm
from .models import DeliveryException, Shipment
from .views import owner_choices

bp = Blueprint("logistics_exceptions", __name__, url_prefix="/logistics/exceptions", template_folder="templates")

@bp.route("/")
@requires("logistics.exceptions")
def index():
    args = request.args
    status = args.get("status", states.OPEN)
    stmt = select(DeliveryException).where(order_scope(DeliveryException.order_id))  # own customers' only
    if status in states.EXCEPTION_STATUS_LABELS:
        stmt = stmt.where(DeliveryException.status == status)
    if args.get("kind") in states.KIND_LABELS:
        stmt = stmt.where(DeliveryException.kind == args["kind"])
    owner = args.get("owner", "")
    if owner == "me":
        stmt = stmt.where(DeliveryException.owner_id == current_user.id)
    elif owner == "none":
        stmt = stmt.where(DeliveryException.owner_id.is_(None))
    elif owner.isdigit():
        stmt = stmt.where(DeliveryException.owner_id == int(owner))
    if args.get("overdue") == "1":
        stmt = stmt.where(DeliveryException.status == states.OPEN, DeliveryException.due_date < services.today())
    q = (args.get("q") or "").strip()
    if q:
        like = f"%{q.upper()}%"
        stmt = stmt.where(or_(
            DeliveryException.shipment_id.in_(select(Shipment.id).where(or_(Shipment.number.like(like),
                                                                             Shipment.tracking_number.like(like)))),
            DeliveryException.order_id.in_(select(Order.id).where(Order.number.like(like)))))
    stmt, sort, desc = apply_sort(stmt, {"due": DeliveryException.due_date, "raised": DeliveryException.raised_at,
                                         "kind": DeliveryException.kind, "id": DeliveryException.id}, "due")
    page = paginate(stmt)
    return render_template("logistics/exceptions.html", page=page, sort=sort, desc=desc, q=q, status=status,
                           owner_options=[("me", _("Mine")), ("none", _("Nobody yet"))] +
                           [(u.id, u.label) for u in services.possible_owners()], today=services.today())


@bp.route("/<int:exception_id>", methods=["GET", "POST"])
@requires("logistics.exceptions")
def detail(exception_id: int):
    item = services.get_exception(exception_id)
    form = ExceptionEditForm(obj=item if request.method == "GET" else None)
    form.owner_id.choices = owner_choices()
    if request.method == "GET":
        form.owner_id.data = str(item.owner_id or "")
        form.note.data = render_system_text(item.note)  # a note the system wrote, in the reader's words
    if form.validate_on_submit():
        note = form.note.data or ""
        if item.note and note == render_system_text(item.note):
            note = item.note  # unchanged: keep the system's note, shown to each reader in their language
        with attempt(form) as outcome:
            services.update_exception(item, form.owner_id.data, form.due_date.data, note)
        if outcome.ok:
            flash(_("Exception saved."), "success")
            return redirect(url_for("logistics_exceptions.detail", exception_id=item.id))
    return render_template("logistics/exception.html", item=item, form=form, resolve_form=ResolveForm(),
                           contact_form=ContactForm(), resolutions=services.available_resolutions(item),
                           can_contact=services.can_contact(item), value=services.shipment_value(item.shipment),
                           replacements=services.replacement_links(item.shipment),
                           history=audit.timeline("delivery_exception", item.id))


@bp.route("/<int:exception_id>/resolve", methods=["POST"])
@requires("logistics.exceptions")
def resolve(exception_id: int):
    item = services.get_exception(exception_id)
    form = ResolveForm()
    if not form.validate():
        abort(400)
    with attempt() as outcome:
        links = services.resolve_exception(item, form.resolution.data, form.note.data or "")
    if outcome.ok:
        flash(_("Exception resolved: %(resolution)s.", resolution=states.RESOLUTION_LABELS[form.resolution.data]),
              "success")
        for link in links:
            if link.get("label"):
                flash(_("Created: %(label)s", label=link["label"]), "info")
    return redirect(url_for("logistics_exceptions.detail", exception_id=exception_id))


@bp.route("/<int:exception_id>/contact", methods=["POST"])
@requires("logistics.exceptions")
def contact(exception_id: int):
    item = services.get_exception(exception_id)
    form = ContactForm()
    with attempt() as outcome:
        links = services.contact_customer(item, form.message.data or "")
    if outcome.ok:
        labels = ", ".join(str(link.get("label", "")) for link in links if link.get("label"))
        flash(_("Customer service will contact the customer (%(tickets)s).", tickets=labels or "—"), "success")
    return redirect(url_for("logistics_exceptions.detail", exception_id=exception_id))
