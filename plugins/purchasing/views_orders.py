"""Purchase order pages: list, draft form, page, send, print, receive, close, cancel; and the
replenishment page that turns suggestions into draft orders.

Thin: parse the form, call a service, commit or roll back with a message, redirect.
"""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import func, select

from erp_core import audit
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.forms import attempt, choices
from erp_core.money import format_plain
from erp_core.security import has_permission, requires
from erp_core.timeutil import utcnow
from erp_core.ui import apply_sort, paginate
from plugins.inventory import services as inventory
from plugins.orders.public import Product, scan_answer

from . import services, states
from .blueprint import bp, int_arg, show_error, sku_options, warehouse_choices
from .forms import BillForm, PurchaseOrderForm, ReasonForm, ReorderRuleForm, SendForm
from .models import PurchaseOrder

STATUS_INVALID = 422
LANGUAGE_LABELS = {"zh_CN": "中文", "en": "English"}


@bp.route("/")
@requires("purchasing.view")
def orders():
    stmt = select(PurchaseOrder)
    status = request.args.get("status", "")
    if status in states.STATUSES:
        stmt = stmt.where(PurchaseOrder.status == status)
    elif status == "open":
        stmt = stmt.where(PurchaseOrder.status.in_(states.ON_ORDER))
    supplier_id = int_arg("supplier")
    if supplier_id:
        stmt = stmt.where(PurchaseOrder.supplier_id == supplier_id)
    q = request.args.get("q", "").strip()
    if q:
        stmt = stmt.where(PurchaseOrder.number.contains(q.upper(), autoescape=True))
    stmt, sort, desc = apply_sort(stmt, {"number": PurchaseOrder.id, "status": PurchaseOrder.status}, "-number")
    page = paginate(stmt)
    return render_template("purchasing/orders.html", page=page, sort=sort, desc=desc,
                           totals=services.totals_of([po.id for po in page.items]),
                           labels=states.LABELS, badges=states.BADGES, statuses=states.STATUSES,
                           suppliers=services.active_suppliers())


def _form_lines(form: PurchaseOrderForm) -> list:
    return [services.LineInput(line.product.data, line.quantity.data, line.unit_price.data,
                               line.expected_date.data) for line in form.lines]


def _supplier_choices() -> list:
    return choices([("", _("Choose..."))] + [(str(s.id), f"{s.name} ({s.code})") for s in services.active_suppliers()])


@bp.route("/orders/new", methods=["GET", "POST"])
@bp.route("/orders/<int:po_id>/edit", methods=["GET", "POST"])
@requires("purchasing.manage")
def order_form(po_id: int | None = None):
    po = (db.session.get(PurchaseOrder, po_id) or abort(404)) if po_id else None
    if po is not None and po.status not in states.EDITABLE:
        flash(_("Only a draft purchase order can be changed."), "warning")
        return redirect(url_for("purchasing.order", po_id=po.id))
    form = PurchaseOrderForm()
    form.supplier_id.choices = _supplier_choices()
    form.warehouse_id.choices = warehouse_choices()
    if request.method == "GET":
        _fill(form, po)
    status = 200
    if form.validate_on_submit():
        with attempt(form, on_error=show_error) as outcome:
            if po is None:
                po = services.create_po(services.get_supplier(form.supplier_id.data), form.warehouse_id.data,
                                        _form_lines(form), form.note.data)
            else:
                services.update_draft(po, form.warehouse_id.data, _form_lines(form), form.note.data)
        if outcome.ok:
            flash(_("Purchase order %(number)s saved as a draft.", number=po.number), "success")
            return redirect(url_for("purchasing.order", po_id=po.id))
        status = STATUS_INVALID
    elif request.method == "POST":
        status = STATUS_INVALID
    return render_template("purchasing/order_form.html", form=form, po=po, skus=sku_options()), status


def _fill(form: PurchaseOrderForm, po: PurchaseOrder | None) -> None:
    default = inventory.find_default_warehouse()
    if po is None:
        form.supplier_id.data = request.args.get("supplier", "")
        form.warehouse_id.data = str(default.id) if default else ""
        return
    form.supplier_id.data, form.warehouse_id.data, form.note.data = str(po.supplier_id), str(po.warehouse_id), po.note
    rows = services.po_lines(po)
    while len(form.lines.entries) < len(rows):
        form.lines.append_entry()
    for entry, (line, product) in zip(form.lines.entries, rows, strict=False):
        entry.form.product.data, entry.form.quantity.data = product.sku, str(line.quantity)
        entry.form.unit_price.data = format_plain(line.unit_price_minor, po.currency)
        entry.form.expected_date.data = line.expected_date.isoformat() if line.expected_date else ""


def order_page(po: PurchaseOrder, status: int = 200, over: str | None = None, typed: dict | None = None,
               bill_form: BillForm | None = None):
    """The purchase order's page (``over``/``typed``: a receipt to confirm; ``bill_form``: a
    refused bill as typed)."""
    send_form = SendForm()
    send_form.language.choices = choices(list(LANGUAGE_LABELS.items()))
    bills = services.bills_of(po.id)
    return render_template("purchasing/order.html", po=po, lines=services.po_lines(po), labels=states.LABELS,
                           bills=bills, bill_form=bill_form or BillForm(formdata=None),
                           bill_labels=services.BILL_LABELS, bill_badges=services.BILL_BADGES,
                           badges=states.BADGES, states=states, send_form=send_form, reason_form=ReasonForm(),
                           warehouse=inventory.get_warehouse(po.warehouse_id), over=over, typed=typed or {},
                           history=audit.timeline("purchase_order", po.id)), status


@bp.route("/orders/<int:po_id>")
@requires("purchasing.view")
def order(po_id: int):
    return order_page(db.session.get(PurchaseOrder, po_id) or abort(404))


@bp.route("/orders/<int:po_id>/print")
@requires("purchasing.view")
def order_print(po_id: int):
    po = db.session.get(PurchaseOrder, po_id) or abort(404)
    language = request.args.get("lang") if request.args.get("lang") in LANGUAGE_LABELS else str(get_locale())
    with force_locale(language):
        return render_template("purchasing/print.html", po=po, lines=services.po_lines(po), labels=states.LABELS,
                               warehouse=inventory.get_warehouse(po.warehouse_id), languages=LANGUAGE_LABELS)


@bp.route("/orders/<int:po_id>/send", methods=["POST"])
@requires("purchasing.manage")
def order_send(po_id: int):
    po = db.session.get(PurchaseOrder, po_id) or abort(404)
    form = SendForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            mailed = services.send_po(po, form.language.data or "zh_CN")
        if outcome.ok:
            if mailed:
                flash(_("Purchase order %(number)s was e-mailed to %(email)s.", number=po.number,
                        email=po.supplier.email), "success")
            elif not po.supplier.email:
                flash(_("Purchase order %(number)s is marked sent. The supplier has no e-mail address: print it and send it yourself.",
                        number=po.number), "warning")
            else:
                flash(_("Purchase order %(number)s is marked sent.", number=po.number), "success")
    return redirect(url_for("purchasing.order", po_id=po.id))


@bp.route("/receive/scan")
@requires("purchasing.receive")
def receive_scan():
    """The product a scanner read on a purchase order's receive form (JSON; 404 with a message
    when unknown; the page tells a product that is not on the order)."""
    body, status = scan_answer(request.args.get("code", ""))
    return jsonify(body), status


@bp.route("/orders/<int:po_id>/receive", methods=["POST"])
@requires("purchasing.receive")
def order_receive(po_id: int):
    po = db.session.get(PurchaseOrder, po_id) or abort(404)
    form = ReasonForm()  # only its CSRF token is used
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return redirect(url_for("purchasing.order", po_id=po.id))
    typed = {line.id: request.form.get(f"line-{line.id}", "") for line in po.lines}
    seen = {line.id: request.form.get(f"seen-{line.id}", "") for line in po.lines}
    try:
        document = services.receive(po, typed, confirm_over=request.form.get("confirm_over") == "1", seen=seen)
        db.session.commit()
    except services.OverReceipt as exc:
        db.session.rollback()
        return order_page(po, 409, over=str(exc), typed=typed)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return order_page(po, exc.status or STATUS_INVALID, typed=typed)
    flash(_("Goods received into stock: %(receipt)s.", receipt=document.number), "success")
    return redirect(url_for("purchasing.order", po_id=po.id))


@bp.route("/orders/<int:po_id>/<any(close, cancel):action>", methods=["POST"])
@requires("purchasing.manage")
def order_close(po_id: int, action: str):
    po = db.session.get(PurchaseOrder, po_id) or abort(404)
    form = ReasonForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            (services.close_po if action == "close" else services.cancel_po)(po, form.reason.data)
        if outcome.ok:
            flash(_("Purchase order %(number)s is %(status)s.", number=po.number, status=states.LABELS[po.status]),
                  "success")
    return redirect(url_for("purchasing.order", po_id=po.id))


# ----------------------------------------------------------------------------- replenishment


@bp.route("/replenishment", methods=["GET", "POST"])
@requires("purchasing.view")
def replenishment():
    default = inventory.find_default_warehouse()
    wid = int_arg("warehouse") or (default.id if default else None)
    form = ReasonForm()  # CSRF only
    if request.method == "POST":
        if not has_permission("purchasing.manage"):
            abort(403)
        if form.validate_on_submit():
            with attempt() as outcome:
                made = services.create_from_suggestions(request.form.get("warehouse", ""),
                                                        request.form.getlist("product_ids"))
            if outcome.ok:
                flash(ngettext("%(num)d draft purchase order made: %(numbers)s.",
                               "%(num)d draft purchase orders made: %(numbers)s.", len(made),
                               numbers=", ".join(po.number for po in made)), "success")
                return redirect(url_for("purchasing.orders", status="draft"))
        return redirect(url_for("purchasing.replenishment", warehouse=request.form.get("warehouse", "")))
    rows = services.suggestions(wid) if wid else []
    return render_template("purchasing/replenishment.html", rows=rows, warehouse_id=wid, form=form,
                           warehouses=inventory.warehouses())


@bp.route("/products/<int:product_id>/reorder-rule", methods=["POST"])
@requires("purchasing.manage")
def reorder_rule(product_id: int):
    product = db.session.get(Product, product_id) or abort(404)
    form = ReorderRuleForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            services.set_reorder_rule(product, form.warehouse_id.data, form.reorder_point.data, form.target_level.data)
        if outcome.ok:
            flash(_("Reorder rule of %(sku)s saved.", sku=product.sku), "success")
    return redirect(url_for("orders_products.detail", product_id=product.id))


def late_widget_context() -> dict:
    """The dashboard card: open purchase orders with goods expected before today."""
    stmt = services.late_query(utcnow().date())
    count = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.scalars(stmt.order_by(PurchaseOrder.id).limit(8)).all()
    return {"rows": rows, "count": count}


def product_panel_context(product: Product) -> dict:
    """The product page's panel: who sells it, on order, reorder rules per warehouse."""
    warehouses = inventory.warehouses()
    rules = {w.id: services.rules_for(w.id, [product.id]).get(product.id) for w in warehouses}
    terms = services.terms_of_products([product.id])[product.id]
    form = ReorderRuleForm(formdata=None)
    form.warehouse_id.choices = warehouse_choices()
    return {"product": product, "terms": terms, "on_order": services.on_order_by_product([product.id]).get(product.id, 0),
            "rules": rules, "warehouses": warehouses, "form": form}
