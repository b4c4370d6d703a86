"""Invoice pages: the list, the fapiao queue, an invoice or credit note (printable), its PDF,
issuing from an order and a refund, recording a fapiao, the logo. Thin over
:mod:`plugins.finance.services.invoices`."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy import and_, select
from sqlalchemy.orm import contains_eager, selectinload

from erp_core import settings
from erp_core.extensions import db
from erp_core.forms import attempt
from erp_core.security import has_permission, requires, safe_next
from erp_core.timeutil import local_day_bounds
from erp_core.ui import apply_sort, paginate
from plugins.orders.public import Order, get_order, order_scope

from . import invoice_logo, invoice_pdf
from .fapiao import adapter_label, fapiao_adapters
from .forms import ReportFilterForm
from .invoice_forms import INVOICE_TYPE_LABELS, CreditForm, FapiaoForm, IssueForm, LogoForm
from .models import Invoice, Refund
from .services import clean_text, get_refund, invoice_shipments
from .services import invoices as service

invoices_bp = Blueprint("finance_invoices", __name__, url_prefix="/finance/invoices", template_folder="templates")

STATUSES = ("issued", "partly_credited", "credited", "fapiao_wanted", "credit_note")


def status_labels() -> dict:
    return {"issued": _("Issued"), "partly_credited": _("Partly credited"), "credited": _("Credited"),
            "fapiao_wanted": _("Fapiao to record"), "credit_note": pgettext("finance", "Credit note")}


def order_invoice_context(order: Order) -> dict:
    """What finance's order panel shows of invoicing: the whole-order invoice, or the issue form
    and the shipments with their invoices (each with "Invoice this shipment" until it has one)."""
    invoice = service.order_invoice(order.id)
    form = None
    if invoice is None and has_permission("finance.invoices.issue"):
        form = IssueForm(prefix="invoice", formdata=None)
        form.invoice_type.data = service.buyer_details(order).get("invoice_type") or "none"
    shipments = invoice_shipments.order_shipments(order) if invoice is None else []
    return {"invoice": invoice, "issue_form": form, "shipments": shipments,
            "per_shipment": any(s.invoice for s in shipments),
            "can_view_invoices": has_permission("finance.invoices.view"),
            "invoiceable": order.status not in service.NOT_INVOICEABLE and order.total_minor > 0}


def refund_credit_context(payment, refunds) -> dict:
    """What the payment page shows of credit notes: the order's invoice and each refund's credit notes."""
    if not has_permission("finance.invoices.view"):
        return {}
    invoices = service.order_invoices(payment.order_id)
    if not invoices:
        return {}
    notes = [n for invoice in invoices for n in service.credit_notes_of(invoice)]
    by_refund = {r.id: [n for n in notes if n.refund_id == r.id] for r in refunds}
    return {"invoice": invoices[0], "invoice_numbers": ", ".join(i.number for i in invoices),
            "creditable": sum(i.creditable_minor for i in invoices), "by_refund": by_refund,
            "form": CreditForm(formdata=None),
            "can_issue": has_permission("finance.invoices.issue")}


def _filtered(stmt, args):
    q = clean_text(args.get("q"), 100)
    if q:
        stmt = stmt.where(service.text_condition(q))
    condition = _status_condition(args.get("status"))
    if condition is not None:
        stmt = stmt.where(condition)
    tz = settings.company_timezone()
    start = ReportFilterForm.parse_day(args.get("start"))
    end = ReportFilterForm.parse_day(args.get("end"))
    if start:
        stmt = stmt.where(Invoice.issued_at >= local_day_bounds(start, tz)[0])
    if end:
        stmt = stmt.where(Invoice.issued_at < local_day_bounds(end, tz)[1])
    problems = [_("Not a date.") for raw, day in ((args.get("start"), start), (args.get("end"), end)) if raw and not day]
    return stmt, problems


def _status_condition(status):
    """The WHERE condition of a status filter of the list (None: all)."""
    is_invoice = Invoice.kind == service.INVOICE
    conditions = {
        "credit_note": Invoice.kind == service.CREDIT_NOTE,
        "issued": and_(is_invoice, Invoice.credited_minor == 0),
        "partly_credited": and_(is_invoice, Invoice.credited_minor > 0, Invoice.credited_minor < Invoice.gross_minor),
        "credited": and_(is_invoice, Invoice.credited_minor >= Invoice.gross_minor, Invoice.gross_minor > 0),
        "fapiao_wanted": service.fapiao_wanted_condition(),
    }
    return conditions.get(status)


def _base():
    return (select(Invoice).join(Order, Order.id == Invoice.order_id).where(order_scope(Invoice.order_id))
            .options(contains_eager(Invoice.order), selectinload(Invoice.invoice)))


@invoices_bp.route("")
@requires("finance.invoices.view")
def invoices():
    stmt, problems = _filtered(_base(), request.args)
    for problem in problems:
        flash(problem, "warning")
    stmt, sort, desc = apply_sort(stmt, {"id": Invoice.id, "number": Invoice.number, "issued_at": Invoice.issued_at,
                                         "amount": Invoice.gross_minor, "buyer": Invoice.buyer_name}, "-id")
    return render_template("finance/invoices.html", page=paginate(stmt), sort=sort, desc=desc,
                           statuses=status_labels(), status_of=service.invoice_status, queue=False)


@invoices_bp.route("/fapiao")
@requires("finance.invoices.view")
def fapiao_queue():
    stmt = _base().where(service.fapiao_wanted_condition()).order_by(Invoice.id)
    return render_template("finance/invoices.html", page=paginate(stmt), sort="id", desc=False,
                           statuses=status_labels(), status_of=service.invoice_status, queue=True)


def _get(invoice_id: int) -> Invoice:
    invoice = db.session.scalar(select(Invoice).where(Invoice.id == invoice_id, order_scope(Invoice.order_id))
                                .options(selectinload(Invoice.lines), selectinload(Invoice.order)))
    if invoice is None:  # or of an order the user may not see (own customers only)
        abort(404)
    return invoice


@invoices_bp.route("/<int:invoice_id>")
@requires("finance.invoices.view")
def invoice(invoice_id: int):
    return _invoice_page(_get(invoice_id))


def _invoice_page(invoice: Invoice, fapiao_form=None, status=200):
    from erp_core import audit

    if fapiao_form is None:
        fapiao_form = FapiaoForm(prefix="fapiao", formdata=None)
    return render_template(
        "finance/invoice.html", invoice=invoice, rates=service.rate_totals(invoice),
        credit_notes=service.credit_notes_of(invoice) if not invoice.is_credit_note else [],
        status=service.invoice_status(invoice), statuses=status_labels(), fapiao_form=fapiao_form,
        fapiao_wanted=service.fapiao_wanted(invoice), type_labels=INVOICE_TYPE_LABELS,
        fapiao_by=adapter_label(invoice.fapiao_adapter), manual_fapiao="manual" in fapiao_adapters(),
        can_issue=has_permission("finance.invoices.issue"), has_logo=invoice_logo.logo_path().is_file(),
        title=invoice_pdf.title_of(invoice), rate_label=invoice_pdf.rate_label,
        history=audit.timeline("invoice", invoice.id)), status


@invoices_bp.route("/<int:invoice_id>.pdf")
@requires("finance.invoices.view")
def pdf(invoice_id: int):
    invoice = _get(invoice_id)
    try:
        data = invoice_pdf.render(invoice, invoice_logo.logo_bytes())
    except invoice_pdf.FontMissing as exc:
        flash(str(exc), "danger")
        return redirect(url_for("finance_invoices.invoice", invoice_id=invoice.id))
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{invoice.number}.pdf"'})


@invoices_bp.route("/orders/<int:order_id>", methods=["POST"])
@requires("finance.invoices.issue")
def issue(order_id: int):
    order = get_order(order_id)
    form = IssueForm(prefix="invoice")
    back = safe_next(form.next.data, url_for("finance.order_payments", order_id=order.id))
    if not form.validate_on_submit():
        flash(_("Nothing was issued: please choose the fapiao requested."), "danger")
        return redirect(back)
    with attempt() as outcome:
        issued = service.issue_invoice(order, form.invoice_type.data)
    if not outcome.ok:
        return redirect(back)
    flash(_("Invoice %(number)s issued.", number=issued.number), "success")
    return redirect(url_for("finance_invoices.invoice", invoice_id=issued.id))


@invoices_bp.route("/orders/<int:order_id>/shipments/<int:shipment_id>", methods=["POST"])
@requires("finance.invoices.issue")
def issue_shipment(order_id: int, shipment_id: int):
    order = get_order(order_id)
    form = IssueForm(prefix="invoice")
    back = safe_next(form.next.data, url_for("finance.order_payments", order_id=order.id))
    if not form.validate_on_submit():
        flash(_("Nothing was issued: please choose the fapiao requested."), "danger")
        return redirect(back)
    with attempt() as outcome:
        issued = invoice_shipments.issue_shipment_invoice(order, shipment_id, form.invoice_type.data)
    if not outcome.ok:
        return redirect(back)
    flash(_("Invoice %(number)s issued.", number=issued.number), "success")
    return redirect(url_for("finance_invoices.invoice", invoice_id=issued.id))


@invoices_bp.route("/refunds/<int:refund_id>/credit-note", methods=["POST"])
@requires("finance.invoices.issue")
def credit(refund_id: int):
    refund: Refund = get_refund(refund_id)
    form = CreditForm()
    back = safe_next(form.next.data, url_for("finance.payment", payment_id=refund.payment_id))
    if not form.validate_on_submit():
        flash(_("The form had expired. Please try again."), "danger")
        return redirect(back)
    with attempt() as outcome:
        notes = service.credit_refund(refund)
    if not outcome.ok:
        return redirect(back)
    if not notes:
        flash(_("Nothing to credit: the order has no invoice, or the refund is credited already."), "warning")
        return redirect(back)
    flash(_("Credit note %(number)s issued.", number=", ".join(n.number for n in notes)), "success")
    return redirect(url_for("finance_invoices.invoice", invoice_id=notes[0].id))


@invoices_bp.route("/<int:invoice_id>/fapiao", methods=["POST"])
@requires("finance.invoices.issue")
def record_fapiao(invoice_id: int):
    invoice = _get(invoice_id)
    form = FapiaoForm(prefix="fapiao")
    adapter = fapiao_adapters().get("manual")
    if adapter is None:
        abort(404)
    if form.validate_on_submit():
        with attempt(form) as outcome:
            adapter.record(invoice, form.code.data, form.number.data, form.issued_on.data)
        if outcome.ok:
            flash(_("Fapiao %(number)s recorded on invoice %(invoice)s.", number=invoice.fapiao_number,
                    invoice=invoice.number), "success")
            return redirect(url_for("finance_invoices.invoice", invoice_id=invoice.id))
    flash(_("The fapiao was not recorded: please correct the marked fields."), "danger")
    return _invoice_page(_get(invoice_id), form, 422)


@invoices_bp.route("/logo", methods=["GET", "POST"])
@requires("core.settings.manage")
def logo():
    form = LogoForm()
    if request.method == "POST" and request.form.get("remove") == "1":
        if CreditForm().validate_on_submit():  # the CSRF token only
            invoice_logo.remove_logo()
            flash(_("The logo is removed."), "success")
        return redirect(url_for("finance_invoices.logo"))
    if form.validate_on_submit():
        with attempt(form) as outcome:
            invoice_logo.save_logo(form.logo.data.stream)
        if outcome.ok:
            flash(_("The logo is saved: it is printed on invoices and credit notes."), "success")
            return redirect(url_for("finance_invoices.logo"))
    status = 422 if request.method == "POST" else 200
    return render_template("finance/invoice_logo.html", form=form, has_logo=invoice_logo.logo_path().is_file(),
                           missing=service.missing_seller_details()), status


@invoices_bp.route("/logo.png")
@requires("finance.invoices.view")
def logo_image():
    data = invoice_logo.logo_bytes()
    if data is None:
        abort(404)
    return Response(data, mimetype="image/png", headers={"Cache-Control": "private, max-age=60",
                                                         "X-Content-Type-Options": "nosniff"})
