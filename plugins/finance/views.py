"""Finance pages: thin over :mod:`plugins.finance.services` and :mod:`plugins.finance.reports`."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager, selectinload
from wtforms import ValidationError

from erp_core import settings
from erp_core.extensions import db
from erp_core.forms import attempt, choices
from erp_core.money import is_currency, to_decimal
from erp_core.plugins import hooks
from erp_core.security import has_permission, requires, safe_next
from erp_core.timeutil import local_day_bounds, to_zone, utcnow
from erp_core.ui import apply_sort, paginate
from erp_core.web.templating import record_panels
from plugins.orders.public import Order, get_order, order_scope, source_labels

from . import exports, qr, reports, review, services, states
from .forms import DecisionForm, FailForm, OnlinePaymentForm, PaymentForm, RefundForm, ReportFilterForm, ReviewForm
from .invoice_views import order_invoice_context, refund_credit_context
from .models import Payment, Refund
from .report_links import other_reports

bp = Blueprint("finance", __name__, url_prefix="/finance", template_folder="templates", static_folder="static")
# Refunds and reports have menu entries of their own: their own blueprints keep the menu's
# highlight on the entry of the page (the menu highlights every entry of the current blueprint).
refunds_bp = Blueprint("finance_refunds", __name__, url_prefix="/finance/refunds", template_folder="templates")


@bp.app_template_global("finance_sources")
def _finance_sources(rows) -> dict:
    """The cause of each refund in ``rows`` as ``{refund id: (label, url or None)}``, asked of the
    owning plugins once for the whole table (``erp_source_labels``); unanswered refunds are left out."""
    rows = list(rows)
    named = source_labels((r.source_type, r.source_id) for r in rows)
    return {r.id: named[(r.source_type, str(r.source_id))] for r in rows if (r.source_type, str(r.source_id)) in named}


reports_bp = Blueprint("finance_reports", __name__, url_prefix="/finance/reports", template_folder="templates")


def _back(form, fallback: str) -> str:
    return safe_next(getattr(form, "next", None) and form.next.data, fallback)


# ----------------------------------------------------------------------------- order money


def order_context(order: Order, payment_form=None, online_form=None) -> dict:
    """What the order panel and the finance order page show (four SQL statements)."""
    summary = services.order_summary(order)
    payments = list(db.session.scalars(select(Payment).where(Payment.order_id == order.id).order_by(Payment.id)))
    refunds = list(db.session.scalars(select(Refund).where(Refund.order_id == order.id).order_by(Refund.id)))
    manual = services.enabled_methods(online=False)
    online = services.enabled_methods(online=True)
    if payment_form is None:
        payment_form = PaymentForm(prefix="pay", formdata=None)
        payment_form.amount.data = _plain(summary.due, order.currency) if summary.due else ""
    if online_form is None:
        online_form = OnlinePaymentForm(prefix="online", formdata=None)
        online_form.amount.data = _plain(summary.due, order.currency) if summary.due else ""
    payment_form.set_methods(manual)
    online_form.set_methods(online)
    return {"order": order, "summary": summary, "payments": payments, "refunds": refunds,
            "qr_codes": qr_codes(payments),
            "payment_form": payment_form, "online_form": online_form, "manual_methods": manual,
            "online_methods": online, "method_labels": services.method_labels(), "states": states,
            "can_record": has_permission("finance.payments.record"),
            "can_refund": has_permission("finance.refunds.manage"), **order_invoice_context(order)}


def qr_codes(payments) -> list[tuple]:
    """``(payment, image, status token, method label)`` of the pending payments paid by scanning."""
    found = []
    for payment in payments:
        image = qr.payment_qr(payment)
        if image:
            found.append((payment, image, qr.status_token(payment), services.method_label(payment.method)))
    return found


def public_context(order: Order) -> dict:
    """What the customer's public order page shows of payments: the state, what is due, and the
    QR code of a pending payment to scan."""
    pending = db.session.scalars(select(Payment).where(Payment.order_id == order.id,
                                                       Payment.status == states.PENDING,
                                                       Payment.qr_text.is_not(None)).order_by(Payment.id))
    return {"order": order, "summary": services.order_summary(order), "qr_codes": qr_codes(pending)}


def _plain(minor: int, currency: str) -> str:
    from erp_core.money import format_plain

    return format_plain(minor, currency)


@bp.route("/")
@requires("finance.view")
def index():
    return redirect(url_for("finance.payments"))


@bp.route("/orders/<int:order_id>")
@requires("finance.view")
def order_payments(order_id: int):
    return _order_page(get_order(order_id))


def _order_page_with_errors(order, payment_form=None, online_form=None):
    return _order_page(order, payment_form, online_form), 422


def _order_page(order, payment_form=None, online_form=None):
    context = order_context(order, payment_form, online_form)
    context["history"] = services.finance_timeline(context["payments"], context["refunds"])
    return render_template("finance/order.html", **context)


@bp.route("/orders/<int:order_id>/payments", methods=["POST"])
@requires("finance.payments.record")
def record_payment(order_id: int):
    order = get_order(order_id)
    form = PaymentForm(prefix="pay")
    form.set_methods(services.enabled_methods(online=False))
    if form.validate_on_submit():
        try:
            paid_at = form.paid_at_utc()
        except ValidationError as exc:
            form.paid_at.errors = [str(exc)]
        else:
            with attempt(form) as outcome:
                payment = services.record_payment(
                    order, form.method.data, form.amount.data, paid_at=paid_at, reference=form.reference.data,
                    note=form.note.data, as_credit=form.as_credit.data)
            if outcome.ok:
                flash(_("Payment of %(amount)s recorded on order %(number)s.",
                        amount=_money(payment.amount_minor, payment.currency), number=order.number), "success")
                return redirect(_back(form, url_for("finance.order_payments", order_id=order.id)))
    flash(_("The payment was not recorded: please correct the marked fields."), "danger")
    return _order_page_with_errors(db.session.get(Order, order_id), payment_form=form)


@bp.route("/orders/<int:order_id>/online", methods=["POST"])
@requires("finance.payments.record")
def start_online(order_id: int):
    order = get_order(order_id)
    form = OnlinePaymentForm(prefix="online")
    form.set_methods(services.enabled_methods(online=True))
    if form.validate_on_submit():
        back = _back(form, url_for("finance.order_payments", order_id=order.id))
        with attempt(form) as outcome:
            payment, redirect_url = services.start_online_payment(
                order, form.method.data, form.amount.data, site_url=request.url_root, return_url=back,
                callback_url=url_for("finance.callback", method=form.method.data, _external=True),
                as_credit=form.as_credit.data)
        if outcome.ok:
            flash(_("Online payment %(ref)s started; it is recorded when the provider confirms it.",
                    ref=payment.merchant_ref), "info")
            if payment.qr_text and not redirect_url:  # the customer scans the code shown on the payment's page
                return redirect(url_for("finance.payment", payment_id=payment.id))
            return redirect(redirect_url or back)
    flash(_("The online payment was not started: please correct the marked fields."), "danger")
    return _order_page_with_errors(db.session.get(Order, order_id), online_form=form)


@bp.route("/orders/<int:order_id>/receipt")
@requires("finance.view")
def receipt(order_id: int):
    order = db.session.scalar(select(Order).where(Order.id == order_id).options(selectinload(Order.lines)))
    if order is None:
        abort(404)
    context = order_context(order)
    return render_template("finance/receipt.html", printed_at=utcnow(), **context)


# ----------------------------------------------------------------------------- payments


@bp.route("/payments")
@requires("finance.view")
def payments():
    stmt = (select(Payment).join(Order, Order.id == Payment.order_id).options(contains_eager(Payment.order))
            .where(order_scope(Payment.order_id)))  # a salesperson: own customers' only
    args = request.args
    q = services.clean_text(args.get("q"), 100)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(Order.number.ilike(like), Payment.reference.ilike(like),
                              Payment.provider_ref.ilike(like)))
    if args.get("status") in states.PAYMENT_STATUSES:
        stmt = stmt.where(Payment.status == args["status"])
    if args.get("review") == "1":
        stmt = stmt.where(Payment.needs_review.is_(True))
    labels = services.method_labels()
    if args.get("method") in labels:
        stmt = stmt.where(Payment.method == args["method"])
    currency = (args.get("currency") or "").upper()
    if is_currency(currency):
        stmt = stmt.where(Payment.currency == currency)
    tz = settings.company_timezone()
    start = ReportFilterForm.parse_day(args.get("start"))
    end = ReportFilterForm.parse_day(args.get("end"))
    if start:
        stmt = stmt.where(Payment.created_at >= local_day_bounds(start, tz)[0])
    if end:
        stmt = stmt.where(Payment.created_at < local_day_bounds(end, tz)[1])
    stmt, sort, desc = apply_sort(stmt, {"id": Payment.id, "paid_at": Payment.paid_at, "amount": Payment.amount_minor,
                                         "order": Order.number}, "-id")
    page = paginate(stmt)
    return render_template("finance/payments.html", page=page, sort=sort, desc=desc, method_labels=labels,
                           states=states, currencies=reports.currencies_in_use())


@bp.route("/payments/<int:payment_id>")
@requires("finance.view")
def payment(payment_id: int):
    payment = services.get_payment(payment_id)
    order = db.session.get(Order, payment.order_id)
    refund_form = RefundForm(prefix="refund", formdata=None)
    refund_form.amount.data = _plain(payment.refundable_minor, payment.currency) if payment.refundable_minor else ""
    return _payment_page(payment, order, refund_form)


def _payment_page(payment, order, refund_form, fail_form=None, status=200, review_form=None):
    refunds = list(payment.refunds)
    return render_template("finance/payment.html", payment=payment, order=order, refunds=refunds,
                           qr_image=qr.payment_qr(payment), qr_token=qr.status_token(payment),
                           refund_form=refund_form, fail_form=fail_form or FailForm(prefix="fail", formdata=None),
                           review_form=review_form or ReviewForm(prefix="review", formdata=None),
                           method_label=services.method_label(payment.method), states=states,
                           history=services.finance_timeline([payment], refunds),
                           panels=record_panels("erp_payment_panels", payment=payment),
                           invoicing=refund_credit_context(payment, refunds)), status


@bp.route("/payments/<int:payment_id>/fail", methods=["POST"])
@requires("finance.payments.record")
def fail_payment(payment_id: int):
    payment = services.get_payment(payment_id)
    form = FailForm(prefix="fail")
    if form.validate_on_submit():
        with attempt(form) as outcome:
            services.mark_payment_failed(payment, form.note.data)
        if outcome.ok:
            flash(_("Payment %(ref)s marked as failed.", ref=payment.merchant_ref), "success")
            return redirect(_back(form, url_for("finance.payment", payment_id=payment.id)))
    flash(_("Nothing was changed: please correct the marked fields."), "danger")
    payment = services.get_payment(payment_id)
    refund_form = RefundForm(prefix="refund", formdata=None)
    return _payment_page(payment, db.session.get(Order, payment.order_id), refund_form, form, 422)


@bp.route("/payments/<int:payment_id>/review", methods=["POST"])
@requires("finance.payments.review")
def clear_review(payment_id: int):
    """Finance checked a payment flagged for review (paid after it was marked failed)."""
    payment = services.get_payment(payment_id)
    form = ReviewForm(prefix="review")
    if form.validate_on_submit():
        with attempt(form) as outcome:
            review.clear_review(payment, form.note.data)
        if outcome.ok:
            flash(_("Payment %(ref)s is reviewed.", ref=payment.merchant_ref), "success")
            return redirect(url_for("finance.payment", payment_id=payment.id))
    payment = services.get_payment(payment_id)
    refund_form = RefundForm(prefix="refund", formdata=None)
    return _payment_page(payment, db.session.get(Order, payment.order_id), refund_form, status=422,
                         review_form=form)


# ----------------------------------------------------------------------------- refunds


@bp.route("/payments/<int:payment_id>/refunds", methods=["POST"])
@requires("finance.refunds.manage")
def refund_payment(payment_id: int):
    payment = services.get_payment(payment_id)
    form = RefundForm(prefix="refund")
    if form.validate_on_submit():
        with attempt(form) as outcome:
            refund = services.request_refund(payment, form.amount.data, form.reason.data, reference=form.reference.data)
            paid_out = services.approve_refund(refund, reference=form.reference.data) if form.pay_now.data else False
        if outcome.ok:
            amount = _money(refund.amount_minor, refund.currency)
            if paid_out:
                flash(_("Refunded %(amount)s.", amount=amount), "success")
            elif form.pay_now.data:
                flash(_("Refund of %(amount)s sent to the provider; it is marked refunded when the provider confirms.",
                        amount=amount), "info")
            else:
                flash(_("Refund of %(amount)s requested; it waits in the refund queue.", amount=amount), "success")
            return redirect(_back(form, url_for("finance.payment", payment_id=payment.id)))
    flash(_("Nothing was refunded: please correct the marked fields."), "danger")
    payment = services.get_payment(payment_id)
    return _payment_page(payment, db.session.get(Order, payment.order_id), form, status=422)


@refunds_bp.route("")
@requires("finance.view")
def refunds():
    stmt = select(Refund).join(Order, Order.id == Refund.order_id).options(contains_eager(Refund.order))
    stmt = stmt.where(order_scope())  # a salesperson: own customers' only
    status = request.args.get("status", states.REQUESTED)
    if status in states.REFUND_STATUSES:
        stmt = stmt.where(Refund.status == status)
    source = request.args.get("source")
    if source in states.SOURCE_LABELS:
        stmt = stmt.where(Refund.source_type == source)
    q = services.clean_text(request.args.get("q"), 100)
    if q:
        stmt = stmt.where(Order.number.ilike(f"%{q}%"))
    stmt, sort, desc = apply_sort(stmt, {"id": Refund.id, "amount": Refund.amount_minor,
                                         "requested_at": Refund.requested_at}, "-id")
    page = paginate(stmt)
    return render_template("finance/refunds.html", page=page, sort=sort, desc=desc, status=status, states=states,
                           method_labels=services.method_labels(), decision_form=DecisionForm(formdata=None),
                           can_refund=has_permission("finance.refunds.manage"))


@refunds_bp.route("/<int:refund_id>/approve", methods=["POST"])
@requires("finance.refunds.manage")
def approve_refund(refund_id: int):
    refund = services.get_refund(refund_id)
    form = DecisionForm()
    back = _back(form, url_for("finance_refunds.refunds"))
    if not form.validate_on_submit():
        flash(_("The form had expired. Please try again."), "danger")
        return redirect(back)
    with attempt() as outcome:
        done = services.approve_refund(refund, reference=form.reference.data or "", note=form.note.data or "")
    if not outcome.ok:
        return redirect(back)
    if done:
        flash(_("Refund %(ref)s paid out.", ref=services.refund_ref(refund)), "success")
    else:
        flash(_("Refund %(ref)s sent to the provider.", ref=services.refund_ref(refund)), "info")
    return redirect(back)


@refunds_bp.route("/<int:refund_id>/reject", methods=["POST"])
@requires("finance.refunds.manage")
def reject_refund(refund_id: int):
    refund = services.get_refund(refund_id)
    form = DecisionForm()
    back = _back(form, url_for("finance_refunds.refunds"))
    with attempt() as outcome:
        services.reject_refund(refund, form.note.data or "")
    if not outcome.ok:
        return redirect(back)
    flash(_("Refund %(ref)s rejected.", ref=services.refund_ref(refund)), "success")
    return redirect(back)


# ----------------------------------------------------------------------------- reports


def _warehouses() -> list[tuple]:
    return hooks().erp_warehouse_choices() or []


def _filters(report, form: ReportFilterForm) -> tuple[reports.Filters, list[str]]:
    """Read the filters from the URL; bad values fall back to defaults with a message."""
    tz = settings.company_timezone()
    start, end, grain = _period(report, form, to_zone(utcnow(), tz).date())
    currency, method = _currency_and_method(form)
    warehouse = form.warehouse.data
    warehouse_id = int(warehouse) if warehouse and str(warehouse).isdigit() else None
    problems = []
    for f in (form.start, form.end, form.grain, form.currency, form.method):
        problems.extend(f.errors)
    filters = reports.Filters(start=start, end=end, tz=tz, grain=grain, currency=currency,
                              warehouse_id=warehouse_id, method=method if report.uses_method else None)
    return filters, problems


def _period(report, form: ReportFilterForm, today):
    """The first and last day and the grain asked for; a bad value gets its field an error and a default."""
    start = form.parse_day(form.start.data)
    end = form.parse_day(form.end.data)
    if form.end.data and end is None:
        form.end.errors = [_("Not a date.")]
    if form.start.data and start is None:
        form.start.errors = [_("Not a date.")]
    end = end or today
    start = start or (end - timedelta(days=29))
    if start > end:
        form.start.errors = [_("The first day comes after the last.")]
        start = end - timedelta(days=29)
    grain = form.grain.data if form.grain.data in reports.GRAINS else "day"
    span = (end - start).days + 1
    if report.uses_grain and grain == "day" and span > reports.MAX_PERIODS:
        form.grain.errors = [_("Too many days for one chart: group by week or month.")]
        grain = "month"
    if report.uses_range and span > reports.MAX_PERIODS * 7:
        form.start.errors = [_("Choose at most seventy years.")]
        start = end - timedelta(days=29)
    return start, end, grain


def _currency_and_method(form: ReportFilterForm):
    """The currency and payment method asked for, None for "all" or an unknown one (its field gets an error)."""
    currency = (form.currency.data or "").upper() or None
    if currency and not is_currency(currency):
        form.currency.errors = [_("Unknown currency.")]
        currency = None
    method = form.method.data or None
    if method and method not in services.adapter_classes():
        form.method.errors = [_("Unknown payment method.")]
        method = None
    return currency, method


def _filter_form(report):
    form = ReportFilterForm(formdata=request.args)
    form.grain.choices = choices((g, str(reports.GRAIN_LABELS[g])) for g in reports.GRAINS)
    form.currency.choices = choices([("", pgettext("finance", "All currencies"))]
                                    + [(c, c) for c in reports.currencies_in_use()])
    warehouses = _warehouses()
    form.warehouse.choices = choices([("", pgettext("finance", "All warehouses"))]
                                     + [(str(i), n) for i, n in warehouses])
    form.method.choices = choices([("", pgettext("finance", "All methods"))] + list(services.method_labels().items()))
    return form, bool(warehouses)


def _get_report(key: str):
    report = reports.REPORTS.get(key)
    if report is None:
        abort(404)
    return report


@reports_bp.route("")
@requires("finance.reports.view")
def reports_index():
    return render_template("finance/reports/index.html", reports=reports.REPORTS.values(),
                           other_reports=other_reports())


@reports_bp.route("/<key>")
@requires("finance.reports.view")
def report(key: str):
    report = _get_report(key)
    form, has_warehouses = _filter_form(report)
    filters, _problems = _filters(report, form)
    page_size = 50
    try:
        page_number = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page_number = 1
    result = report.run(filters, page=(page_number, page_size) if report.paged else None)
    oldest = reports.oldest_receivables(filters) if key == "receivables" else []
    chart = _chart_data(result.chart)
    return render_template("finance/reports/report.html", report=report, result=result, form=form,
                           filters=filters, has_warehouses=has_warehouses, chart=chart, oldest=oldest,
                           page_number=page_number, page_size=page_size, reports=reports.REPORTS.values(),
                           other_reports=other_reports())


def _chart_data(chart: dict | None) -> dict | None:
    """The chart as plain data (numbers in major units); the template embeds it with ``|tojson``."""
    if not chart:
        return None
    data = dict(chart)
    data["datasets"] = [{"label": str(d["label"]), "currency": d["currency"],
                         "data": [float(to_decimal(v, d["currency"])) for v in d["minor"]]} for d in chart["datasets"]]
    return data


def _filter_description(report, filters: reports.Filters) -> list[tuple[str, str]]:
    rows = []
    if report.uses_range:
        rows.append((pgettext("finance", "From"), filters.start.isoformat()))
    rows.append((pgettext("finance", "To") if report.uses_range else _("As of the end of"), filters.end.isoformat()))
    rows.append((pgettext("finance", "Time zone"), filters.tz))
    if report.uses_grain:
        rows.append((pgettext("finance", "Group by"), str(reports.GRAIN_LABELS[filters.grain])))
    rows.append((pgettext("finance", "Currency"), filters.currency or pgettext("finance", "All currencies")))
    if filters.warehouse_id is not None:
        names = dict(_warehouses())
        rows.append((pgettext("finance", "Warehouse"), str(names.get(filters.warehouse_id, filters.warehouse_id))))
    if filters.method:
        rows.append((pgettext("finance", "Payment method"), services.method_label(filters.method)))
    return rows


@reports_bp.route("/<key>/export.<any(csv, xlsx):fmt>")
@requires("finance.reports.view")
def export_report(key: str, fmt: str):
    report = _get_report(key)
    form, _has = _filter_form(report)
    filters, _problems = _filters(report, form)
    result = report.run(filters, page=None)
    name = f"{key}-{filters.start.isoformat()}-{filters.end.isoformat()}"
    if fmt == "csv":
        return Response(exports.to_csv(result), content_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    data = exports.to_xlsx(result, str(report.title), str(report.basis), _filter_description(report, filters))
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


def _money(minor: int, currency: str) -> str:
    from erp_core.i18n import filter_money

    return filter_money(minor, currency)

