"""Background work of finance: refunds through providers that are reached over the network.

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
