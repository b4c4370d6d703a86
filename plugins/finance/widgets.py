"""Dashboard cards: today's takings and confirmed orders still unpaid (reusing the reports' SQL)."""

from __future__ import annotations

from sqlalchemy import func, select

from erp_core import settings
from erp_core.extensions import db
from erp_core.timeutil import to_zone, utcnow

from . import reports


def _today() -> reports.Filters:
    tz = settings.company_timezone()
    today = to_zone(utcnow(), tz).date()
    return reports.Filters(start=today, end=today, tz=tz, grain="day")


def takings_today() -> dict:
    filters = _today()
    result = reports.run_takings(filters)
    return {"rows": result.totals, "day": filters.start}


def unpaid_orders() -> dict:
    filters = _today()
    sub = reports.receivables_query(filters)
    totals = db.session.execute(select(sub.c.currency, func.count(), func.sum(sub.c.outstanding))
                                .group_by(sub.c.currency).order_by(sub.c.currency)).all()
    return {"totals": [{"currency": c, "orders": int(n), "due": int(s or 0)} for c, n, s in totals],
            "oldest": reports.oldest_receivables(filters, limit=5), "day": filters.start}
