"""Staff pages of quotations: list, draft form, page with its actions, print, report.

Thin: parse the form, call a service inside ``attempt`` (commit, or roll back with the message),
redirect.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from erp_core import audit
from erp_core.extensions import db
from erp_core.forms import attempt, show_domain_error
from erp_core.money import format_plain
from erp_core.security import has_permission, requires
from erp_core.ui import paginate
from plugins.orders.public import Customer, Product, percent_text, search_customers

from . import services, states
from .display import quotation_context
from .forms import ActionForm, QuotationForm, ReasonForm
from .models import Quotation

bp = Blueprint("quotations", __name__, url_prefix="/quotations", template_folder="templates",
               static_folder="static")

STATUS_INVALID = 422
LANGUAGE_LABELS = {"zh_CN": "中文", "en": "English"}
MAX_CHOICES = 1000


def _get(quotation_id: int) -> Quotation:
    return (services.visible(db.session.get(Quotation, quotation_id)) if services.as_id(quotation_id) else None) \
        or abort(404)


def _customers() -> list[tuple[str, str]]:
    rows = db.session.execute(select(Customer.id, Customer.name).where(Customer.active.is_(True))
                              .order_by(Customer.name_key).limit(MAX_CHOICES)).all()
    return [(str(r.id), r.name) for r in rows]


def _customer_label(customer_id) -> str:
    """The name shown in the form's customer search for the chosen id (empty: none or unknown)."""
    text = str(customer_id or "").strip()
    customer = db.session.get(Customer, int(text)) if text.isdigit() and len(text) < 10 else None
    return customer.name if customer is not None else ""


@bp.route("/customers.json")
@requires("quotations.manage")
def customers_json():
    """The form's customer search (the order entry form's search): up to 10 customers by name,
    phone or e-mail, with the default (else first) address to fill the delivery fields."""
    q = (request.args.get("q") or "").strip()[:100]
    results = []
    for customer in search_customers(q, limit=10) if q else []:
        addresses = sorted(customer.addresses, key=lambda a: (not a.is_default, a.id))
        address = addresses[0] if addresses else None
        results.append({"id": customer.id, "name": customer.name, "phone": customer.phone or "",
                        "email": customer.email or "", "address": _address(address)})
    return jsonify({"results": results})


def _address(address) -> dict | None:
    if address is None:
        return None
    names = ("recipient", "line1", "line2", "city", "region", "postcode", "country")
    return {"text": address.one_line(), **{name: getattr(address, name) or "" for name in names}}


def _names(customer_ids) -> dict[int, str]:
    ids = set(customer_ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids))).all())


@bp.route("/")
@requires("quotations.view")
def index():
    customer = request.args.get("customer", "").strip()
    status = request.args.get("status", "")
    page = paginate(services.list_query(status, services.as_id(customer) or (-1 if customer.isdigit() else None),
                                        request.args.get("q", "")))
    return render_template("quotations/list.html", page=page, names=_names(q.customer_id for q in page.items),
                           labels=states.LABELS, badges=states.BADGES, customers=_customers())


def _show_error(form, exc) -> None:
    field = exc.field or ""
    if field.startswith("lines-"):
        _prefix, index, name = field.split("-", 2)
        if index.isdigit() and int(index) < len(form.lines.entries):
            sub = getattr(form.lines.entries[int(index)].form, name, None)
            if sub is not None:
                sub.errors = list(sub.errors) + [str(exc)]
                flash(_("Nothing was saved; please correct the marked field."), "danger")
                return
    show_domain_error(form, exc)


def _input(form: QuotationForm) -> services.QuoteInput:
    header = {name: getattr(form, name).data or "" for name in services.HEADER}
    return services.QuoteInput(customer_id=form.customer_id.data, currency=form.currency.data or "",
                               valid_until=form.valid_until.data, **header,
                               lines=[services.LineInput(row.product.data, row.quantity.data, row.unit_price.data,
                                                         row.discount.data) for row in form.lines])


def _fill(form: QuotationForm, quotation: Quotation | None) -> None:
    if quotation is None:
        form.customer_id.data = request.args.get("customer", "")
        form.valid_until.data = services.default_valid_until()
        return
    form.customer_id.data, form.currency.data = str(quotation.customer_id), quotation.currency
    form.valid_until.data = quotation.valid_until
    for name in services.HEADER:
        getattr(form, name).data = getattr(quotation, name)
    while len(form.lines.entries) < len(quotation.lines):
        form.lines.append_entry()
    for entry, line in zip(form.lines.entries, quotation.lines, strict=False):
        entry.form.product.data, entry.form.quantity.data = line.sku, str(line.quantity)
        entry.form.unit_price.data = format_plain(line.unit_price_minor, quotation.currency)
        entry.form.discount.data = percent_text(line.discount_percent) if line.discount_percent else ""


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:quotation_id>/edit", methods=["GET", "POST"])
@requires("quotations.manage")
def form(quotation_id: int | None = None):
    quotation = _get(quotation_id) if quotation_id else None
    if quotation is not None and quotation.status not in states.EDITABLE:
        flash(_("Only a draft quotation can be changed."), "warning")
        return redirect(url_for(".detail", quotation_id=quotation.id))
    form = QuotationForm()
    if request.method == "GET":
        _fill(form, quotation)
    status = 200
    if form.validate_on_submit():
        with attempt(form, on_error=_show_error) as outcome:
            if quotation is None:
                quotation = services.create_quotation(_input(form))
            else:
                services.update_draft(quotation, _input(form))
        if outcome.ok:
            flash(_("Quotation %(number)s saved as a draft.", number=quotation.number), "success")
            return redirect(url_for(".detail", quotation_id=quotation.id))
        status = STATUS_INVALID
    elif request.method == "POST":
        status = STATUS_INVALID
    skus = db.session.execute(select(Product.sku, Product.name).where(Product.active.is_(True))
                              .order_by(Product.sku).limit(MAX_CHOICES)).all()
    return render_template("quotations/form.html", form=form, quotation=quotation, skus=skus,
                           customer_label=_customer_label(form.customer_id.data)), status


@bp.route("/<int:quotation_id>")
@requires("quotations.view")
def detail(quotation_id: int):
    quotation = _get(quotation_id)
    return render_template("quotations/detail.html", action_form=ActionForm(), reason_form=ReasonForm(),
                           states=states,
                           link=services.link_of(quotation) if has_permission("quotations.manage") else None,
                           history=audit.timeline("quotation", quotation.id), **quotation_context(quotation))


@bp.route("/<int:quotation_id>/print")
@requires("quotations.view")
def print_view(quotation_id: int):
    quotation = _get(quotation_id)
    language = request.args.get("lang") if request.args.get("lang") in LANGUAGE_LABELS else str(get_locale())
    with force_locale(language):
        return render_template("quotations/print.html", languages=LANGUAGE_LABELS, **quotation_context(quotation))


def _act(quotation_id: int, form_class, action, done):
    """Run ``action(quotation, form)`` on a valid POST; flash ``done(result, quotation)``."""
    quotation = _get(quotation_id)
    form = form_class()
    if form.validate_on_submit():
        with attempt(form) as outcome:
            result = action(quotation, form)
        if outcome.ok:
            flash(done(result, quotation), "success")
    else:
        flash(_("Nothing was saved; please correct the marked field."), "danger")
    return redirect(url_for(".detail", quotation_id=quotation_id))


@bp.route("/<int:quotation_id>/send", methods=["POST"])
@requires("quotations.manage")
def send(quotation_id: int):
    def done(mailed, quotation):
        if mailed:
            return _("Quotation %(number)s was e-mailed to the customer.", number=quotation.number)
        return _("Quotation %(number)s is marked sent. It was not e-mailed: give the customer its link or a print.",
                 number=quotation.number)

    return _act(quotation_id, ActionForm, lambda q, f: services.send_quotation(q), done)


@bp.route("/<int:quotation_id>/accept", methods=["POST"])
@requires("quotations.manage")
def accept(quotation_id: int):
    return _act(quotation_id, ReasonForm, lambda q, f: services.accept(q, note=f.reason.data or ""),
                lambda order, q: _("Quotation %(number)s accepted: order %(order)s was made.", number=q.number,
                                   order=order.number))


@bp.route("/<int:quotation_id>/decline", methods=["POST"])
@requires("quotations.manage")
def decline(quotation_id: int):
    return _act(quotation_id, ReasonForm, lambda q, f: services.decline(q, f.reason.data or ""),
                lambda _r, q: _("Quotation %(number)s marked declined.", number=q.number))


@bp.route("/<int:quotation_id>/cancel", methods=["POST"])
@requires("quotations.manage")
def cancel(quotation_id: int):
    return _act(quotation_id, ReasonForm, lambda q, f: services.cancel(q, f.reason.data or ""),
                lambda _r, q: _("Quotation %(number)s cancelled.", number=q.number))


def _report_headers() -> list[str]:
    return [_("Month"), _("Currency"), _("Sent"), _("Accepted"), _("Declined"), _("Expired"),
            _("Conversion rate (%)"), _("Value sent"), _("Value accepted")]


@bp.route("/report")
@requires("quotations.view")
def report():
    rows = services.conversion_report()
    if request.args.get("format") == "csv":
        return Response(services.report_csv(rows, _report_headers()), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=quote-to-order.csv"})
    return render_template("quotations/report.html", rows=rows, headers=_report_headers())
