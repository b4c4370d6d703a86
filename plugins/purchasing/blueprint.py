"""The purchasing blueprint and the small helpers its page modules share."""

from __future__ import annotations

from flask import Blueprint, flash, request
from flask_babel import gettext as _
from sqlalchemy import select

from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.forms import choices, show_domain_error
from plugins.inventory import services as inventory
from plugins.orders.public import Product, rate_label

bp = Blueprint("purchasing", __name__, url_prefix="/purchasing", template_folder="templates")


@bp.context_processor
def _tax_helpers() -> dict:
    """``rate_label`` (a line's rate as shown: ``13%`` or "exempt") for the purchasing pages."""
    return {"rate_label": rate_label}


def int_arg(name: str) -> int | None:
    """A whole-number query argument, or None."""
    raw = request.args.get(name, "").strip()
    return int(raw) if raw.isdigit() else None


def warehouse_choices() -> list:
    """Active warehouses for a select field."""
    return choices([(str(w.id), w.name) for w in inventory.warehouses()])


def sku_options() -> list:
    """Product codes for the <datalist> of product inputs (active products, capped)."""
    return db.session.execute(select(Product.sku, Product.name).where(Product.active.is_(True))
                              .order_by(Product.sku).limit(1000)).all()


def show_error(form, exc: DomainError) -> None:
    """A refusal beside its field (``lines-<n>-<name>`` for line fields), else flashed."""
    field = exc.field or ""
    if field.startswith("lines-") and hasattr(form, "lines"):
        _prefix, index, name = field.split("-", 2)
        if index.isdigit() and int(index) < len(form.lines.entries):
            sub = getattr(form.lines.entries[int(index)].form, name, None)
            if sub is not None:
                sub.errors = list(sub.errors) + [str(exc)]
                flash(_("Nothing was saved; please correct the marked field."), "danger")
                return
    show_domain_error(form, exc)
    if exc.field and getattr(form, exc.field, None) is not None:
        flash(_("Nothing was saved; please correct the marked field."), "danger")
