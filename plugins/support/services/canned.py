"""Canned replies: saved answers with placeholders that agents insert into a reply."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import func, select

from erp_core import audit
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.timeutil import utcnow

from ..models import CannedReply, Ticket
from ._common import author_label


def save_canned(reply: CannedReply | None, title: str, body: str, active: bool) -> CannedReply:
    """Create or change a canned reply (titles are unique, ignoring case); audited."""
    title = (title or "").strip()[:120]
    body = (body or "").strip()
    if not title:
        raise DomainError(_("Give the reply a title."), field="title")
    if not body:
        raise DomainError(_("Write the text of the reply."), field="body")
    clash = db.session.scalar(select(CannedReply.id).where(func.lower(CannedReply.title) == title.lower(),
                                                           CannedReply.id != (reply.id if reply else -1)))
    if clash:
        raise DomainError(_("Another canned reply is called %(title)s.", title=title), field="title")
    created = reply is None
    if created:
        reply = CannedReply(title=title, body=body, active=active)
        db.session.add(reply)
    before = None if created else {"title": reply.title, "body": reply.body, "active": reply.active}
    reply.title, reply.body, reply.active, reply.updated_at = title, body, active, utcnow()
    db.session.flush()
    after = {"title": title, "body": body, "active": active}
    if created:
        audit.record("support_canned", reply.id, "created", after=after)
    else:
        b, a = audit.diff(before, after)
        if a:
            audit.record("support_canned", reply.id, "changed", before=b, after=a)
    return reply


def render_canned(reply: CannedReply, ticket: Ticket) -> str:
    """Fill the placeholders {customer}, {ticket}, {order} and {agent} of a canned reply."""
    values = {"customer": ticket.contact_name or _("customer"), "ticket": ticket.number,
              "order": ticket.order.number if ticket.order is not None else "", "agent": author_label()}
    return re.sub(r"\{(customer|ticket|order|agent)\}", lambda m: values[m.group(1)], reply.body)
