"""How payments and refunds read in histories and the audit log (erp_audit_vocabulary), and the
sentences finance writes for people (erp_system_texts)."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _pl
from sqlalchemy import select

from erp_core.contrib import AuditVocabulary, HistoryField
from erp_core.extensions import db

from . import states

ACTIONS = {
    "recorded": _l("Payment recorded"), "started": _l("Online payment started"),
    "callback": _l("Confirmed by the provider"), "query": _l("Confirmed when the provider was asked"),
    "failed": _l("Payment given up"),
    "review_cleared": _l("Payment reviewed"), "requested": _l("Refund requested"),
    "refunded": _l("Refund paid out"), "rejected": _l("Refund rejected"),
    "sent": _l("Refund sent to the provider"), "provider_failed": _l("The provider refused the refund"),
}

SYSTEM_TEXTS = {
    "finance.confirmed_by": _l("Confirmed by %(method)s"),
    "finance.confirmed_by_query": _l("Confirmed by %(method)s when asked (its notification never came)"),
    "finance.paid_after_failed": _l("Paid at %(method)s after the payment was marked failed: needs review"),
    "finance.credit_line": _l("Refund %(ref)s of invoice %(number)s, tax rate %(rate)s"),
}


def _method_labels() -> dict:
    from .services import method_labels

    return method_labels()


def _source(value, _values) -> str:
    kind, _sep, number = str(value).partition(":")
    label = states.SOURCE_LABELS.get(kind) or states.SOURCE_LABELS.get(kind.rsplit("_", 1)[-1])
    label = str(label) if label is not None else kind.replace("_", " ").capitalize()
    return f"{label} #{number}" if number else label


def _payments(ids: list[str]) -> dict:
    from .models import Payment

    wanted = [int(i) for i in ids if i.isdigit()]
    rows = db.session.scalars(select(Payment).where(Payment.id.in_(wanted))).all() if wanted else []
    return {str(p.id): (p.merchant_ref, url_for("finance.payment", payment_id=p.id)) for p in rows}


def _refunds(ids: list[str]) -> dict:
    from .models import Refund

    wanted = [int(i) for i in ids if i.isdigit()]
    rows = db.session.execute(select(Refund.id, Refund.payment_id).where(Refund.id.in_(wanted))).all() if wanted else []
    return {str(r.id): (f"REF-{r.id:06d}", url_for("finance.payment", payment_id=r.payment_id)) for r in rows}


INVOICE_ACTIONS = {"issued": _l("Invoice issued"), "credited": _l("Credit note issued"),
                   "fapiao": _l("Fapiao recorded")}


def _invoices(ids: list[str]) -> dict:
    from .models import Invoice

    wanted = [int(i) for i in ids if i.isdigit()]
    rows = db.session.execute(select(Invoice.id, Invoice.number).where(Invoice.id.in_(wanted))).all() if wanted else []
    return {str(r.id): (r.number, url_for("finance_invoices.invoice", invoice_id=r.id)) for r in rows}


def _invoice_vocabulary() -> AuditVocabulary:
    fields = {
        "number": _l("Number"), "order": _l("Order"), "invoice": _l("Corrects invoice"),
        "shipment": _pl("finance", "Shipment"),
        "amount": HistoryField(_l("Amount"), "money", currency_field="currency"),
        "tax": HistoryField(_l("Tax"), "money", currency_field="currency"),
        "currency": HistoryField(_l("Currency"), hidden=True),
        "fapiao_code": _l("Fapiao code"), "fapiao_number": _l("Fapiao number"),
        "fapiao_date": HistoryField(_l("Fapiao date"), "date"),
    }
    return AuditVocabulary("invoice", _l("Invoice"), INVOICE_ACTIONS, fields, resolve=_invoices)


def audit_vocabulary() -> list[AuditVocabulary]:
    """Payments, refunds, invoices and credit notes."""
    common = {
        "order": _l("Order"), "payment": _l("Payment"), "transaction": _l("Provider's transaction"),
        "reference": _l("Payment reference"), "provider": _l("Provider"),
        "method": HistoryField(_l("Method"), "code", choices=_method_labels),
        "amount": HistoryField(_l("Amount"), "money", currency_field="currency"),
        "credit": HistoryField(_l("Customer credit"), "money", currency_field="currency"),
        "currency": HistoryField(_l("Currency"), hidden=True),
        "needs_review": HistoryField(_l("Needs review"), "boolean"),
        "source": HistoryField(_l("Source"), "custom", format=_source),
    }
    payment = {**common, "status": HistoryField(_l("Status"), "code", choices=states.PAYMENT_LABELS)}
    refund = {**common, "status": HistoryField(_l("Status"), "code", choices=states.REFUND_LABELS)}
    return [AuditVocabulary("payment", _l("Payment"), ACTIONS, payment, resolve=_payments),
            AuditVocabulary("refund", _l("Refund"), ACTIONS, refund, resolve=_refunds), _invoice_vocabulary()]
