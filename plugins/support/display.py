"""How tickets, returns, surveys, teams and canned replies read in histories and the audit log
(erp_audit_vocabulary; the log itself keeps the codes), and the sentences support writes for
people (erp_system_texts)."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from erp_core.contrib import AuditVocabulary, HistoryField
from erp_core.extensions import db

from . import states

SYSTEM_TEXTS = {
    "support.link_renewed": _l("A new customer link was made; the old one no longer works."),
    "support.link_revoked": _l("The customer link was switched off."),
    "support.restocked_by_hand": _l("Put back on the shelf by hand"),
    "support.written_off_by_hand": _l("Written off by hand"),
    "support.refunded_by_hand": _l("Refunded by hand: %(amount)s"),
    "support.replacement_by_hand": _l("Replacement sent by hand"),
    "support.back_on_shelf": _l("back on the shelf"),
    "support.written_off": _l("written off"),
    "support.return_reason": _l("Return %(number)s"),
    "support.exchange_reason": _l("Exchange %(number)s"),
    "support.survey_followup_subject": _l("Low satisfaction score on %(about)s"),
    "support.survey_followup_note": _l(
        "A customer gave a score of %(score)d out of 5 about %(about)s.\n\nComment: %(comment)s"),
}

TICKET_ACTIONS = {
    "created": _l("Opened"), "status_changed": _l("Status changed"), "reopened": _l("Reopened"),
    "replied": _l("Replied"), "noted": _l("Note added"), "customer_wrote": _l("Customer wrote"),
    "assigned": _l("Assigned"), "changed": _l("Changed"), "sla_breached": _l("Missed its due time"),
}
RETURN_ACTIONS = {
    "created": _l("Requested"), "status_changed": _l("Status changed"), "stock_linked": _l("Stock moved"),
    "refund_linked": _l("Refund started"), "shipment_linked": _l("Replacement shipment made"),
    "refund_paid": _l("Refund paid"), "refund_failed": _l("Refund payment failed"),
    "refund_rejected": _l("Refund rejected"),
}
MISSED = {"first_response": _l("first response"), "resolution": _l("resolution")}
SURVEY_FOR = {"order": _l("Order"), "ticket": _l("Ticket")}

COMMON = {
    "channel": HistoryField(_l("Channel"), "code", choices=states.CHANNEL_LABELS),
    "category": HistoryField(_l("Category"), "code", choices=states.CATEGORY_LABELS),
    "priority": HistoryField(_l("Priority"), "code", choices=states.PRIORITY_LABELS),
    "team": _l("Team"), "assignee": _l("Assignee"), "order": _l("Order"), "number": _l("Number"),
    "subject": _l("Subject"), "emailed": HistoryField(_l("E-mailed"), "boolean"),
    "missed": HistoryField(_l("Missed"), "code", choices=MISSED), "links": HistoryField(_l("Links"), "list"),
    "goods": _l("Goods"), "amount": _l("Amount"), "by_hand": HistoryField(_l("Recorded by hand"), "boolean"),
    "kind": HistoryField(_l("Kind"), "code", choices=states.RETURN_KINDS),
    "reason": HistoryField(_l("Reason"), "code", choices=states.REASONS), "lines": HistoryField(_l("Items"), "list"),
}


def _survey_for(value, _values) -> str:
    kind, _sep, rest = str(value).partition(" ")
    label = SURVEY_FOR.get(kind)
    return f"{label} {rest}" if label is not None else str(value)


def _by_number(model, endpoint: str, arg: str):
    def resolve(ids: list[str]) -> dict:
        wanted = [int(i) for i in ids if i.isdigit()]
        rows = db.session.execute(select(model.id, model.number).where(model.id.in_(wanted))).all() if wanted else []
        return {str(r.id): (r.number, url_for(endpoint, **{arg: r.id})) for r in rows}
    return resolve


def audit_vocabulary() -> list[AuditVocabulary]:
    """Tickets, returns, surveys, teams, canned replies; the customer link of an order."""
    from .models import ReturnRequest, Ticket

    ticket = {**COMMON, "status": HistoryField(_l("Status"), "code", choices=states.TICKET_LABELS)}
    from .returns_refunds import STATE_LABELS

    return_fields = {**COMMON, "status": HistoryField(_l("Status"), "code", choices=states.RETURN_LABELS),
                     "refund_amount": HistoryField(_l("Refund"), "money", currency_field="currency"),
                     "refund_state": HistoryField(_l("Refund state"), "code", choices=STATE_LABELS),
                     "currency": HistoryField(_l("Currency"), hidden=True)}
    return [
        AuditVocabulary("ticket", _l("Ticket"), TICKET_ACTIONS, ticket,
                        resolve=_by_number(Ticket, "support.ticket", "ticket_id")),
        AuditVocabulary("return", _l("Return"), RETURN_ACTIONS, return_fields,
                        resolve=_by_number(ReturnRequest, "support.return_detail", "return_id")),
        AuditVocabulary("survey", _l("Survey"), {
            "issued": _l("Survey sent"), "answered": _l("Survey answered"), "follow_up_opened": _l("Follow-up ticket opened")},
            {"for": HistoryField(_l("For"), "custom", format=_survey_for), "expires": HistoryField(_l("Expires"), "datetime"),
             "score": HistoryField(_l("Score"), "number"), "ticket": _l("Ticket")}),
        AuditVocabulary("support_team", _l("Support team"), {"created": _l("Created"), "changed": _l("Changed")},
                        {"name": _l("Name"), "timezone": _l("Time zone"), "active": HistoryField(_l("Active"), "boolean"),
                         "hours": _l("Opening hours"),
                         "members": HistoryField(_l("Members"), "reference", ref="user"),
                         "leads": HistoryField(_l("Leads"), "reference", ref="user")}),
        AuditVocabulary("support_canned", _l("Canned reply"), {"created": _l("Created"), "changed": _l("Changed")},
                        {"title": _l("Title"), "body": _l("Text"), "active": HistoryField(_l("Active"), "boolean")}),
        AuditVocabulary("order", _l("Order"), {"tracking_link_renewed": _l("New customer link"),
                                               "tracking_link_revoked": _l("Customer link switched off")}, {}),
    ]
