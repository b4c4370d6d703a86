"""Background work of finance: refunds through providers that are reached over the network, and
the schedule that settles pending online payments whose notification never came.

The provider is called outside any database transaction; its answer is recorded in a new one.
"""

from __future__ import annotations

import logging

from erp_core.extensions import db

log = logging.getLogger(__name__)


def send_refund(refund_id: int) -> None:
    """Call the payment's adapter for a refund approved by :func:`services.approve_refund`."""
    from . import services, states
    from .adapters import AdapterError
    from .models import Refund

    refund = db.session.get(Refund, refund_id)
    if refund is None or refund.status != states.REQUESTED or refund.decided_at is None:
        return
    request = services.adapter_refund_request(refund, refund.payment)
    adapter = services.get_adapter(refund.method, must_be_enabled=False)
    db.session.commit()  # hold no transaction (nor SQLite's write lock) while the provider answers
    try:
        result = adapter.refund(request)
        status, provider_ref, message = result.status, result.provider_ref, result.message
    except AdapterError as exc:
        status, provider_ref, message = "failed", None, str(exc)
    except Exception as exc:  # a network failure: back to the queue, logged
        log.exception("refund %s: the provider could not be reached", refund_id)
        status, provider_ref, message = "failed", None, f"{type(exc).__name__}: {exc}"
    services.finish_remote_refund(refund_id, status, provider_ref, message)


def settle_pending() -> int:
    """Schedule ``finance.settle_pending``: ask the providers about pending online payments
    (:func:`services.settle_pending`); returns how many changed."""
    from . import services

    report = services.settle_pending()
    changed = len(report.paid) + len(report.failed) + len(report.closed)
    if changed or report.errors:
        log.info("finance: %d paid, %d failed, %d closed, %d not settled", len(report.paid), len(report.failed),
                 len(report.closed), len(report.errors))
    return changed
