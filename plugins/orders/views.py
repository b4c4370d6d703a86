"""Pages of orders: the order list, entry and edit forms, the order page with its actions,
printing, CSV export and import. Thin: parse the form, call a service, commit or roll back and
show the message, redirect."""

from __future__ import annotations

import secrets

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from erp_core import audit
from erp_core.errors import Conflict, DomainError, ValidationProblems
from erp_core.extensions import db
from erp_core.forms import attempt
from erp_core.money import format_plain
from erp_core.security import require_permission, requires
from erp_core.ui import apply_sort, paginate
from erp_core.web.templating import record_panels, render_contributions

from . import channels, csvio, queries, services, states, tax
from .forms import ActionForm, ImportForm, OrderForm, currency_choices, currency_decimals, parse_lines, to_line_input
from .models import Customer, Order

bp = Blueprint("orders", __name__, url_prefix="/orders", template_folder="templates", static_folder="static")

STATUS_CODE_INVALID = 422


# ----------------------------------------------------------------------------- list and export


@bp.route("/")
@requires("orders.view")
def index():
    filters = queries.OrderFilter.from_args(request.args)
    stmt, sort, desc = apply_sort(queries.order_select(filters), queries.ORDER_SORTS, "-created")
    page = paginate(stmt, count=queries.order_count(filters))
    from .views_channels import list_context

    return render_template("orders/list.html", page=page, filters=filters, sort=sort, desc=desc,
                           statuses=states.STATUSES, labels=states.LABELS, badges=states.BADGES,
                           **list_context(page))


@bp.route("/export.csv")
@requires("orders.export")
def export():
    filters = queries.OrderFilter.from_args(request.args)
    stmt, _sort, _desc = apply_sort(queries.order_select(filters), queries.ORDER_SORTS, "-created")
    filename = csvio.export_filename()
    localized = request.args.get("headings") == "names"
    response = Response(stream_with_context(csvio.export_orders(stmt, localized=localized)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


# ----------------------------------------------------------------------------- entry and edit


def _form_context(form: OrderForm, rows: list[dict], errors: dict, order: Order | None = None) -> dict:
    form.currency.choices = currency_choices(order.currency if order else form.currency.data)
    line_errors: dict[int, dict[str, list[str]]] = {}
    general = []
    for key, messages in (errors or {}).items():
        if key.startswith("lines-"):
            _prefix, index, field = key.split("-", 2)
            line_errors.setdefault(int(index), {}).setdefault(field, []).extend(messages)
        elif key == "lines":
            general.extend(messages)
    codes = [str(c.value) for c in form.currency.choices]
    return {"form": form, "rows": rows, "line_errors": line_errors, "lines_error": general, "order": order,
            "decimals": currency_decimals(codes),
            "prices_include_tax": order.prices_include_tax if order is not None else tax.prices_include_tax(),
            "duplicate_error": (errors or {}).get("new_customer-duplicate", []),
            **channels.form_context(form), **_order_discount_context(errors, order)}


def _order_discount_context(errors: dict, order: Order | None) -> dict:
    """The order-discount fields of the form: as posted, else the order's; and their errors."""
    if request.method == "POST":
        values = {key: request.form.get(key, "")[:20] for key in ("discount_percent", "discount_amount")}
    elif order is not None:
        values = {"discount_percent": tax.percent_text(order.order_discount_percent)
                  if order.order_discount_percent else "",
                  "discount_amount": format_plain(order.order_discount_amount_minor, order.currency)
                  if order.order_discount_amount_minor else ""}
    else:
        values = {}
    return {"order_discount": values, "order_discount_errors": {
        key: messages for key, messages in (errors or {}).items() if key in ("discount_percent", "discount_amount")}}


def _show_order_errors(form: OrderForm, errors: dict) -> None:
    for key, messages in errors.items():
        if key.startswith("lines"):
            continue
        name = {"customer_id": "customer_label", "new_customer-name": "new_customer_name",
                "new_customer-phone": "new_customer_phone", "new_customer-email": "new_customer_email",
                "new_customer-duplicate": None, "discount_percent": None, "discount_amount": None}.get(key, key)
        if name is None:
            continue
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(field.errors) + list(messages)
        else:
            flash(" ".join(messages), "danger")


def _order_input(form: OrderForm, rows: list[dict]) -> services.OrderInput:
    return services.OrderInput(customer_id=form.customer_id.data, new_customer=form.new_customer(),
                               currency=form.currency.data or "", lines=[to_line_input(r) for r in rows],
                               entry_key=form.entry_key.data, channel=form.channel.data or "",
                               external_ref=form.external_ref.data or "", contact_id=form.contact_id.data or None,
                               **form.header_values(),
                               **{key: (request.form.get(key) or "").strip()[:20]
                                  for key in ("discount_percent", "discount_amount")})


@bp.route("/new", methods=["GET", "POST"])
@requires("orders.create")
def new():
    form = OrderForm()
    rows: list[dict] = []
    errors: dict = {}
    status = 200
    if request.method == "GET":
        form.entry_key.data = secrets.token_urlsafe(24)
        form.currency.data = request.args.get("currency") or None
        _prefill_customer(form, request.args.get("customer"))
    else:
        form.currency.choices = currency_choices(form.currency.data)
        rows = parse_lines(request.form)
        if form.validate_on_submit():
            try:
                order = services.create_order(_order_input(form, rows))
                db.session.commit()
            except services.OrderInvalid as exc:
                db.session.rollback()
                errors, status = exc.errors, STATUS_CODE_INVALID
                _show_order_errors(form, errors)
            except services.DuplicateExternalRef as exc:
                db.session.rollback()
                form.external_ref.errors = [str(exc)]
                form.duplicate_of, status = exc.order_id, exc.status
            except Conflict as exc:
                db.session.rollback()
                if exc.code == "already_saved":
                    flash(str(exc), "warning")
                    saved = db.session.scalar(db.select(Order).where(Order.entry_key == form.entry_key.data))
                    return redirect(url_for("orders.detail", order_id=saved.id) if saved else url_for("orders.index"))
                flash(str(exc), "danger")
                status = exc.status
            else:
                flash(_("Order %(number)s saved as a draft.", number=order.number), "success")
                if request.form.get("then") == "confirm" and current_user.can("orders.confirm"):
                    _confirm_after_entry(order)
                return redirect(url_for("orders.detail", order_id=order.id))
        else:
            status = STATUS_CODE_INVALID
    if not rows:
        rows = [{}]
    return render_template("orders/form.html", **_form_context(form, rows, errors)), status


def _confirm_after_entry(order: Order) -> None:
    """"Save and confirm": the order is saved first, so a refused confirmation keeps the draft."""
    def refused(_form, exc):
        flash(_("It could not be confirmed: %(reason)s", reason=exc), "warning")

    with attempt(on_error=refused) as outcome:
        services.transition(order, states.CONFIRMED)
    if outcome.ok:
        flash(_("Order %(number)s confirmed.", number=order.number), "success")


def _prefill_customer(form: OrderForm, raw_id) -> None:
    if not raw_id or not str(raw_id).isdigit():
        return
    customer = db.session.get(Customer, int(raw_id))
    if customer is None:
        return
    form.customer_id.data = str(customer.id)
    form.customer_label.data = customer.name
    form.contact_name.data = customer.name
    form.contact_phone.data = customer.phone or ""
    form.contact_email.data = customer.email or ""
    address = customer.default_address
    if address:
        form.ship_recipient.data = address.recipient or customer.name
        for name in ("line1", "line2", "city", "region", "postcode", "country"):
            getattr(form, "ship_" + name).data = getattr(address, name)


def _rows_of(order: Order) -> list[dict]:
    return [{"line_id": str(line.id), "product_id": str(line.product_id), "sku": line.sku,
             "label": f"{line.sku} — {line.name}", "unit": line.unit, "quantity": str(line.quantity),
             "unit_price": format_plain(line.unit_price_minor, order.currency),
             "discount": "" if not line.discount_percent else f"{line.discount_percent.normalize():f}",
             "discount_amount": format_plain(line.line_discount_minor, order.currency) if line.line_discount_minor else "",
             "tax_rate": "0" if line.tax_exempt else tax.percent_text(line.tax_rate_percent)}
            for line in order.lines]


@bp.route("/<int:order_id>/edit", methods=["GET", "POST"])
@requires("orders.edit")
def edit(order_id: int):
    order = services.get_order(order_id)
    if order.status not in states.LINES_EDITABLE:
        flash(_("Order %(number)s can no longer be changed: it is %(status)s. Shipped goods come back through a return.",
                number=order.number, status=states.LABELS[order.status]), "warning")
        return redirect(url_for("orders.detail", order_id=order.id))
    form = OrderForm(obj=order if request.method == "GET" else None)
    errors: dict = {}
    status = 200
    if request.method == "GET":
        form.customer_id.data = str(order.customer_id)
        form.customer_label.data = order.customer.name
        form.version.data = str(order.version)
        rows = _rows_of(order)
    else:
        form.currency.choices = currency_choices(order.currency)
        form.currency.data = order.currency
        rows = parse_lines(request.form)
        version = form.version.data
        if form.validate_on_submit() and version and version.isdigit():
            data = _order_input(form, rows)
            if order.status != states.DRAFT:
                data.customer_id, data.new_customer = order.customer_id, None
            try:
                changes = services.update_order(order, data, int(version))
                db.session.commit()
            except services.OrderInvalid as exc:
                db.session.rollback()
                errors, status = exc.errors, STATUS_CODE_INVALID
                _show_order_errors(form, errors)
            except DomainError as exc:
                db.session.rollback()
                flash(str(exc), "danger")
                status = exc.status
            else:
                if any(changes["lines"].values()) or changes["fields"]:
                    flash(_("Order %(number)s saved.", number=order.number), "success")
                else:
                    flash(_("Nothing was changed."), "info")
                return redirect(url_for("orders.detail", order_id=order.id))
        else:
            status = STATUS_CODE_INVALID
            if not (version or "").isdigit():
                flash(_("The form is incomplete; reload the page and try again."), "danger")
        db.session.refresh(order)
    if not rows:
        rows = [{}]
    return render_template("orders/form.html", **_form_context(form, rows, errors, order)), status


# ----------------------------------------------------------------------------- the order page


def _order_page(order: Order, cancel_form: ActionForm | None = None, status: int = 200):
    user = current_user._get_current_object()
    manager = current_app.extensions["erp_plugins"]
    plugin_actions = [a for group in manager.hook.erp_order_actions(order=order, user=user) for a in (group or [])]
    actions = services.available_actions(order, user)
    if cancel_form is None:
        cancel_form = ActionForm(formdata=None)
    cancel_form.version.data = str(order.version)
    return render_template(
        "orders/detail.html", order=order, actions=actions, plugin_actions=plugin_actions,
        panels=channel_panel(order) + record_panels("erp_order_panels", user, order=order), timeline=audit.timeline("order", order.id),
        labels=states.LABELS, badges=states.BADGES, cancel_form=cancel_form,
        can_edit=order.status in states.LINES_EDITABLE and user.can("orders.edit")), status


def channel_panel(order: Order) -> list:
    """Orders' own panel of the order page: channel, external reference and tags."""
    from flask_babel import lazy_gettext as _l

    from erp_core.contrib import Panel

    from .views_channels import tag_panel

    return render_contributions([Panel(_l("Channel and tags"), "orders/_channel_panel.html", lambda: tag_panel(order))])


@bp.route("/<int:order_id>")
@requires("orders.view")
def detail(order_id: int):
    return _order_page(services.get_order(order_id))


@bp.route("/<int:order_id>/actions/<name>", methods=["POST"])
@requires("orders.view")
def action(order_id: int, name: str):
    order = services.get_order(order_id)
    chosen = states.ACTIONS_BY_NAME.get(name)
    if chosen is None:
        abort(404)
    require_permission(chosen.permission)
    form = ActionForm()
    if not form.validate_on_submit() or not (form.version.data or "").isdigit():
        flash(_("The form is incomplete; reload the page and try again."), "danger")
        return redirect(url_for("orders.detail", order_id=order.id))
    try:
        services.perform_action(order, name, form.note.data, int(form.version.data))
        db.session.commit()
    except ValidationProblems as exc:
        db.session.rollback()
        for problem in exc.problems:
            flash(_("%(action)s refused: %(reason)s", action=chosen.label, reason=problem), "danger")
    except DomainError as exc:
        db.session.rollback()
        if exc.field == "note":
            db.session.refresh(order)
            form.note.errors = [str(exc)]
            return _order_page(order, cancel_form=form, status=STATUS_CODE_INVALID)
        flash(str(exc), "danger")
    else:
        flash(_("Order %(number)s: %(status)s.", number=order.number, status=states.LABELS[order.status]), "success")
    return redirect(url_for("orders.detail", order_id=order.id))


@bp.route("/<int:order_id>/print")
@requires("orders.view")
def print_order(order_id: int):
    order = services.get_order(order_id)
    kind = "packing" if request.args.get("kind") == "packing" else "confirmation"
    return render_template("orders/print.html", order=order, kind=kind, labels=states.LABELS)


# ----------------------------------------------------------------------------- import


@bp.route("/import", methods=["GET", "POST"])
@requires("orders.import")
def import_orders():
    return _import_page("orders")


@bp.route("/import/template.csv")
@requires("orders.import")
def import_template():
    return _template_response("orders")


def _import_page(kind: str):
    form = ImportForm()
    report = None
    status = 200
    if form.validate_on_submit():
        try:
            text = csvio.decode_upload(form.file.data.read(csvio.MAX_BYTES + 1))
            result = csvio.IMPORTERS[kind](text)
            db.session.commit()
        except csvio.ImportRefused as exc:
            db.session.rollback()
            report, status = exc.problems, STATUS_CODE_INVALID
            flash(str(exc), "danger")
        except DomainError as exc:
            db.session.rollback()
            form.file.errors = list(form.file.errors) + [str(exc)]
            status = STATUS_CODE_INVALID
        else:
            flash(result.message(), "success")
            return redirect(url_for("orders_products.index" if kind == "products" else "orders.index"))
    elif request.method == "POST":
        status = STATUS_CODE_INVALID
    return render_template("orders/import.html", form=form, report=report, kind=kind,
                           columns=csvio.COLUMNS[kind]), status


def _template_response(kind: str):
    response = Response(csvio.template(kind), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
    return response

