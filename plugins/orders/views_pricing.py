"""Pricing pages (Admin > Price lists, Customer groups, Discount limits), a customer's pricing,
and the price the entry form shows live beside a line (JSON)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from erp_core import settings
from erp_core.auth.models import Role
from erp_core.extensions import db
from erp_core.forms import attempt
from erp_core.security import requires
from erp_core.ui import paginate

from .forms import currency_choices
from .forms_pricing import CustomerPricingForm, GroupForm, PriceItemForm, PriceListForm
from .models_pricing import CustomerGroup, PriceList, PriceListItem
from .services import get_customer, pricing
from .services import pricelists as pl
from .views import STATUS_CODE_INVALID

pricing_bp = Blueprint("orders_pricing", __name__, url_prefix="/orders/pricing", template_folder="templates")
MANAGE = "orders.pricelists.manage"


@pricing_bp.app_template_global("customer_pricing")
def _customer_pricing(customer) -> dict:
    """``{"group": name or "", "price_list": name or ""}`` of a customer (its own list, else its group's)."""
    group = db.session.get(CustomerGroup, customer.group_id) if customer.group_id else None
    own = db.session.get(PriceList, customer.price_list_id) if customer.price_list_id else None
    listed = own or (group.price_list if group is not None else None)
    return {"group": group.name if group else "", "price_list": listed.name if listed else ""}


@pricing_bp.route("/quote", endpoint="quote")
@requires("orders.view")
def quote():
    """``{"unit_price", "source", "price_minor"}`` of a product for a customer and quantity."""
    if not (current_user.can("orders.create") or current_user.can("orders.edit")):
        abort(403)
    args = request.args
    currency = (args.get("currency") or settings.company_currency()).strip().upper()[:3]
    return jsonify(pricing.quote(args.get("customer_id"), currency, args.get("product_id"), args.get("quantity")))


@pricing_bp.route("/lists", endpoint="lists")
@requires(MANAGE)
def lists_page():
    stmt = select(PriceList).order_by(PriceList.name, PriceList.id)
    counts = dict(db.session.execute(select(PriceListItem.price_list_id, func.count())
                                     .group_by(PriceListItem.price_list_id)).all())
    return render_template("orders/price_lists.html", page=paginate(stmt), counts=counts)


@pricing_bp.route("/lists/new", methods=["GET", "POST"], endpoint="new_list")
@requires(MANAGE)
def new_list():
    return _list_page(None)


@pricing_bp.route("/lists/<int:list_id>", methods=["GET", "POST"], endpoint="list")
@requires(MANAGE)
def list_page(list_id: int):
    return _list_page(pl.get_price_list(list_id))


def _list_page(price_list):
    form = PriceListForm(obj=price_list, prefix="list")
    form.currency.choices = currency_choices()
    if request.method == "GET" and price_list is None:
        form.currency.data = settings.company_currency()
    status = 200
    if request.method == "POST" and request.form.get("what") == "list":
        if form.validate_on_submit():
            with attempt(form) as outcome:
                price_list = pl.save_price_list(price_list, form.name.data, form.currency.data, form.valid_from.data,
                                                form.valid_to.data, bool(form.active.data))
            if outcome.ok:
                flash(_("Price list %(name)s saved.", name=price_list.name), "success")
                return redirect(url_for("orders_pricing.list", list_id=price_list.id))
        status = STATUS_CODE_INVALID
    item_form = PriceItemForm(prefix="item")
    if price_list is not None and request.method == "POST" and request.form.get("what") == "item":
        if item_form.validate_on_submit():
            with attempt(item_form) as outcome:
                pl.set_item(price_list, item_form.sku.data, item_form.min_quantity.data, item_form.unit_price.data)
            if outcome.ok:
                flash(_("Price saved."), "success")
                return redirect(url_for("orders_pricing.list", list_id=price_list.id))
        status = STATUS_CODE_INVALID
    items = []
    if price_list is not None:
        items = paginate(select(PriceListItem).where(PriceListItem.price_list_id == price_list.id)
                         .order_by(PriceListItem.product_id, PriceListItem.min_quantity))
    return render_template("orders/price_list.html", form=form, item_form=item_form, price_list=price_list,
                           page=items, products=_products(items)), status


def _products(items) -> dict:
    from .models import Product

    ids = {item.product_id for item in getattr(items, "items", [])}
    return {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(ids)))} if ids else {}


@pricing_bp.route("/lists/<int:list_id>/items/<int:item_id>/delete", methods=["POST"], endpoint="delete_item")
@requires(MANAGE)
def delete_item(list_id: int, item_id: int):
    price_list = pl.get_price_list(list_id)
    with attempt() as outcome:
        pl.remove_item(price_list, item_id)
    if outcome.ok:
        flash(_("Price removed."), "success")
    return redirect(url_for("orders_pricing.list", list_id=list_id))


def _list_choices() -> list[tuple[str, str]]:
    return [("", _("No price list")), *((str(p.id), f"{p.name} ({p.currency})") for p in pl.price_lists())]


@pricing_bp.route("/groups", endpoint="groups")
@requires(MANAGE)
def groups_page():
    stmt = select(CustomerGroup).order_by(CustomerGroup.name)
    return render_template("orders/customer_groups.html", page=paginate(stmt),
                           lists={p.id: p for p in pl.price_lists()})


@pricing_bp.route("/groups/new", methods=["GET", "POST"], endpoint="new_group")
@requires(MANAGE)
def new_group():
    return _group_page(None)


@pricing_bp.route("/groups/<int:group_id>", methods=["GET", "POST"], endpoint="group")
@requires(MANAGE)
def group_page(group_id: int):
    return _group_page(pl.get_group(group_id))


def _group_page(group):
    form = GroupForm(obj=group)
    form.price_list_id.choices = _list_choices()
    if request.method == "GET" and group is not None:
        form.price_list_id.data = str(group.price_list_id or "")
    status = 200
    if form.validate_on_submit():
        with attempt(form) as outcome:
            group = pl.save_group(group, form.name.data, form.price_list_id.data, form.notes.data)
        if outcome.ok:
            flash(_("Customer group %(name)s saved.", name=group.name), "success")
            return redirect(url_for("orders_pricing.groups"))
        status = STATUS_CODE_INVALID
    elif request.method == "POST":
        status = STATUS_CODE_INVALID
    return render_template("orders/customer_group_form.html", form=form, group=group), status


@pricing_bp.route("/customers/<int:customer_id>", methods=["GET", "POST"], endpoint="customer")
@requires("orders.customers.edit")
def customer_pricing(customer_id: int):
    """A customer's group and own price list."""
    if not current_user.can(MANAGE):
        abort(403)
    customer = get_customer(customer_id)
    form = CustomerPricingForm()
    form.group_id.choices = [("", _("No group")), *((str(g.id), g.name) for g in pl.groups())]
    form.price_list_id.choices = _list_choices()
    if request.method == "GET":
        form.group_id.data, form.price_list_id.data = str(customer.group_id or ""), str(customer.price_list_id or "")
    status = 200
    if form.validate_on_submit():
        with attempt(form) as outcome:
            pl.set_customer_pricing(customer, form.group_id.data, form.price_list_id.data)
        if outcome.ok:
            flash(_("Pricing of %(name)s saved.", name=customer.name), "success")
            return redirect(url_for("orders_customers.detail", customer_id=customer.id))
        status = STATUS_CODE_INVALID
    elif request.method == "POST":
        status = STATUS_CODE_INVALID
    return render_template("orders/customer_pricing.html", form=form, customer=customer), status


@pricing_bp.route("/discount-limits", methods=["GET", "POST"], endpoint="limits")
@requires(MANAGE)
def limits_page():
    """The largest line discount each role may give (empty: no limit)."""
    from flask_wtf import FlaskForm

    form = FlaskForm()
    roles = list(db.session.scalars(select(Role).order_by(Role.name)))
    errors: dict[int, str] = {}
    status = 200
    if form.validate_on_submit():
        for role in roles:
            with attempt(on_error=lambda _form, _exc: None) as outcome:
                pl.set_discount_limit(role.id, request.form.get(f"role-{role.id}", ""))
            if not outcome.ok:
                errors[role.id] = str(outcome.error)
        if not errors:
            flash(_("Discount limits saved."), "success")
            return redirect(url_for("orders_pricing.limits"))
        status = STATUS_CODE_INVALID
    elif request.method == "POST":
        status = STATUS_CODE_INVALID
    return render_template("orders/discount_limits.html", form=form, roles=roles, limits=pl.discount_limits(),
                           errors=errors, posted=request.form if errors else {}), status
