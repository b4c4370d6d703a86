"""Pages of customers (with their addresses) and of the product catalogue."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from erp_core import audit, settings
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.forms import attempt, show_domain_error
from erp_core.i18n import LANGUAGE_NAMES
from erp_core.money import format_plain
from erp_core.security import requires
from erp_core.ui import apply_sort, paginate
from erp_core.web.templating import record_panels

from . import queries, services, states, tax
from .forms import AddressForm, CustomerForm, NewCustomerForm, ProductForm, currency_choices, language_choices
from .forms_invoicing import customer_invoicing_form
from .invoicing_details import customer_invoicing_details
from .models import Customer, Order, Product
from .services.customers import all_tags, owner_names
from .views import STATUS_CODE_INVALID, _import_page, _template_response

# Own blueprints, so that the menu marks Customers or Products (not Orders) as the current entry.
customers_bp = Blueprint("orders_customers", __name__, url_prefix="/orders/customers", template_folder="templates")
products_bp = Blueprint("orders_products", __name__, url_prefix="/orders/products", template_folder="templates")

# ----------------------------------------------------------------------------- customers


@customers_bp.route("/", endpoint="index")
@requires("orders.customers.view")
def customer_list():
    q = (request.args.get("q") or "").strip()[:100]
    tag = (request.args.get("tag") or "").strip()[:40]
    stmt, sort, desc = apply_sort(queries.customer_select(q, tag).options(selectinload(Customer.tags)),
                                  queries.CUSTOMER_SORTS, "name")
    page = paginate(stmt)
    stats = queries.customer_order_stats([c.id for c in page.items])
    return render_template("orders/customers.html", page=page, q=q, sort=sort, desc=desc, stats=stats, tag=tag,
                           tags=all_tags(), owners=owner_names(page.items))


@customers_bp.route("/new", methods=["GET", "POST"], endpoint="new")
@requires("orders.customers.edit")
def new_customer():
    form = NewCustomerForm()
    language_choices(form, None)
    invoicing_form = customer_invoicing_form()
    duplicates = []
    status = 200
    if form.validate_on_submit() and invoicing_form.validate():
        try:
            customer = services.create_customer(form.name.data, form.phone.data, form.email.data, form.notes.data,
                                                address=form.values(),
                                                allow_duplicate=bool(form.confirm_duplicate.data),
                                                language=form.language.data)
            services.set_customer_invoicing(customer, invoicing_form.values())
            db.session.commit()
        except services.PossibleDuplicate as exc:
            db.session.rollback()
            duplicates, status = exc.matches, 409
        except services.InvoicingInvalid as exc:
            db.session.rollback()
            invoicing_form.show_errors(exc.errors)
            status = STATUS_CODE_INVALID
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
            status = STATUS_CODE_INVALID
        else:
            flash(_("Customer %(name)s added.", name=customer.name), "success")
            return redirect(url_for("orders_customers.detail", customer_id=customer.id))
    elif request.method == "POST":
        status = STATUS_CODE_INVALID
    return render_template("orders/customer_form.html", form=form, customer=None, duplicates=duplicates,
                           invoicing_form=invoicing_form), status


def sales_context(record):
    from .views_customers import sales_context as context

    return context(record)


@customers_bp.route("/<int:customer_id>", endpoint="detail")
@requires("orders.customers.view")
def customer_page(customer_id: int):
    record = services.get_customer(customer_id)
    recent = list(db.session.scalars(select(Order).where(Order.customer_id == record.id)
                                     .order_by(Order.id.desc()).limit(10)))
    stats = queries.customer_order_stats([record.id]).get(record.id, (0, None))
    language_name = LANGUAGE_NAMES.get(services.customer_language(record), services.customer_language(record))
    return render_template("orders/customer.html", customer=record, recent=recent, order_count=stats[0],
                           language_name=language_name,
                           timeline=audit.timeline("customer", record.id), labels=states.LABELS,
                           badges=states.BADGES, panels=record_panels("erp_customer_panels", customer=record),
                           sales=sales_context(record))


@customers_bp.route("/<int:customer_id>/edit", methods=["GET", "POST"], endpoint="edit")
@requires("orders.customers.edit")
def edit_customer(customer_id: int):
    record = services.get_customer(customer_id)
    form = CustomerForm(obj=record)
    language_choices(form, record.language)
    invoicing_form = customer_invoicing_form(customer_invoicing_details(record))
    status = 200
    if form.validate_on_submit() and invoicing_form.validate():
        with attempt(form, on_error=_invoicing_error(invoicing_form)) as outcome:
            services.update_customer(record, form.name.data, form.phone.data, form.email.data, form.notes.data,
                                     language=form.language.data or "")
            services.set_customer_invoicing(record, invoicing_form.values())
        if outcome.ok:
            flash(_("Customer %(name)s saved.", name=record.name), "success")
            return redirect(url_for("orders_customers.detail", customer_id=record.id))
        status = STATUS_CODE_INVALID
    elif request.method == "POST":
        status = STATUS_CODE_INVALID
    duplicates = services.find_duplicates(form.phone.data, form.email.data, exclude_id=record.id) \
        if request.method == "GET" else []
    return render_template("orders/customer_form.html", form=form, customer=record, duplicates=duplicates,
                           invoicing_form=invoicing_form), status


def _invoicing_error(invoicing_form):
    """Show a refusal beside its field: invoicing details on their own form (their ``phone`` is
    not the customer's), anything else on the customer form."""
    def show(form, exc):
        if isinstance(exc, services.InvoicingInvalid):
            invoicing_form.show_errors(exc.errors)
        else:
            show_domain_error(form, exc)
    return show


@customers_bp.route("/<int:customer_id>/addresses/new", methods=["GET", "POST"])
@requires("orders.customers.edit")
def new_address(customer_id: int):
    record = services.get_customer(customer_id)
    return _address_page(record, None)


@customers_bp.route("/<int:customer_id>/addresses/<int:address_id>", methods=["GET", "POST"])
@requires("orders.customers.edit")
def edit_address(customer_id: int, address_id: int):
    record = services.get_customer(customer_id)
    address = next((a for a in record.addresses if a.id == address_id), None) or abort(404)
    return _address_page(record, address)


def _address_page(record, address):
    form = AddressForm(obj=address)
    status = 200
    if form.validate_on_submit():
        with attempt(form) as outcome:
            if address is None:
                services.add_address(record, form.values(), make_default=form.is_default.data)
            else:
                services.update_address(record, address.id, form.values(), make_default=form.is_default.data)
        if outcome.ok:
            flash(_("Address saved."), "success")
            return redirect(url_for("orders_customers.detail", customer_id=record.id))
        status = STATUS_CODE_INVALID
    elif request.method == "POST":
        status = STATUS_CODE_INVALID
    return render_template("orders/address_form.html", form=form, customer=record, address=address), status


@customers_bp.route("/<int:customer_id>/addresses/<int:address_id>/default", methods=["POST"])
@requires("orders.customers.edit")
def default_address(customer_id: int, address_id: int):
    return _address_action(customer_id, address_id, services.set_default_address, _("Default address changed."))


@customers_bp.route("/<int:customer_id>/addresses/<int:address_id>/delete", methods=["POST"])
@requires("orders.customers.edit")
def delete_address(customer_id: int, address_id: int):
    return _address_action(customer_id, address_id, services.delete_address,
                           _("Address removed. Orders keep their own copy of it."))


def _address_action(customer_id: int, address_id: int, action, done: str):
    record = services.get_customer(customer_id)
    with attempt() as outcome:
        action(record, address_id)
    if outcome.ok:
        flash(done, "success")
    return redirect(url_for("orders_customers.detail", customer_id=record.id))


# ----------------------------------------------------------------------------- products


@products_bp.route("/", endpoint="index")
@requires("orders.products.view")
def product_list():
    q = (request.args.get("q") or "").strip()[:100]
    active = request.args.get("active") if request.args.get("active") in ("yes", "no") else ""
    stmt, sort, desc = apply_sort(queries.product_select(q, active), queries.PRODUCT_SORTS, "sku")
    page = paginate(stmt)
    return render_template("orders/products.html", page=page, q=q, active=active, sort=sort, desc=desc,
                           columns=_list_columns(page.items), rates=tax.rates_for_products(page.items))


def _list_columns(products: list) -> list[tuple[str, dict]]:
    """The extra columns enabled plugins add to the product list (``erp_product_list_columns``)."""
    if not products:
        return []
    manager = current_app.extensions["erp_plugins"]
    columns = []
    for answer in manager.hook.erp_product_list_columns(products=products):
        for title, values in (answer or {}).items():
            columns.append((str(title), values))
    return columns


@products_bp.route("/new", methods=["GET", "POST"], endpoint="new")
@requires("orders.products.edit")
def new_product():
    return _product_page(None)


@products_bp.route("/<int:product_id>", endpoint="detail")
@requires("orders.products.view")
def product_page(product_id: int):
    record = services.get_product(product_id)
    return render_template("orders/product.html", product=record, rate=tax.product_rate(record),
                           timeline=audit.timeline("product", record.id),
                           panels=record_panels("erp_product_panels", product=record))


@products_bp.route("/<int:product_id>/edit", methods=["GET", "POST"], endpoint="edit")
@requires("orders.products.edit")
def edit_product(product_id: int):
    return _product_page(services.get_product(product_id))


def _product_page(product: Product | None):
    form = ProductForm(obj=product)
    form.currency.choices = currency_choices(product.currency if product else None)
    form.tax_rate.choices = tax.product_rate_choices(product.tax_rate_id if product else None)
    status = 200
    if request.method == "GET":
        if product is not None:
            form.price.data = format_plain(product.price_minor, product.currency)
            form.tax_rate.data = str(product.tax_rate_id or "")
            form.cost.data = format_plain(product.cost_minor, product.currency) if product.cost_minor is not None else ""
        else:
            form.currency.data = settings.company_currency()
    if form.validate_on_submit():
        with attempt(form) as outcome:
            if product is None:
                product = services.create_product(form.sku.data, form.name.data, form.price.data, form.currency.data,
                                                  spec=form.spec.data, unit=form.unit.data, active=form.active.data,
                                                  tax_rate_id=form.tax_rate.data, cost=form.cost.data,
                                                  barcode=form.barcode.data)
            else:
                services.update_product(product, form.sku.data, form.name.data, form.price.data, form.currency.data,
                                        spec=form.spec.data, unit=form.unit.data, active=form.active.data,
                                        tax_rate_id=form.tax_rate.data, cost=form.cost.data,
                                        barcode=form.barcode.data)
        if outcome.ok:
            flash(_("Product %(sku)s saved.", sku=product.sku), "success")
            return redirect(url_for("orders_products.detail", product_id=product.id))
        status = outcome.error.status if outcome.error.status == 409 else STATUS_CODE_INVALID
    elif request.method == "POST":
        status = STATUS_CODE_INVALID
    saved = product is not None and product.id
    sections = record_panels("erp_product_form_panels", product=product) if saved else []
    return render_template("orders/product_form.html", form=form, product=product, sections=sections), status


@products_bp.route("/import", methods=["GET", "POST"])
@requires("orders.import")
def import_file():
    return _import_page("products")


@products_bp.route("/import/template.csv")
@requires("orders.import")
def import_template():
    return _template_response("products")
