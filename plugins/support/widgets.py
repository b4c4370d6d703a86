"""Contributions of support to pages drawn by others: dashboard cards, home-page blocks, the
order page's panel."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from erp_core import settings
from erp_core.contrib import Panel, Widget
from erp_core.extensions import db
from erp_core.timeutil import to_zone, utcnow

from . import states


def dashboard(user) -> list[Widget]:
    return [
        Widget(_l("My support queue"), "support/_widget_queue.html", lambda: _queue_context(user),
               permission="support.tickets.view", order=40, width=6),
        Widget(_l("Support coverage"), "support/_widget_coverage.html", _coverage_context,
               permission="support.tickets.view", order=41, width=6),
        Widget(_l("Returns to handle"), "support/_widget_returns.html", _returns_context,
               permission="support.returns.view", order=42, width=6),
        Widget(_l("Customer satisfaction, last 30 days"), "support/_widget_csat.html", _csat_context,
               permission="support.reports.view", order=43, width=6),
    ]


def _queue_context(user) -> dict:
    from .services import queue_counts

    return {"counts": queue_counts(user.id)}


def _coverage_context() -> dict:
    from .services import active_teams, coverage_gaps, on_duty

    now = utcnow()
    teams = active_teams()
    gaps = coverage_gaps(now, now + timedelta(days=7), teams) if teams else []
    return {"has_teams": bool(teams), "gaps": gaps[:5], "more_gaps": max(0, len(gaps) - 5),
            "on_duty": on_duty(now, teams)}


def _returns_context() -> dict:
    from .returns import status_counts

    counts = status_counts()
    return {"counts": {s: counts.get(s, 0) for s in (states.REQUESTED, states.APPROVED, states.RECEIVED)},
            "labels": states.RETURN_LABELS}


def _csat_context() -> dict:
    from .surveys import ReportFilters, summary

    tz = settings.company_timezone()
    today = to_zone(utcnow(), tz).date()
    return {"stat": summary(ReportFilters(today - timedelta(days=29), today), tz)}


def public_blocks() -> list[Panel]:
    from .forms import LookupForm
    from .services import contact_details

    return [
        Panel(_l("Contact support"), "support/_public_contact_block.html", lambda: {"contact": contact_details()},
              order=10),
        Panel(_l("Track your order"), "support/_public_track_block.html", lambda: {"form": LookupForm()}, order=20),
    ]


def order_panel(order, user) -> dict:
    from . import public, returns, services

    access = public.access_of(order.id)
    return {
        "order": order,
        "tickets": services.order_tickets(order.id),
        "returns": returns.order_returns(order.id),
        "can_return": returns.can_request(order),
        "access": access,
        "tracking_url": public.tracking_url(order, access) if access is not None else None,
        "contact": services.contact_details(),
        "ticket_labels": states.TICKET_LABELS, "ticket_badges": states.TICKET_BADGES,
        "return_labels": states.RETURN_LABELS, "return_badges": states.RETURN_BADGES,
    }


def notifications_panel(order) -> dict:
    """The messages sent to the order's customer, newest first."""
    from erp_core.i18n import LANGUAGE_NAMES

    from .models import Notification
    from .notifications import kinds

    entries = list(db.session.scalars(select(Notification).where(Notification.order_id == order.id)
                                      .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(50)))
    return {"order": order, "entries": entries, "kind_labels": kinds.KIND_LABELS, "status_labels": kinds.STATUS_LABELS,
            "status_badges": kinds.STATUS_BADGES, "channel_labels": kinds.CHANNEL_LABELS,
            "language_names": LANGUAGE_NAMES}
