"""Scheduled work of the quotations plugin."""

from __future__ import annotations

from erp_core.extensions import db


def expire_quotations() -> int:
    """Mark sent quotations past their validity as expired; commits; how many."""
    from .services import expire_due

    count = expire_due()
    db.session.commit()
    return count
