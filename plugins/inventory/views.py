"""Stock pages: overview, product ledger, receipts, stocktake, transfers, expected goods,
replenishment, low-stock alerts, warehouses, and the order panel's warehouse switch.

Thin: parse the form, call a service, commit or roll back with a message, redirect.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from erp_core import audit
from erp_core.db import MAX_ID
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.forms import attempt, choices, show_domain_error
from erp_core.security import requires, safe_next
from erp_core.ui import MAX_PER_PAGE, apply_sort, page_args, paginate
from plugins.orders.public import Order, Product, scan_answer

from . import services
from .forms import ExpectedForm, ReceiptForm, ReceiveExpectedForm, RuleForm, StocktakeForm, TransferForm, WarehouseForm
from .models import MOVE_TYPES, Document, ExpectedReceipt, Level, LowStockAlert, Move, StockRule, Warehouse

bp = Blueprint("inventory", __name__, url_prefix="/inventory", template_folder="templates")


class RowPagination(SelectPagination):
    """A pagination whose items are whole rows (several columns), not only the first entity."""

    def _query_items(self):
        stmt = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return list(self._query_args["session"].execute(stmt).all())


def paginate_rows(stmt):
    page, per_page = page_args()
    return RowPagination(select=stmt, session=db.session(), page=page, per_page=per_page,
                         max_per_page=MAX_PER_PAGE, error_out=False)


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    # ASCII digits within the id range only ("²" is a digit to Python; a larger id names nothing)
    return int(raw) if raw.isascii() and raw.isdigit() and int(raw) <= MAX_ID else None


def _warehouse_names() -> dict[int, str]:
    return dict(db.session.execute(select(Warehouse.id, Warehouse.name)).all())


def _warehouse_choices(blank: bool = False) -> list:
    pairs = [(str(w.id), w.name) for w in services.warehouses()]
    return choices(([("", _("Choose..."))] if blank else []) + pairs)


def _sku_options() -> list:
    """Product codes for the <datalist> of line inputs (active products, capped)."""
    return db.session.execute(select(Product.sku, Product.name).where(Product.active.is_(True))
                              .order_by(Product.sku).limit(1000)).all()


def _show(form, exc: DomainError) -> None:
    """A refusal beside its field; line fields are ``lines-<n>-<name>``."""
    field = exc.field or ""
    if field == "lines":
        flash(str(exc), "danger")
        return
    if field.startswith("lines-") and hasattr(form, "lines"):
        _prefix, index, name = field.split("-", 2)
        if index.isdigit() and int(index) < len(form.lines.entries):
            sub = getattr(form.lines.entries[int(index)].form, name, None)
            if sub is not None:
                sub.errors = list(sub.errors) + [str(exc)]
                return
    show_domain_error(form, exc)
    if exc.field and getattr(form, exc.field, None) is not None:
        flash(_("Nothing was saved; please correct the marked field."), "danger")


def order_url(order_id: int | None) -> str | None:
    """A link to the orders plugin's page of an order, when it offers one."""
    if not order_id:
        return None
    for endpoint in ("orders.order_detail", "orders.detail", "orders.view", "orders.order"):
        if endpoint in current_app.view_functions:
            return url_for(endpoint, order_id=order_id)
    return None


def _lines_form_posted(form) -> bool:
    return request.method == "POST" and form.validate_on_submit()


# ----------------------------------------------------------------------------- overview


@bp.route("/")
@requires("inventory.view")
def index():
    args = request.args
    wid = _int_arg("warehouse")
    level_on = Level.product_id == Product.id
    if wid:
        level_on = and_(level_on, Level.warehouse_id == wid)
    available = func.coalesce(Level.on_hand, 0) - func.coalesce(Level.reserved, 0)
    threshold = func.coalesce(StockRule.low_threshold, 0)
    stmt = (select(Product.id, Product.sku, Product.name, Product.unit, Level.warehouse_id,
                   func.coalesce(Level.on_hand, 0).label("on_hand"), func.coalesce(Level.reserved, 0).label("reserved"),
                   available.label("available"), threshold.label("threshold"))
            .select_from(Product).outerjoin(Level, level_on).outerjoin(StockRule, StockRule.product_id == Product.id))
    if not args.get("inactive"):
        stmt = stmt.where(Product.active.is_(True))
    q = args.get("q", "").strip()
    if q:
        stmt = stmt.where(or_(Product.sku.contains(q.upper(), autoescape=True),
                              Product.name_key.contains(q.lower(), autoescape=True)))
    if args.get("low"):
        stmt = stmt.where(available < threshold)
    stmt, sort, desc = apply_sort(stmt, {"sku": Product.sku, "name": Product.name_key, "available": available,
                                         "on_hand": func.coalesce(Level.on_hand, 0),
                                         "reserved": func.coalesce(Level.reserved, 0)}, "sku")
    stmt = stmt.order_by(Level.warehouse_id)
    page = paginate_rows(stmt)
    return render_template("inventory/index.html", page=page, sort=sort, desc=desc, warehouse_id=wid,
                           warehouses=services.warehouses(False), names=_warehouse_names(),
                           open_alerts=services.open_alert_count(),
                           on_order=services.incoming_by_level((r.id for r in page.items), wid))


@bp.route("/products/<int:product_id>")
@requires("inventory.view")
def product(product_id: int):
    item = db.session.get(Product, product_id) or abort(404)
    names = _warehouse_names()
    levels = db.session.scalars(select(Level).where(Level.product_id == item.id).order_by(Level.warehouse_id)).all()
    rule = db.session.get(StockRule, item.id)
    form = RuleForm(data={"low_threshold": rule.low_threshold if rule else 0,
                          "reorder_quantity": rule.reorder_quantity if rule else 0})
    stmt = select(Move).where(Move.product_id == item.id, services.visible_moves())
    wid = _int_arg("warehouse")
    if wid:
        stmt = stmt.where(Move.warehouse_id == wid)
    if request.args.get("type") in MOVE_TYPES:
        stmt = stmt.where(Move.type == request.args["type"])
    if request.args.get("reference", "").strip():
        stmt = stmt.where(Move.reference == request.args["reference"].strip())
    page = paginate(stmt.order_by(Move.id.desc()))
    incoming = db.session.scalars(select(ExpectedReceipt).where(
        ExpectedReceipt.product_id == item.id, ExpectedReceipt.status == "open")
        .order_by(ExpectedReceipt.expected_date, ExpectedReceipt.id)).all()
    orders = _order_numbers(m.order_id for m in page.items)
    on_order = services.incoming_by_product([item.id]) or {}
    return render_template("inventory/product.html", product=item, levels=levels, rule=rule, form=form, page=page,
                           names=names, incoming=incoming, orders=orders, warehouse_id=wid,
                           on_order=on_order.get(item.id), atp=services.available_to_promise(item.id, incoming=on_order))


def _order_numbers(order_ids) -> dict[int, str]:
    ids = {i for i in order_ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(Order.id, Order.number).where(Order.id.in_(ids))).all())


@bp.route("/products/<int:product_id>/rule", methods=["POST"])
@requires("inventory.thresholds")
def set_rule(product_id: int):
    item = db.session.get(Product, product_id) or abort(404)
    form = RuleForm()
    if form.validate_on_submit():
        def refused(_form, exc):
            flash(_("Nothing was saved: %(reason)s", reason=exc), "danger")

        with attempt(on_error=refused) as outcome:
            services.set_rule(item, form.low_threshold.data, form.reorder_quantity.data)
        if outcome.ok:
            flash(_("Threshold and reorder quantity of %(sku)s saved.", sku=item.sku), "success")
    else:
        flash(_("The form had expired. Please try again."), "danger")
    return redirect(safe_next(request.form.get("next"), url_for("inventory.product", product_id=item.id)))


@bp.route("/moves")
@requires("inventory.view")
def moves():
    stmt = (select(Move, Product.sku, Product.name).join(Product, Product.id == Move.product_id)
            .where(services.visible_moves()))
    wid = _int_arg("warehouse")
    if wid:
        stmt = stmt.where(Move.warehouse_id == wid)
    if request.args.get("type") in MOVE_TYPES:
        stmt = stmt.where(Move.type == request.args["type"])
    ref = request.args.get("reference", "").strip()
    if ref:
        stmt = stmt.where(Move.reference == ref.upper())
    page = paginate_rows(stmt.order_by(Move.id.desc()))
    return render_template("inventory/moves.html", page=page, names=_warehouse_names(), warehouse_id=wid,
                           warehouses=services.warehouses(False), orders=_order_numbers(r[0].order_id for r in page.items))


@bp.route("/documents/<int:document_id>")
@requires("inventory.view")
def document(document_id: int):
    doc = db.session.get(Document, document_id) or abort(404)
    rows = db.session.execute(select(Move, Product.sku, Product.name).join(Product, Product.id == Move.product_id)
                              .where(Move.document_id == doc.id).order_by(Move.id)).all()
    return render_template("inventory/document.html", doc=doc, rows=rows, names=_warehouse_names())


# ----------------------------------------------------------------------------- receipts, stocktake, transfers


def _new_token(form) -> None:
    if not form.token.data:
        form.token.data = services.new_form_token()


def _duplicate(exc: IntegrityError) -> bool:
    return "form_token" in str(exc.orig) or "inventory_document" in str(exc.orig)


def doc_moves(doc: Document) -> list[Move]:
    return list(db.session.scalars(select(Move).where(Move.document_id == doc.id)))


def _save_document(form, record, kind: str, message):
    """Run ``record()`` (a service that makes a receipt or transfer), commit and go to the document.

    A refusal goes beside its field (returns None: show the form again); a double post of the
    same form (its one-time token) is recognised and recorded once.
    """
    try:
        with attempt(form, on_error=_show) as outcome:
            doc = record()
    except IntegrityError as exc:
        if not _duplicate(exc):
            raise
        flash(_("This form was already sent; nothing was recorded twice."), "warning")
        return redirect(url_for("inventory.moves", type=kind))
    if not outcome.ok:
        return None
    flash(message(doc), "success")
    return redirect(url_for("inventory.document", document_id=doc.id))


@bp.route("/receipts/new", methods=["GET", "POST"])
@requires("inventory.receive")
def receipt():
    form = ReceiptForm()
    form.warehouse_id.choices = _warehouse_choices()
    if request.method == "GET":
        default = services.find_default_warehouse()
        form.warehouse_id.data = str(_int_arg("warehouse") or (default.id if default else ""))
        form.lines[0].sku.data = (request.args.get("sku") or "").strip().upper()[:64]
        _new_token(form)
    if _lines_form_posted(form):
        def record():
            return services.receive_goods(form.warehouse_id.data, services.parse_lines(form.line_rows()),
                                          form.supplier.data, form.note.data, token=form.token.data)

        done = _save_document(form, record, "receipt", lambda doc: ngettext(
            "Receipt %(number)s recorded: %(num)d product put on hand.",
            "Receipt %(number)s recorded: %(num)d products put on hand.",
            len({m.product_id for m in doc_moves(doc)}), number=doc.number))
        if done is not None:
            return done
    return render_template("inventory/receipt.html", form=form, skus=_sku_options())


@bp.route("/receipts/scan")
@requires("inventory.receive")
def receipt_scan():
    """The product a scanner read on the receipt page (JSON; 404 with a message when unknown)."""
    body, status = scan_answer(request.args.get("code", ""))
    return jsonify(body), status


@bp.route("/transfers/new", methods=["GET", "POST"])
@requires("inventory.transfer")
def transfer():
    form = TransferForm()
    form.from_warehouse_id.choices = _warehouse_choices(blank=True)
    form.to_warehouse_id.choices = _warehouse_choices(blank=True)
    if request.method == "GET":
        _new_token(form)
    if _lines_form_posted(form):
        def record():
            return services.transfer(form.from_warehouse_id.data, form.to_warehouse_id.data,
                                     services.parse_lines(form.line_rows()), form.note.data, token=form.token.data)

        done = _save_document(form, record, "transfer",
                              lambda doc: _("Transfer %(number)s recorded.", number=doc.number))
        if done is not None:
            return done
    return render_template("inventory/transfer.html", form=form, skus=_sku_options())


@bp.route("/stocktake", methods=["GET", "POST"])
@requires("inventory.adjust")
def stocktake():
    form = StocktakeForm()
    form.warehouse_id.choices = _warehouse_choices()
    current = None
    if request.method == "GET":
        default = services.find_default_warehouse()
        form.warehouse_id.data = str(_int_arg("warehouse_id") or (default.id if default else ""))
        form.sku.data = request.args.get("sku", "")
        _new_token(form)
    item = db.session.scalar(select(Product).where(Product.sku == (form.sku.data or "").strip().upper())) \
        if (form.sku.data or "").strip() else None
    if item is not None and str(form.warehouse_id.data or "").isdigit():
        current = db.session.scalar(select(Level).where(Level.product_id == item.id,
                                                        Level.warehouse_id == int(form.warehouse_id.data)))
        if request.method == "GET":
            form.seen.data = str(current.on_hand if current else 0)
    if request.method == "POST" and form.validate_on_submit():
        try:
            with attempt(form, on_error=_show) as outcome:
                if item is None:
                    raise DomainError(_("Unknown product code %(sku)s.", sku=form.sku.data or "—"), field="sku")
                doc = services.count_stock(form.warehouse_id.data, item, form.counted.data, form.reason.data,
                                           seen=form.seen.data, token=form.token.data)
        except IntegrityError as exc:
            if not _duplicate(exc):
                raise
            flash(_("This form was already sent; nothing was recorded twice."), "warning")
            return redirect(url_for("inventory.stocktake"))
        if outcome.ok:
            if doc is None:
                flash(_("The count of %(sku)s matches the books; nothing to adjust.", sku=item.sku), "info")
            else:
                flash(_("Stocktake %(number)s recorded: %(sku)s adjusted to %(counted)s.", number=doc.number,
                        sku=item.sku, counted=form.counted.data.strip()), "success")
            return redirect(url_for("inventory.stocktake", warehouse_id=form.warehouse_id.data))
    return render_template("inventory/stocktake.html", form=form, product=item, current=current,
                           skus=_sku_options())


# ----------------------------------------------------------------------------- expected receipts


@bp.route("/incoming")
@requires("inventory.view")
def incoming():
    status = request.args.get("status", "open")
    stmt = select(ExpectedReceipt, Product.sku, Product.name).join(Product, Product.id == ExpectedReceipt.product_id)
    if status in ("open", "received", "cancelled"):
        stmt = stmt.where(ExpectedReceipt.status == status)
    wid = _int_arg("warehouse")
    if wid:
        stmt = stmt.where(ExpectedReceipt.warehouse_id == wid)
    stmt, sort, desc = apply_sort(stmt, {"expected": ExpectedReceipt.expected_date, "id": ExpectedReceipt.id,
                                         "sku": Product.sku}, "expected")
    page = paginate_rows(stmt)
    return render_template("inventory/incoming.html", page=page, sort=sort, desc=desc, status=status,
                           warehouse_id=wid, warehouses=services.warehouses(False), names=_warehouse_names(),
                           receive_form=ReceiveExpectedForm())


@bp.route("/incoming/new", methods=["GET", "POST"])
@requires("inventory.receive")
def incoming_new():
    form = ExpectedForm()
    form.warehouse_id.choices = _warehouse_choices()
    if request.method == "GET":
        default = services.find_default_warehouse()
        form.warehouse_id.data = str(_int_arg("warehouse") or (default.id if default else ""))
        form.sku.data = request.args.get("sku", "")
        form.quantity.data = request.args.get("quantity", "")
    if form.validate_on_submit():
        with attempt(form, on_error=_show) as outcome:
            item = db.session.scalar(select(Product).where(Product.sku == (form.sku.data or "").strip().upper()))
            if item is None:
                raise DomainError(_("Unknown product code %(sku)s.", sku=form.sku.data or "—"), field="sku")
            er = services.expect_receipt(item, form.warehouse_id.data, form.quantity.data, form.supplier.data,
                                         services.parse_date(form.expected_date.data), form.note.data)
        if outcome.ok:
            flash(_("Expected receipt of %(quantity)s × %(sku)s recorded.", quantity=er.quantity, sku=item.sku),
                  "success")
            return redirect(url_for("inventory.incoming"))
    return render_template("inventory/incoming_form.html", form=form, skus=_sku_options())


@bp.route("/incoming/<int:expected_id>/receive", methods=["POST"])
@requires("inventory.receive")
def incoming_receive(expected_id: int):
    er = db.session.get(ExpectedReceipt, expected_id) or abort(404)
    form = ReceiveExpectedForm()
    if not form.validate_on_submit():
        flash(_("The form had expired. Please try again."), "danger")
        return redirect(url_for("inventory.incoming"))
    with attempt() as outcome:
        doc = services.receive_expected(er, form.quantity.data)
    if outcome.ok:
        flash(_("Received: receipt %(number)s recorded.", number=doc.number), "success")
        return redirect(url_for("inventory.document", document_id=doc.id))
    return redirect(url_for("inventory.incoming"))


@bp.route("/incoming/<int:expected_id>/cancel", methods=["POST"])
@requires("inventory.receive")
def incoming_cancel(expected_id: int):
    er = db.session.get(ExpectedReceipt, expected_id) or abort(404)
    with attempt() as outcome:
        services.cancel_expected(er)
    if outcome.ok:
        flash(_("Expected receipt cancelled."), "success")
    return redirect(url_for("inventory.incoming"))


# ----------------------------------------------------------------------------- replenishment, alerts


@bp.route("/replenishment")
@requires("inventory.view")
def replenishment():
    default = services.find_default_warehouse()
    wid = _int_arg("warehouse") or (default.id if default else None)
    page, rows = None, []
    if wid:
        stmt = services.replenishment_query(wid).order_by(Product.sku)
        page = paginate_rows(stmt)
        for product_, rule, on_hand, reserved, incoming_ in page.items:
            rows.append((product_, rule, on_hand, reserved, incoming_,
                         services.suggest(on_hand, reserved, incoming_, rule.low_threshold, rule.reorder_quantity)))
    return render_template("inventory/replenishment.html", page=page, rows=rows, warehouse_id=wid,
                           warehouses=services.warehouses(),
                           on_order=services.incoming_by_product((r[0].id for r in rows), wid))


@bp.route("/alerts")
@requires("inventory.view")
def alerts():
    stmt = (select(LowStockAlert, Product.sku, Product.name)
            .join(Product, Product.id == LowStockAlert.product_id))
    show = request.args.get("show", "open")
    if show == "open":
        stmt = stmt.where(LowStockAlert.resolved_at.is_(None))
    wid = _int_arg("warehouse")
    if wid:
        stmt = stmt.where(LowStockAlert.warehouse_id == wid)
    page = paginate_rows(stmt.order_by(LowStockAlert.id.desc()))
    return render_template("inventory/alerts.html", page=page, show=show, warehouse_id=wid,
                           warehouses=services.warehouses(False), names=_warehouse_names(),
                           on_order=services.incoming_by_level((r[0].product_id for r in page.items), wid))


def low_stock_widget_context() -> dict:
    """The dashboard card: open alerts (newest first) and how many there are."""
    rows = db.session.execute(
        select(LowStockAlert, Product.sku, Product.name, (Level.on_hand - Level.reserved).label("available"))
        .join(Product, Product.id == LowStockAlert.product_id)
        .join(Level, and_(Level.product_id == LowStockAlert.product_id, Level.warehouse_id == LowStockAlert.warehouse_id))
        .where(LowStockAlert.resolved_at.is_(None)).order_by(LowStockAlert.id.desc()).limit(6)).all()
    return {"rows": rows, "count": services.open_alert_count(), "names": _warehouse_names()}


# ----------------------------------------------------------------------------- warehouses


@bp.route("/warehouses")
@requires("inventory.warehouses")
def warehouses():
    rows = services.warehouses(active_only=False)
    totals = {r[0]: (int(r[1] or 0), int(r[2] or 0)) for r in db.session.execute(
        select(Level.warehouse_id, func.sum(Level.on_hand), func.sum(Level.reserved)).group_by(Level.warehouse_id))}
    return render_template("inventory/warehouses.html", rows=rows, totals=totals)


@bp.route("/warehouses/new", methods=["GET", "POST"])
@bp.route("/warehouses/<int:warehouse_id>", methods=["GET", "POST"])
@requires("inventory.warehouses")
def warehouse_form(warehouse_id: int | None = None):
    wh = (db.session.get(Warehouse, warehouse_id) or abort(404)) if warehouse_id else None
    form = WarehouseForm(obj=wh)
    if form.validate_on_submit():
        with attempt(form, on_error=_show) as outcome:
            wh = services.save_warehouse(wh, form.code.data, form.name.data, form.address.data)
        if outcome.ok:
            flash(_("Warehouse %(name)s saved.", name=wh.name), "success")
            return redirect(url_for("inventory.warehouses"))
    history = audit.timeline("warehouse", wh.id) if wh else []
    return render_template("inventory/warehouse_form.html", form=form, warehouse=wh, history=history)


@bp.route("/warehouses/<int:warehouse_id>/<any(default, activate, deactivate):action>", methods=["POST"])
@requires("inventory.warehouses")
def warehouse_action(warehouse_id: int, action: str):
    wh = db.session.get(Warehouse, warehouse_id) or abort(404)
    with attempt() as outcome:
        if action == "default":
            services.set_default_warehouse(wh)
            message = _("%(name)s is now the default warehouse.", name=wh.name)
        else:
            services.set_warehouse_active(wh, action == "activate")
            message = (_("%(name)s is active.", name=wh.name) if action == "activate"
                       else _("%(name)s is switched off.", name=wh.name))
    if outcome.ok:
        flash(message, "success")
    return redirect(url_for("inventory.warehouses"))


# ----------------------------------------------------------------------------- orders


@bp.route("/orders/<int:order_id>/warehouse", methods=["POST"])
@requires("inventory.order_warehouse")
def order_warehouse(order_id: int):
    order = db.session.get(Order, order_id) or abort(404)
    back = order_url(order.id) or url_for("inventory.index")
    def refused(_form, exc):
        flash(_("The warehouse was not changed: %(reason)s", reason=exc), "danger")

    with attempt(on_error=refused) as outcome:
        changed = services.change_order_warehouse(order, request.form.get("warehouse_id"))
    if outcome.ok and changed:
        name = db.session.scalar(select(Warehouse.name).where(Warehouse.id == order.warehouse_id))
        flash(_("Order %(number)s now ships from %(name)s.", number=order.number, name=name), "success")
    elif outcome.ok:
        flash(_("The warehouse is unchanged."), "info")
    return redirect(back)


@bp.app_template_global("inventory_order_url")
def _order_url_global(order_id):
    return order_url(order_id)
