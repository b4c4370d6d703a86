"""Pages of sales channels and bulk work: the order list's extras (channel menu, tags, bulk
bar), the bulk actions with their report, re-ordering, the tag form of the order page and the
sales-by-channel report. Thin: the rules are in :mod:`.services.bulk` and :mod:`.reports_channels`."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.security import require_permission, requires
from erp_core.ui import apply_sort

from . import channels, csvio, queries, reports_channels, services, states
from .forms import ActionForm
from .models import Order
from .services._common import as_id
from .views import bp


class BulkForm(FlaskForm):
    """The CSRF token of the bulk bar (its fields are read from the posted form)."""


def list_context(page) -> dict:
    """What the order list draws beside the orders: channel labels and menu, each order's tags
    (one statement for the page), and the bulk actions the user may take."""
    offered = channels.channels()
    user = current_user._get_current_object()
    actions = [(code, label) for code, (label, permission) in services.BULK_ACTIONS.items() if user.can(permission)]
    return {"channel_options": list(offered.items()), "channel_label": lambda code: channels.label(code, offered),
            "tags": services.tags_of([o.id for o in page.items]), "bulk_actions": actions, "bulk_form": BulkForm()}


def _selected_ids() -> list[int] | None:
    """The ids posted, or every order matching the list's filters (``all``); ``None`` when the
    filters match more than a bulk action takes."""
    if request.form.get("all") == "1":
        filters = queries.OrderFilter.from_args(request.args)
        stmt, _sort, _desc = apply_sort(queries.order_select(filters), queries.ORDER_SORTS, "-created")
        ids = list(db.session.scalars(stmt.with_only_columns(Order.id).limit(services.MAX_SELECTION + 1)))
        return ids if len(ids) <= services.MAX_SELECTION else None
    return [key for key in map(as_id, request.form.getlist("ids")) if key is not None]


@bp.route("/bulk", methods=["POST"])
@requires("orders.view")
def bulk():
    back = url_for("orders.index", **queries.OrderFilter.from_args(request.args).as_args())
    action = request.form.get("action", "")
    if not BulkForm().validate_on_submit() or action not in services.BULK_ACTIONS:
        flash(_("The form is incomplete; reload the page and try again."), "danger")
        return redirect(back)
    require_permission(services.BULK_ACTIONS[action][1])
    ids = _selected_ids()
    if ids is None:
        flash(_("More than %(n)d orders match; narrow the filters.", n=services.MAX_SELECTION), "warning")
        return redirect(back)
    orders = services.selected_orders(ids)
    if not orders:
        flash(_("Tick at least one order."), "warning")
        return redirect(back)
    if action.startswith("print_"):
        return render_template("orders/print_many.html", orders=orders, labels=states.LABELS,
                               kind="packing" if action == "print_packing" else "confirmation")
    if action == "export":
        return _export(orders)
    try:
        outcomes = services.run_bulk(orders, action, current_user._get_current_object(),
                                     reason=request.form.get("reason", "")[:1000], tag=request.form.get("tag", ""))
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(back)
    done = sum(1 for o in outcomes if o.done)
    flash(_("%(done)d of %(total)d orders done.", done=done, total=len(outcomes)),
          "success" if done == len(outcomes) else "warning")
    return render_template("orders/bulk_result.html", outcomes=outcomes, back=back,
                           action_label=services.BULK_ACTIONS[action][0])


def _export(orders: list[Order]) -> Response:
    stmt = queries.order_select(queries.OrderFilter()).where(Order.id.in_([o.id for o in orders])).order_by(Order.id)
    response = Response(stream_with_context(csvio.export_orders(stmt)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{csvio.export_filename()}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:order_id>/reorder", methods=["POST"])
@requires("orders.create")
def reorder(order_id: int):
    order = services.get_order(order_id)
    if not ActionForm().validate_on_submit():
        flash(_("The form is incomplete; reload the page and try again."), "danger")
        return redirect(url_for("orders.detail", order_id=order.id))
    try:
        new = services.duplicate_order(order)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(_("Re-order refused: %(reason)s", reason=exc), "danger")
        return redirect(url_for("orders.detail", order_id=order_id))
    flash(_("Order %(number)s saved as a draft, at today's prices.", number=new.number), "success")
    return redirect(url_for("orders.detail", order_id=new.id))


@bp.route("/<int:order_id>/tags", methods=["POST"])
@requires("orders.edit")
def tags(order_id: int):
    order = services.get_order(order_id)
    if not ActionForm().validate_on_submit():
        flash(_("The form is incomplete; reload the page and try again."), "danger")
        return redirect(url_for("orders.detail", order_id=order.id))
    try:
        if request.form.get("remove"):
            services.remove_tag(order, request.form.get("remove", ""))
        else:
            services.add_tag(order, request.form.get("tag", ""))
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    return redirect(url_for("orders.detail", order_id=order_id))


@bp.route("/reports/channels")
@requires("orders.view")
def channel_report():
    form = reports_channels.ReportArgs.from_args(request.args)
    rows = reports_channels.sales_by_channel(form)
    if request.args.get("format") == "csv":
        require_permission("orders.export")
        response = Response(reports_channels.as_csv(rows), mimetype="text/csv")
        response.headers["Content-Disposition"] = f'attachment; filename="sales-by-channel-{form.start:%Y%m}-{form.end:%Y%m}.csv"'
        return response
    return render_template("orders/channel_report.html", args=form, rows=rows)


def tag_panel(order: Order) -> dict:
    """The context of the order page's channel panel."""
    return {"order": order, "channel_label": channels.label(order.channel),
            "order_tags": services.tags_of([order.id]).get(order.id, []), "tag_form": ActionForm(formdata=None)}
