"""How quotations read in histories and the audit log."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from erp_core.contrib import AuditVocabulary, HistoryField
from erp_core.extensions import db

from . import states


def _quotations(ids: list[str]) -> dict:
    from .models import Quotation

    wanted = [int(i) for i in ids if str(i).isdigit()]
    rows = db.session.execute(select(Quotation.id, Quotation.number)
                              .where(Quotation.id.in_(wanted))).all() if wanted else []
    return {str(r.id): (r.number, url_for("quotations.detail", quotation_id=r.id)) for r in rows}


def audit_vocabulary() -> list[AuditVocabulary]:
    """Quotations: created, changed, sent, mailed, decided, converted to an order."""
    return [AuditVocabulary("quotation", _l("Quotation"), {
        "created": _l("Created"), "changed": _l("Changed"), "status_changed": _l("Status changed"),
        "mailed": _l("E-mailed to the customer"), "converted": _l("Became an order"),
        "declined_by_customer": _l("Declined by the customer")},
        {"number": _l("Number"), "customer": _l("Customer"),
         "total": HistoryField(_l("Total"), "money", currency_field="currency"), "currency": _l("Currency"),
         "status": HistoryField(_l("Status"), "code", choices=states.LABELS), "email": _l("E-mail"),
         "language": _l("Language"), "order": _l("Order"), "reason": _l("Reason"),
         "by_customer": HistoryField(_l("By the customer"), "boolean")},
        resolve=_quotations)]
