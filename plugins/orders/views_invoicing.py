"""Pages of buyers' invoicing details: the order's copy (shown on the order page, changed on its
own page while the order is not invoiced) and the template helpers the customer and order pages
draw the details with. The customer's set is changed on the customer form (views_catalogue)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from erp_core.errors import DomainError
from erp_core.forms import attempt, show_domain_error
from erp_core.security import requires

from . import services
from .forms_invoicing import OrderInvoicingForm
from .invoicing_details import (
    FIELDS,
    LABELS,
    InvoicingDetails,
    customer_invoicing_details,
    order_invoicing_details,
)
from .models import Customer, Order
from .services._common import as_id
from .views import STATUS_CODE_INVALID, bp


@dataclass(frozen=True)
class OrderInvoicing:
    """What the order page shows of the order's invoicing details."""

    details: InvoicingDetails
    locked_reasons: list[str]
    may_change: bool  # the signed-in user may change them now


@bp.app_template_global("order_invoicing")
def order_invoicing(order: Order) -> OrderInvoicing:
    """The order's invoicing details, why they can no longer change, and whether the reader may change them."""
    reasons = services.invoicing_locked_reasons(order)
    return OrderInvoicing(order_invoicing_details(order), reasons,
                          not reasons and current_user.is_authenticated and current_user.can("orders.edit"))


@bp.app_template_global("customer_invoicing")
def customer_invoicing(customer: Customer) -> InvoicingDetails:
    """The customer's invoicing details."""
    return customer_invoicing_details(customer)


@bp.app_template_global("invoicing_rows")
def invoicing_rows(details: InvoicingDetails) -> list[tuple[str, str]]:
    """``[(label, value)]`` of the filled-in details, in the order pages show them."""
    return [(str(LABELS[name]), getattr(details, name)) for name in FIELDS if getattr(details, name)]


def _show_error(form: OrderInvoicingForm, exc: DomainError) -> None:
    if isinstance(exc, services.InvoicingInvalid):
        form.show_errors(exc.errors)
    else:
        show_domain_error(None, exc)


def _save(order: Order, form: OrderInvoicingForm) -> int | None:
    """Save the posted details; None when saved, else the status to draw the form again with."""
    if as_id(form.version.data) is None:
        flash(_("The form is incomplete; reload the page and try again."), "danger")
        return STATUS_CODE_INVALID
    if not form.validate_on_submit():
        return STATUS_CODE_INVALID
    with attempt(form, on_error=_show_error) as outcome:
        services.set_order_invoicing(order, form.values(), int(form.version.data))
    if outcome.ok:
        return None
    return 409 if outcome.error.status == 409 else STATUS_CODE_INVALID


@bp.route("/<int:order_id>/invoicing", methods=["GET", "POST"])
@requires("orders.edit")
def invoicing(order_id: int):
    order = services.get_order(order_id)
    reasons = services.invoicing_locked_reasons(order)
    if reasons:
        flash(_("The invoicing details of order %(number)s can no longer change: %(reasons)s",
                number=order.number, reasons=" ".join(reasons)), "warning")
        return redirect(url_for("orders.detail", order_id=order.id))
    from_customer = request.method == "GET" and request.args.get("from") == "customer"
    status = 200
    if request.method == "GET":
        source = customer_invoicing_details(order.customer) if from_customer else order_invoicing_details(order)
        form = OrderInvoicingForm(details=source)
        form.version.data = str(order.version)
    else:
        form = OrderInvoicingForm()
        status = _save(order, form)
        if status is None:
            flash(_("Invoicing details of order %(number)s saved.", number=order.number), "success")
            return redirect(url_for("orders.detail", order_id=order.id))
    return render_template("orders/invoicing_form.html", form=form, order=order, from_customer=from_customer,
                           customer_details=customer_invoicing_details(order.customer)), status
