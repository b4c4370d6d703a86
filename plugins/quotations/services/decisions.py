"""Sending a quotation, the customer's link, acceptance (which makes the order), declining,
cancelling and the expiry of quotations past their validity.

Acceptance is one conditional UPDATE of the status (``sent`` -> ``accepted``, and still valid):
of two acceptances at the same instant (the customer's link and a staff member), exactly one
passes and makes the order; the other is refused with nothing changed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from erp_core import audit
from erp_core.errors import Conflict, DomainError
from erp_core.extensions import db
from erp_core.mail import queue_mail, render_mail
from erp_core.money import format_plain
from erp_core.timeutil import utcnow
from plugins.orders.public import Customer, LineInput, OrderInput, create_order, customer_language

from .. import states
from ..models import Quotation
from .quotations import _text, as_id, default_valid_until, lock, move, today

PURPOSE = "quotation"


def _derive(quotation_id: int, nonce: str | None) -> str | None:
    if not nonce:
        return None
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, f"{PURPOSE}:{quotation_id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def token_of(quotation: Quotation) -> str | None:
    """The customer's link token (an HMAC of SECRET_KEY over the id and the stored random nonce;
    the token itself is never stored); None before the quotation was first sent."""
    return _derive(quotation.id, quotation.nonce)


def find_by_token(quotation_id, token: str | None) -> Quotation | None:
    """The quotation ``quotation_id`` when ``token`` is its link token (constant-time), else None.
    Drafts and cancelled quotations are not shown to customers."""
    row = db.session.get(Quotation, as_id(quotation_id)) if as_id(quotation_id) else None
    if row is None or row.status in (states.DRAFT, states.CANCELLED):
        return None
    expected = _derive(row.id, row.nonce)
    if not expected or not token or len(token) > 64 or not hmac.compare_digest(expected.encode(), token.encode()):
        return None
    return row


def link_of(quotation: Quotation) -> str | None:
    """The customer's absolute link (in a request), else None."""
    token = token_of(quotation)
    if not token or not has_request_context():
        return None
    return url_for("quotations_public.view", quotation_id=quotation.id, token=token, _external=True)


def send_quotation(quotation: Quotation, *, mail: bool = True) -> bool:
    """Send a draft (or send an expired one again, valid anew from today) and, with ``mail``,
    e-mail the link to the contact (else the customer) in the customer's language. True when a
    mail was queued (False: no address or mail not set up)."""
    status = lock(quotation)
    if status not in (states.DRAFT, states.EXPIRED, states.SENT):
        raise Conflict(_("Only a draft, sent or expired quotation can be sent."))
    if status == states.EXPIRED or quotation.valid_until < today():  # (a sent one the expiry job has not reached)
        quotation.valid_until = default_valid_until()
    if not quotation.nonce:
        quotation.nonce = secrets.token_hex(16)
    db.session.flush()
    if status != states.SENT:
        move(quotation, states.SENT, extra={"sent_at": utcnow()})
    return _mail(quotation) if mail else False


def _mail(quotation: Quotation) -> bool:
    customer = db.session.get(Customer, quotation.customer_id)
    email = quotation.contact_email or (customer.email if customer else "")
    if not email:
        return False
    language = customer_language(customer)
    message = render_mail("quotations/mail/quotation", subject=_l("Quotation %(number)s", number=quotation.number),
                          language=language, quotation=quotation, customer=customer, link=link_of(quotation))
    queued = queue_mail(email, message.subject, message.text, html=message.html, language=language)
    audit.record("quotation", quotation.id, "mailed", after={"email": email, "language": language})
    return queued


def accept(quotation: Quotation, *, note: str = "", by_customer: bool = False):
    """Accept a sent, still valid quotation and make it an order with the same lines, prices and
    discounts (the quoted prices are passed as typed prices and the quoted tax rates as the lines'
    fixed rates, so a later catalogue or rate change does not alter them). Returns the order. Raises Conflict when it was decided meanwhile or expired."""
    note = _text(note, 1000, "reason")
    if quotation.status == states.SENT and quotation.valid_until < today():
        raise Conflict(_("This quotation has expired and can no longer be accepted."))
    move(quotation, states.ACCEPTED, note, extra={"decided_at": utcnow()},
         where=(Quotation.valid_until >= today(),))
    order = create_order(OrderInput(
        customer_id=quotation.customer_id, contact_name=quotation.contact_name,
        contact_phone=quotation.contact_phone, contact_email=quotation.contact_email,
        ship_recipient=quotation.ship_recipient, ship_line1=quotation.ship_line1, ship_line2=quotation.ship_line2,
        ship_city=quotation.ship_city, ship_region=quotation.ship_region, ship_postcode=quotation.ship_postcode,
        ship_country=quotation.ship_country, currency=quotation.currency, agreed_prices=True,
        notes=_("From quotation %(number)s", number=quotation.number) + (f"\n{quotation.notes}" if quotation.notes else ""),
        lines=[LineInput(product_id=line.product_id, quantity=line.quantity,
                         unit_price=format_plain(line.unit_price_minor, quotation.currency),
                         discount=str(line.discount_percent),
                         tax_rate=(line.tax_rate_percent, line.tax_exempt)) for line in quotation.lines]))
    quotation.order_id = order.id
    db.session.flush()
    audit.record("quotation", quotation.id, "converted", after={"order": order.number, "by_customer": by_customer})
    return order


def decline(quotation: Quotation, reason: str = "", *, by_customer: bool = False) -> None:
    """The customer does not want it (optionally saying why)."""
    reason = _text(reason, 1000, "reason")
    move(quotation, states.DECLINED, reason, extra={"decided_at": utcnow(), "decline_reason": reason})
    if by_customer:
        audit.record("quotation", quotation.id, "declined_by_customer", after={"reason": reason} if reason else None)


def cancel(quotation: Quotation, reason: str) -> None:
    """Withdraw a draft, sent or expired quotation; a reason is required."""
    reason = _text(reason, 1000, "reason")
    if not reason:
        raise DomainError(_("Give a reason."), field="reason")
    move(quotation, states.CANCELLED, reason)


def expire_due() -> int:
    """Mark sent quotations whose validity has passed as expired (the scheduled job); how many."""
    day = today()
    ids = db.session.scalars(select(Quotation.id).where(Quotation.status == states.SENT,
                                                        Quotation.valid_until < day).limit(500)).all()
    done = 0
    for quotation_id in ids:
        quotation = db.session.get(Quotation, quotation_id)
        try:
            with db.session.begin_nested():
                move(quotation, states.EXPIRED, where=(Quotation.valid_until < day,))
            done += 1
        except Conflict:
            continue
    return done
