"""The quotation rules (re-exported here; :mod:`.quotations` holds them, :mod:`.decisions` the
sending, acceptance and expiry, :mod:`.report` the quote-to-order report)."""

from .decisions import (
    accept,
    cancel,
    decline,
    expire_due,
    find_by_token,
    link_of,
    send_quotation,
    token_of,
)
from .quotations import (
    HEADER,
    LineInput,
    QuoteInput,
    as_id,
    create_quotation,
    default_valid_until,
    get_quotation,
    list_query,
    move,
    next_number,
    today,
    update_draft,
    visible,
)
from .report import ReportRow, conversion_report, report_csv

__all__ = [
    "HEADER", "LineInput", "QuoteInput", "ReportRow", "accept", "as_id", "cancel", "conversion_report",
    "create_quotation", "decline", "default_valid_until", "expire_due", "find_by_token", "get_quotation", "link_of",
    "list_query", "move", "next_number", "visible",
    "report_csv", "send_quotation", "today", "token_of", "update_draft",
]
