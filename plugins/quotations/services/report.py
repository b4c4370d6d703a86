"""The quote-to-order report: per month (of sending, company time zone) how many quotations were
sent, accepted, declined and expired, the conversion rate and the value sent and accepted."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from erp_core import settings
from erp_core.extensions import db
from erp_core.money import format_plain
from erp_core.timeutil import to_zone

from .. import states
from ..models import Quotation


@dataclass
class ReportRow:
    """One month and currency of the report."""

    month: str  # YYYY-MM
    currency: str
    sent: int = 0
    accepted: int = 0
    declined: int = 0
    expired: int = 0
    sent_value: int = 0  # minor units
    accepted_value: int = 0

    @property
    def rate(self) -> Decimal | None:
        """Accepted / sent, in percent (one decimal); None when nothing was sent."""
        if not self.sent:
            return None
        return (Decimal(self.accepted) * 100 / Decimal(self.sent)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def conversion_report(limit: int = 20000) -> list[ReportRow]:
    """Rows newest month first, one per month and currency of quotations sent (one query)."""
    zone = settings.company_timezone()
    rows: dict[tuple[str, str], ReportRow] = {}
    stmt = (select(Quotation.sent_at, Quotation.status, Quotation.currency, Quotation.total_minor)
            .where(Quotation.sent_at.is_not(None)).order_by(Quotation.sent_at.desc()).limit(limit))
    for sent_at, status, currency, total in db.session.execute(stmt):
        month = to_zone(sent_at, zone).strftime("%Y-%m")
        row = rows.setdefault((month, currency), ReportRow(month, currency))
        row.sent += 1
        row.sent_value += total
        if status == states.ACCEPTED:
            row.accepted += 1
            row.accepted_value += total
        elif status == states.DECLINED:
            row.declined += 1
        elif status == states.EXPIRED:
            row.expired += 1
    return sorted(rows.values(), key=lambda r: (r.month, r.currency), reverse=True)


def report_csv(rows: list[ReportRow], headers: list[str]) -> str:
    """The report as CSV text with the given (translated) column headers."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for r in rows:
        writer.writerow([r.month, r.currency, r.sent, r.accepted, r.declined, r.expired,
                         "" if r.rate is None else str(r.rate), format_plain(r.sent_value, r.currency),
                         format_plain(r.accepted_value, r.currency)])
    return out.getvalue()
