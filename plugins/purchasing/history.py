"""How suppliers, purchase orders and reorder rules read in histories and the audit log."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from erp_core.contrib import AuditVocabulary, HistoryField
from erp_core.extensions import db

from . import states
from .services.bills import BILL_LABELS, METHODS


def _ids(ids) -> list[int]:
    return [int(i) for i in ids if str(i).isdigit()]


def _suppliers(ids: list[str]) -> dict:
    from .models import Supplier

    wanted = _ids(ids)
    rows = db.session.execute(select(Supplier.id, Supplier.name).where(Supplier.id.in_(wanted))).all() if wanted else []
    return {str(r.id): (r.name, url_for("purchasing.supplier", supplier_id=r.id)) for r in rows}


def _orders(ids: list[str]) -> dict:
    from .models import PurchaseOrder

    wanted = _ids(ids)
    rows = db.session.execute(select(PurchaseOrder.id, PurchaseOrder.number)
                              .where(PurchaseOrder.id.in_(wanted))).all() if wanted else []
    return {str(r.id): (r.number, url_for("purchasing.order", po_id=r.id)) for r in rows}


def audit_vocabulary() -> list[AuditVocabulary]:
    """Suppliers, purchase orders, and the reorder rule of a product."""
    terms = {"sku": _l("Code (SKU)"), "supplier_sku": _l("Supplier's code"),
             "price": HistoryField(_l("Price"), "money", currency_field="currency"),
             "min_quantity": HistoryField(_l("Minimum order"), "number"),
             "pack_size": HistoryField(_l("Pack size"), "number"),
             "lead_time_days": HistoryField(_l("Lead time (days)"), "number"),
             "preferred": HistoryField(_l("Preferred supplier"), "boolean")}
    return [
        AuditVocabulary("supplier", _l("Supplier"), {
            "created": _l("Created"), "changed": _l("Changed"), "terms_set": _l("Product terms set"),
            "terms_removed": _l("Product removed")},
            {"code": _l("Code"), "name": _l("Name"), "contact_name": _l("Contact person"), "phone": _l("Phone"),
             "email": _l("E-mail"), "address": _l("Address"), "tax_id": _l("Taxpayer ID"),
             "currency": _l("Currency"), "payment_terms": _l("Payment terms"), "notes": _l("Notes"),
             "active": HistoryField(_l("Active"), "boolean"), **terms}, resolve=_suppliers),
        AuditVocabulary("purchase_order", _l("Purchase order"), {
            "created": _l("Created"), "changed": _l("Changed"), "status_changed": _l("Status changed"),
            "mailed": _l("E-mailed to the supplier"), "received": _l("Goods received"),
            "bill_recorded": _l("Supplier's bill recorded"), "bill_paid": _l("Bill paid")},
            {"number": _l("Number"), "supplier": HistoryField(_l("Supplier"), "reference", ref="supplier"),
             "total": HistoryField(_l("Total"), "money", currency_field="currency"), "warehouse": _l("Warehouse"),
             "status": HistoryField(_l("Status"), "code", choices=states.LABELS),
             "currency": _l("Currency"), "email": _l("E-mail"), "language": _l("Language"), "receipt": _l("Goods receipt"),
             "goods": _l("Goods"), "bill": _l("Supplier's invoice number"),
             "amount": HistoryField(_l("Amount"), "money", currency_field="currency"),
             "due_date": HistoryField(_l("Payment due date"), "date"),
             "method": HistoryField(_l("Payment method"), "code", choices=METHODS),
             "reference": _l("Payment reference"), "bill_status": HistoryField(_l("Bill"), "code", choices=BILL_LABELS)},
            resolve=_orders),
        AuditVocabulary("product", _l("Product"), {"reorder_rule_set": _l("Reorder rule set")},
                        {"warehouse": _l("Warehouse"), "reorder_point": HistoryField(_l("Reorder point"), "number"),
                         "target_level": HistoryField(_l("Target level"), "number")}),
    ]
