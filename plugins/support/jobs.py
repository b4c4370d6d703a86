"""Scheduled jobs of support (see ``erp_schedules``); each runs in an app context and is committed
by the job runner."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def scan_sla() -> int:
    """Flag tickets that went past their first-response or resolution due time."""
    from .services import scan_sla as scan

    flagged = scan()
    if flagged:
        log.info("support: %d tickets went overdue", flagged)
    return flagged


def send_surveys() -> int:
    """E-mail the satisfaction surveys issued since the last run."""
    from .surveys import send_pending

    return send_pending()


def purge() -> int:
    """Forget old rate-limit windows."""
    from .public import purge_rate_limits

    return purge_rate_limits()
