"""How warehouses, expected receipts and inventory's changes of products and orders read in
histories and the audit log (erp_audit_vocabulary), and the sentences inventory writes for people
(erp_system_texts)."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from erp_core.contrib import AuditVocabulary, HistoryField
from erp_core.extensions import db

SYSTEM_TEXTS = {
    "inventory.expected_receipt": _l("Expected receipt #%(id)s"),
    "inventory.returned_written_off": _l("Returned goods written off (not put back on hand)."),
    "inventory.move_link": _l("Stock move #%(id)s: %(type)s of %(quantity)s"),
}

RECEIPT_STATUS = {"open": _l("Still expected"), "received": _l("Received"), "cancelled": _l("Cancelled")}


def _warehouses(ids: list[str]) -> dict:
    from .models import Warehouse

    wanted = [int(i) for i in ids if i.isdigit()]
    rows = db.session.execute(select(Warehouse.id, Warehouse.name).where(Warehouse.id.in_(wanted))).all() if wanted else []
    return {str(r.id): (r.name, url_for("inventory.warehouse_form", warehouse_id=r.id)) for r in rows}


def _expected(ids: list[str]) -> dict:
    wanted = [int(i) for i in ids if i.isdigit()]
    return {str(i): (f"#{i}", url_for("inventory.incoming")) for i in wanted}


def audit_vocabulary() -> list[AuditVocabulary]:
    """Warehouses and expected receipts; stock rules of products; an order's warehouse."""
    return [
        AuditVocabulary("warehouse", _l("Warehouse"), {
            "created": _l("Created"), "changed": _l("Changed"), "made_default": _l("Made the default warehouse"),
            "activated": _l("Switched on"), "deactivated": _l("Switched off")},
            {"code": _l("Code"), "name": _l("Name"), "address": _l("Address")}, resolve=_warehouses),
        AuditVocabulary("expected_receipt", _l("Expected receipt"), {
            "created": _l("Goods expected"), "received": _l("Goods received"), "cancelled": _l("Cancelled")},
            {"sku": _l("Code (SKU)"), "quantity": HistoryField(_l("Quantity"), "number"), "warehouse": _l("Warehouse"),
             "supplier": _l("Supplier"), "receipt": _l("Goods receipt"),
             "status": HistoryField(_l("Status"), "code", choices=RECEIPT_STATUS)}, resolve=_expected),
        AuditVocabulary("product", _l("Product"), {"stock_rule_changed": _l("Low-stock rule changed")},
                        {"low_threshold": HistoryField(_l("Low-stock threshold"), "number"),
                         "reorder_quantity": HistoryField(_l("Reorder quantity"), "number")}),
        AuditVocabulary("order", _l("Order"), {"warehouse_changed": _l("Warehouse changed")},
                        {"warehouse": _l("Warehouse")}),
    ]
