"""The desk's contact settings and the links customers get (public pages, mails)."""

from __future__ import annotations

import re

from flask import has_request_context, request
from flask_babel import gettext as _

from erp_core import settings
from erp_core.ui import path_for

from .. import tokens
from ..models import Ticket
from ._common import split_list


def contact_details() -> dict:
    """Phones, e-mails and hours of the support desk, as the settings give them."""
    return {"phones": split_list(settings.get("support.phones")),
            "emails": split_list(settings.get("support.emails")),
            "hours": settings.in_reader_language("support.hours_text")}


def check_phone_list(raw) -> str | None:
    """Setting validator: every entry looks like a phone number."""
    for phone in split_list(raw):
        digits = re.sub(r"\D", "", phone)
        if not re.fullmatch(r"[0-9+()\-. /ext]+", phone, re.IGNORECASE) or not 3 <= len(digits) <= 20:
            return _("%(phone)s does not look like a phone number.", phone=phone)
    return None


def public_url(endpoint: str, **values) -> str:
    """An absolute link for customers (mails, copy buttons).

    Uses the ``support.public_url`` setting when set, else the address of the current request;
    in a background job without either, the path alone.
    """
    path = path_for(endpoint, **values)
    base = (settings.get("support.public_url") or "").strip().rstrip("/")
    if not base and has_request_context():
        base = request.host_url.rstrip("/")
    return base + path


def ticket_token(ticket: Ticket) -> str:
    """The token of the customer's link to a ticket (changes when the ticket's nonce does)."""
    return tokens.derive("ticket", ticket.id, ticket.nonce)


def ticket_public_url(ticket: Ticket) -> str:
    """The absolute link with which the customer follows and answers a ticket."""
    return public_url("support_public.ticket", ticket_id=ticket.id, token=ticket_token(ticket))


def find_ticket_by_token(ticket_id: int, token: str) -> Ticket | None:
    """The ticket a customer's link points to, or None when the token does not match."""
    return tokens.find(Ticket, "ticket", ticket_id, token)
