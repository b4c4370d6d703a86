"""Supplier bills and payments (pages of a purchase order's bills), and the payables report:
what is owed to whom by due date, with a CSV download and the dashboard card "bills due".

Thin: parse the form, call a service, commit or roll back with a message, redirect.
"""

from __future__ import annotations

import csv
import io

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from erp_core.extensions import db
from erp_core.forms import attempt, choices
from erp_core.money import format_plain
from erp_core.security import requires
from erp_core.ui import paginate

from . import services
from .blueprint import bp, int_arg
from .forms import BillForm, PaymentForm
from .models import PurchaseOrder, SupplierBill
from .views_orders import order_page

STATUS_INVALID = 422


def _status(error) -> int:
    """409 for a conflict (more than owed, a number taken), else 422 (bad input)."""
    return error.status if error.status in (404, 409) else STATUS_INVALID


def payment_form(formdata=None) -> PaymentForm:
    """The payment form with its methods (blank when drawn fresh)."""
    form = PaymentForm() if formdata is None else PaymentForm(formdata=formdata)
    form.method.choices = choices(list(services.METHODS.items()))
    return form


@bp.route("/orders/<int:po_id>/bills", methods=["POST"])
@requires("purchasing.bills")
def bill_new(po_id: int):
    po = db.session.get(PurchaseOrder, po_id) or abort(404)
    form = BillForm()
    if form.validate_on_submit():
        with attempt(form) as outcome:
            bill = services.record_bill(po, form.number.data, form.amount.data, form.bill_date.data,
                                        form.due_date.data)
        if outcome.ok:
            flash(_("Bill %(number)s recorded.", number=bill.number), "success")
            return redirect(url_for("purchasing.bill", bill_id=bill.id))
        status = _status(outcome.error)
    else:
        flash(_("The form expired; please try again."), "danger")
        status = STATUS_INVALID
    return order_page(po, status, bill_form=form)


def _bill_page(bill: SupplierBill, form: PaymentForm, status: int = 200):
    po = db.session.get(PurchaseOrder, bill.order_id)
    return render_template("purchasing/bill.html", bill=bill, po=po, form=form,
                           payments=services.payments_of([bill.id])[bill.id], labels=services.BILL_LABELS,
                           badges=services.BILL_BADGES, methods=services.METHODS), status


@bp.route("/bills/<int:bill_id>")
@requires("purchasing.view")
def bill(bill_id: int):
    found = db.session.get(SupplierBill, bill_id) or abort(404)
    form = payment_form()
    form.amount.data = format_plain(found.owed_minor, found.currency) if found.owed_minor else ""
    return _bill_page(found, form)


@bp.route("/bills/<int:bill_id>/payments", methods=["POST"])
@requires("purchasing.bills")
def bill_pay(bill_id: int):
    found = db.session.get(SupplierBill, bill_id) or abort(404)
    form = payment_form(request.form)
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return _bill_page(found, form, STATUS_INVALID)
    with attempt(form) as outcome:
        services.pay_bill(found, form.amount.data, form.paid_on.data, form.method.data, form.reference.data)
    if outcome.ok:
        flash(_("Payment recorded on bill %(number)s.", number=found.number), "success")
        return redirect(url_for("purchasing.bill", bill_id=found.id))
    db.session.refresh(found)
    return _bill_page(found, form, _status(outcome.error))


# ----------------------------------------------------------------------------- payables report


def _payables_filters() -> dict:
    bucket = request.args.get("bucket", "")
    return {"supplier_id": int_arg("supplier"), "bucket": bucket if bucket in services.BUCKETS else "",
            "currency": request.args.get("currency", "").strip().upper()[:3]}


@bp.route("/payables")
@requires("purchasing.view")
def payables():
    filters = _payables_filters()
    today = services.company_today()
    page = paginate(services.payables_query(today, **filters))
    return render_template("purchasing/payables.html", page=page, filters=filters, today=today,
                           totals=services.payables_totals(today, **filters), buckets=services.BUCKETS,
                           bucket_of=lambda bill: services.bucket_of(bill.due_date, today),
                           suppliers=services.active_suppliers(), labels=services.BILL_LABELS,
                           badges=services.BILL_BADGES)


@bp.route("/payables.csv")
@requires("purchasing.view")
def payables_csv():
    filters = _payables_filters()
    today = services.company_today()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Supplier"), _("Supplier's invoice number"), _("Purchase order"), _("Invoice date"),
                     _("Payment due date"), _("When due"), _("Currency"), _("Amount"), _("Paid"), _("Still owed")])
    for bill, po_number in services.payables_rows(today, **filters):
        writer.writerow([services.csv_text(bill.supplier.name), services.csv_text(bill.number), po_number,
                         bill.bill_date.isoformat(), bill.due_date.isoformat(),
                         str(services.BUCKETS[services.bucket_of(bill.due_date, today)]), bill.currency,
                         format_plain(bill.amount_minor, bill.currency), format_plain(bill.paid_minor, bill.currency),
                         format_plain(bill.owed_minor, bill.currency)])
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename=payables-{today.isoformat()}.csv"
    return response


def bills_widget_context() -> dict:
    """The dashboard card "bills due": owed on bills overdue and due within 7 days."""
    today = services.company_today()
    return {"totals": services.payables_totals(today), "buckets": services.BUCKETS,
            "rows": db.session.scalars(services.payables_query(today, bucket=services.DUE_SOON_OR_OVERDUE)
                                       .limit(6)).all(), "today": today}
