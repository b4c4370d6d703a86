"""The tax rates page (Orders > Tax rates): the VAT rates and the company's tax settings."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from erp_core.forms import attempt
from erp_core.security import requires

from . import tax
from .forms_tax import TaxRateForm, TaxSettingsForm
from .services import taxrates
from .views import STATUS_CODE_INVALID

tax_bp = Blueprint("orders_tax", __name__, url_prefix="/orders/tax-rates", template_folder="templates")


@tax_bp.app_template_global("tax_rate_name")
def _tax_rate_name(rate) -> str:
    return tax.rate_name(rate)


@tax_bp.app_template_global("tax_rate_label")
def _tax_rate_label(percent, exempt) -> str:
    return tax.rate_label(percent, exempt)


@tax_bp.app_template_global("order_tax_by_rate")
def _order_tax_by_rate(order) -> list:
    return tax.tax_by_rate(order)


@tax_bp.app_template_global("tax_row_label")
def _tax_row_label(row, order) -> str:
    return tax.row_label(row, order.currency, order.prices_include_tax)


@tax_bp.route("/", methods=["GET", "POST"], endpoint="index")
@requires("orders.tax.manage")
def rates_page():
    form = TaxSettingsForm()
    form.default_rate.choices = tax.rate_choices()
    status = 200
    if request.method == "GET":
        form.prices_include_tax.data = tax.prices_include_tax()
        form.default_rate.data = str(tax.default_rate_id() or "")
    elif form.validate_on_submit():
        with attempt(form) as outcome:
            taxrates.save_tax_settings(form.prices_include_tax.data, form.default_rate.data)
        if outcome.ok:
            flash(_("Tax settings saved."), "success")
            return redirect(url_for("orders_tax.index"))
        status = STATUS_CODE_INVALID
    else:
        status = STATUS_CODE_INVALID
    return render_template("orders/tax_rates.html", form=form, rates=taxrates.all_rates(),
                           used=taxrates.products_per_rate(), default_id=tax.default_rate_id()), status


@tax_bp.route("/new", methods=["GET", "POST"], endpoint="new")
@requires("orders.tax.manage")
def new_rate():
    return _rate_page(None)


@tax_bp.route("/<int:rate_id>/edit", methods=["GET", "POST"], endpoint="edit")
@requires("orders.tax.manage")
def edit_rate(rate_id: int):
    return _rate_page(taxrates.get_rate(rate_id))


def _rate_page(rate):
    form = TaxRateForm(obj=rate)
    if request.method == "GET" and rate is not None:
        form.percent.data = tax.percent_text(rate.percent)
        form.position.data = str(rate.position)
    status = 200
    if form.validate_on_submit():
        with attempt(form) as outcome:
            if rate is None:
                rate = taxrates.create_rate(form.name.data, form.percent.data, form.exempt.data, form.position.data)
            else:
                taxrates.update_rate(rate, form.name.data, form.percent.data, form.exempt.data, form.position.data,
                                     form.active.data)
        if outcome.ok:
            flash(_("Tax rate %(name)s saved.", name=tax.rate_name(rate)), "success")
            return redirect(url_for("orders_tax.index"))
        status = outcome.error.status if outcome.error.status == 409 else STATUS_CODE_INVALID
    elif request.method == "POST":
        status = STATUS_CODE_INVALID
    return render_template("orders/tax_rate_form.html", form=form, rate=rate), status


@tax_bp.route("/<int:rate_id>/<any(deactivate, activate, delete):action>", methods=["POST"], endpoint="action")
@requires("orders.tax.manage")
def rate_action(rate_id: int, action: str):
    rate = taxrates.get_rate(rate_id)
    name = tax.rate_name(rate)
    with attempt() as outcome:
        if action == "delete":
            taxrates.delete_rate(rate)
        else:
            taxrates.set_active(rate, action == "activate")
    if outcome.ok:
        flash({"delete": _("Tax rate %(name)s deleted.", name=name),
               "activate": _("Tax rate %(name)s is active again.", name=name),
               "deactivate": _("Tax rate %(name)s deactivated.", name=name)}[action], "success")
    return redirect(url_for("orders_tax.index"))
