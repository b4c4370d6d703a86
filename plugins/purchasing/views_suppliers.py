"""Supplier pages: list, form, page with the products they sell, CSV import.

Thin: parse the form, call a service, commit or roll back with a message, redirect.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from erp_core import audit
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.forms import attempt
from erp_core.money import format_plain
from erp_core.security import requires
from erp_core.ui import apply_sort, paginate

from . import services, states
from .blueprint import bp, show_error, sku_options
from .forms import ImportForm, SupplierForm, TermsForm
from .models import PurchaseOrder, Supplier

STATUS_INVALID = 422


@bp.route("/suppliers/")
@requires("purchasing.view")
def suppliers():
    show = request.args.get("show", "active")
    stmt = services.supplier_query(request.args.get("q", ""), True if show == "active" else None)
    stmt, sort, desc = apply_sort(stmt, {"name": Supplier.name_key, "code": Supplier.code}, "name")
    return render_template("purchasing/suppliers.html", page=paginate(stmt), sort=sort, desc=desc, show=show)


def _input(form: SupplierForm) -> services.SupplierInput:
    return services.SupplierInput(**{name: getattr(form, name).data or "" for name in services.suppliers.FIELDS},
                                  active=bool(form.active.data))


@bp.route("/suppliers/new", methods=["GET", "POST"])
@bp.route("/suppliers/<int:supplier_id>/edit", methods=["GET", "POST"])
@requires("purchasing.manage")
def supplier_form(supplier_id: int | None = None):
    supplier = (db.session.get(Supplier, supplier_id) or abort(404)) if supplier_id else None
    form = SupplierForm(obj=supplier)
    status = 200
    if form.validate_on_submit():
        with attempt(form, on_error=show_error) as outcome:
            supplier = services.save_supplier(supplier, _input(form))
        if outcome.ok:
            flash(_("Supplier %(name)s saved.", name=supplier.name), "success")
            return redirect(url_for("purchasing.supplier", supplier_id=supplier.id))
        status = STATUS_INVALID
    elif request.method == "POST":
        status = STATUS_INVALID
    return render_template("purchasing/supplier_form.html", form=form, supplier=supplier), status


@bp.route("/suppliers/<int:supplier_id>")
@requires("purchasing.view")
def supplier(supplier_id: int):
    item = db.session.get(Supplier, supplier_id) or abort(404)
    form = TermsForm()
    orders = db.session.scalars(select(PurchaseOrder).where(PurchaseOrder.supplier_id == item.id)
                                .order_by(PurchaseOrder.id.desc()).limit(20)).all()
    return render_template("purchasing/supplier.html", supplier=item, terms=services.terms_of_supplier(item),
                           form=form, orders=orders, labels=states.LABELS, badges=states.BADGES,
                           history=audit.timeline("supplier", item.id), skus=sku_options(), plain=format_plain)


@bp.route("/suppliers/<int:supplier_id>/terms", methods=["POST"])
@requires("purchasing.manage")
def supplier_terms(supplier_id: int):
    item = db.session.get(Supplier, supplier_id) or abort(404)
    form = TermsForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            product = services.find_product(form.sku.data)
            services.set_terms(item, product, supplier_sku=form.supplier_sku.data, price_raw=form.price.data,
                               min_quantity=form.min_quantity.data, pack_size=form.pack_size.data,
                               lead_time_days=form.lead_time_days.data, preferred=form.preferred.data)
        if outcome.ok:
            flash(_("%(sku)s saved in the supplier's products.", sku=product.sku), "success")
    else:
        flash(_("The form expired; please try again."), "danger")
    return redirect(url_for("purchasing.supplier", supplier_id=item.id))


@bp.route("/suppliers/<int:supplier_id>/terms/<int:terms_id>/remove", methods=["POST"])
@requires("purchasing.manage")
def supplier_terms_remove(supplier_id: int, terms_id: int):
    item = db.session.get(Supplier, supplier_id) or abort(404)
    with attempt() as outcome:
        services.remove_terms(item, terms_id)
    if outcome.ok:
        flash(_("The product was removed from the supplier's list."), "success")
    return redirect(url_for("purchasing.supplier", supplier_id=item.id))


@bp.route("/suppliers/import", methods=["GET", "POST"])
@requires("purchasing.manage")
def supplier_import():
    form = ImportForm()
    report, status = None, 200
    if form.validate_on_submit() and form.file.data:
        try:
            created, updated = services.import_suppliers(form.file.data.read(2 * 1024 * 1024 + 1))
            db.session.commit()
        except services.ImportRefused as exc:
            db.session.rollback()
            report, status = exc.problems, STATUS_INVALID
            flash(str(exc), "danger")
        except DomainError as exc:
            db.session.rollback()
            form.file.errors = [str(exc)]
            status = STATUS_INVALID
        else:
            flash(_("Suppliers imported: %(created)d new, %(updated)d updated.", created=created, updated=updated),
                  "success")
            return redirect(url_for("purchasing.suppliers"))
    elif request.method == "POST":
        form.file.errors = [_("Choose a CSV file.")]
        status = STATUS_INVALID
    return render_template("purchasing/import.html", form=form, report=report, columns=services.COLUMNS), status


@bp.route("/suppliers/import/template.csv")
@requires("purchasing.manage")
def supplier_import_template():
    header = ",".join(name for name, _req, _help in services.COLUMNS)
    example = "SUP-001,华东供应链有限公司,王经理,021-5555 0101,buy@example.com,上海市浦东新区,91310000MA1FL0XX0X,CNY,月结30天,,yes"
    response = Response("\ufeff" + header + "\r\n" + example + "\r\n", mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="suppliers-template.csv"'
    return response
