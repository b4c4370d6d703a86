"""Sending notifications: called from the hooks of orders, logistics, finance and support itself,
inside the transaction of the event, so a rolled-back event notifies nobody (mail is queued for
after the commit)."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from erp_core import jobs, settings
from erp_core.extensions import db
from erp_core.mail import mail_configured, queue_mail
from erp_core.timeutil import utcnow
from plugins.orders.public import Order, customer_language

from ..models import Notification
from . import kinds, messages, sms


def enabled(kind: str) -> bool:
    """Whether ``kind`` is switched on in the settings (on unless switched off)."""
    value = settings.get(kinds.setting_key(kind), True)
    return value not in (False, "0", "false", "", None)


def recipients(order: Order) -> tuple[str, str]:
    """The e-mail address and phone number the order's messages go to."""
    customer = order.customer
    email = order.contact_email or (customer.email if customer is not None else "") or ""
    phone = order.contact_phone or (customer.phone if customer is not None else "") or ""
    return email.strip(), phone.strip()


def _already(order_id: int, kind: str, ref: str) -> bool:
    return db.session.scalar(select(Notification.id).where(
        Notification.order_id == order_id, Notification.kind == kind, Notification.ref == ref).limit(1)) is not None


def notify(order: Order, kind: str, ref: str = "", **event) -> list[Notification]:
    """Tell the order's customer about ``kind`` (once per order, kind and ``ref``) by e-mail and,
    when an SMS adapter is chosen, by text message; returns the log entries made."""
    if not enabled(kind) or _already(order.id, kind, ref):
        return []
    email, phone = recipients(order)
    adapter = sms.chosen() if phone else None
    if not email and adapter is None:
        return []
    language = customer_language(order.customer)
    message = None
    if adapter is not None or (email and mail_configured()):  # written only when it goes somewhere
        message = messages.render(kind, {**messages.order_facts(order), **event}, language)
    entries = []
    if email:
        queued = message is not None and queue_mail(email, message.subject, message.text, html=message.html,
                                                    language=language)
        entries.append(_log(order, kind, ref, kinds.EMAIL, email, language,
                            kinds.QUEUED if queued else kinds.MAIL_OFF))
    if adapter is not None:
        entry = _log(order, kind, ref, kinds.SMS, phone, language, kinds.QUEUED, adapter=adapter.key,
                     body=message.sms)
        entries.append(entry)
        if adapter.offline:
            _apply(entry, adapter.send(phone, message.sms))
        else:
            db.session.flush()
            jobs.enqueue(deliver_sms, entry.id, retries=3)
    return entries


def _log(order: Order, kind: str, ref: str, channel: str, recipient: str, language: str, status: str,
         adapter: str = "", body: str | None = None) -> Notification:
    entry = Notification(order_id=order.id, kind=kind, ref=ref, channel=channel, recipient=recipient[:200],
                         language=language, status=status, adapter=adapter, body=body, created_at=utcnow())
    db.session.add(entry)
    return entry


def _apply(entry: Notification, result: sms.SmsResult) -> None:
    entry.status = result.status if result.status in kinds.STATUS_LABELS else kinds.FAILED
    if result.status == kinds.FAILED:
        current_app.logger.warning("SMS notification %s not sent: %s", entry.id, result.error)


def deliver_sms(notification_id: int) -> None:
    """Job: hand a queued text message to its provider, outside the transaction of the event."""
    entry = db.session.get(Notification, notification_id)
    if entry is None or entry.status != kinds.QUEUED:
        return
    adapter_class = sms.adapters().get(entry.adapter)
    result = adapter_class().send(entry.recipient, entry.body or "") if adapter_class else sms.SmsResult(
        kinds.FAILED, error="adapter not available")
    _apply(entry, result)
    db.session.commit()


# ----------------------------------------------------------------------------- events


def order_status_changed(order: Order, new_status: str, survey=None) -> None:
    """Orders' status events: confirmed and delivered (with the link of the order's new survey,
    which then counts as sent: the survey job does not mail it again)."""
    if new_status == "confirmed":
        notify(order, kinds.ORDER_CONFIRMED)
    elif new_status == "delivered":
        from .. import surveys

        entries = notify(order, kinds.DELIVERED, survey_url=surveys.url(survey) if survey is not None else "")
        if survey is not None and any(e.channel == kinds.EMAIL and e.status == kinds.QUEUED for e in entries):
            survey.sent_at = utcnow()


def shipment_status_changed(shipment, old_status: str | None, new_status: str) -> None:
    """Logistics' shipment events: dispatched (left pending) and delivery problems."""
    facts = {"carrier": shipment.carrier_display or "", "tracking_number": shipment.tracking_number or ""}
    ref = f"shipment:{shipment.id}"
    if new_status == "in_transit" and old_status in (None, "pending"):
        notify(shipment.order, kinds.SHIPPED, ref, **facts)
    elif new_status in ("exception", "lost"):
        notify(shipment.order, kinds.DELIVERY_PROBLEM, f"{ref}:{new_status}", **facts)


def return_status_changed(return_request, new_status: str) -> None:
    """Support's own return events: approved and received."""
    kind = {"approved": kinds.RETURN_APPROVED, "received": kinds.RETURN_RECEIVED}.get(new_status)
    if kind is not None:
        message = return_request.staff_message if kind == kinds.RETURN_APPROVED else ""
        notify(return_request.order, kind, f"return:{return_request.id}", return_number=return_request.number,
               staff_message=message or "")


def refund_recorded(refund) -> None:
    """Finance's refund events: paid (status ``refunded``)."""
    if refund.status == "refunded":
        order = db.session.get(Order, refund.order_id)
        if order is not None:
            notify(order, kinds.REFUND_PAID, f"refund:{refund.id}", refund_minor=refund.amount_minor,
                   refund_currency=refund.currency)
