"""Pages of a customer's contact people and sales terms (tags, owner, credit limit, payment
terms); the customer page shows them through :func:`sales_context`."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from erp_core import settings
from erp_core.forms import attempt, choices
from erp_core.money import format_plain
from erp_core.security import requires

from . import services
from .forms_customers import ContactForm, SalesForm
from .models_customers import ADDRESS_KIND_LABELS, PAYMENT_TERM_LABELS
from .services import customers as customer_rules
from .views import STATUS_CODE_INVALID
from .views_catalogue import customers_bp

MANAGE = "orders.customers.manage"


def sales_context(customer) -> dict:
    """What the customer page shows of contacts and sales terms (a few statements)."""
    from erp_core.auth.models import User
    from erp_core.extensions import db

    owner = db.session.get(User, customer.owner_id) if customer.owner_id else None
    terms = str(PAYMENT_TERM_LABELS.get(customer.payment_terms or "", ""))
    if customer.payment_terms == "net" and customer.payment_days:
        terms = _("Net %(days)d days", days=customer.payment_days)
    return {"owner": owner, "terms": terms, "address_kinds": ADDRESS_KIND_LABELS,
            "currency": settings.company_currency(),
            "balance": customer_rules.open_balance(customer.id) if customer.credit_limit_minor is not None else None}


def _back(customer):
    return redirect(url_for("orders_customers.detail", customer_id=customer.id))


@customers_bp.route("/<int:customer_id>/contacts/new", methods=["GET", "POST"])
@requires("orders.customers.edit")
def new_contact(customer_id: int):
    return _contact_page(services.get_customer(customer_id), None)


@customers_bp.route("/<int:customer_id>/contacts/<int:contact_id>", methods=["GET", "POST"])
@requires("orders.customers.edit")
def edit_contact(customer_id: int, contact_id: int):
    customer = services.get_customer(customer_id)
    with attempt() as outcome:
        contact = services.get_contact(customer, contact_id)
    if not outcome.ok:
        return _back(customer)
    return _contact_page(customer, contact)


def _contact_page(customer, contact):
    form = ContactForm(obj=contact)
    status = 200
    if form.validate_on_submit():
        with attempt(form) as outcome:
            if contact is None:
                services.add_contact(customer, form.values())
            else:
                services.update_contact(customer, contact.id, form.values())
        if outcome.ok:
            flash(_("Contact saved."), "success")
            return _back(customer)
        status = STATUS_CODE_INVALID
    elif request.method == "POST":
        status = STATUS_CODE_INVALID
    return render_template("orders/contact_form.html", form=form, customer=customer, contact=contact), status


@customers_bp.route("/<int:customer_id>/contacts/<int:contact_id>/delete", methods=["POST"])
@requires("orders.customers.edit")
def delete_contact(customer_id: int, contact_id: int):
    customer = services.get_customer(customer_id)
    with attempt() as outcome:
        services.delete_contact(customer, contact_id)
    if outcome.ok:
        flash(_("Contact removed. Orders keep their own copy of it."), "success")
    return _back(customer)


@customers_bp.route("/<int:customer_id>/sales", methods=["GET", "POST"])
@requires("orders.customers.edit")
def sales_terms(customer_id: int):
    customer = services.get_customer(customer_id)
    form = SalesForm()
    may_reassign = current_user.can(MANAGE)
    form.owner_id.choices = choices(customer_rules.owner_choices())
    if not form.is_submitted():
        form.tags.data = ", ".join(t.label for t in customer.tags)
        limit = customer.credit_limit_minor
        form.credit_limit.data = format_plain(limit, settings.company_currency()) if limit is not None else ""
        form.payment_terms.data = customer.payment_terms or ""
        form.payment_days.data = str(customer.payment_days or "")
        form.owner_id.data = str(customer.owner_id or "")
    status = 200
    if form.validate_on_submit():
        with attempt(form) as outcome:
            services.set_tags(customer, form.tags.data)
            services.set_terms(customer, form.credit_limit.data, form.payment_terms.data, form.payment_days.data)
            if may_reassign:
                services.set_owner(customer, form.owner_id.data)
        if outcome.ok:
            flash(_("Sales terms of %(name)s saved.", name=customer.name), "success")
            return _back(customer)
        status = STATUS_CODE_INVALID
    elif request.method == "POST":
        status = STATUS_CODE_INVALID
    return render_template("orders/sales_form.html", form=form, customer=customer,
                           may_reassign=may_reassign), status
