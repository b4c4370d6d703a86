"""Reports of other plugins shown under Finance > Reports (``erp_finance_reports``)."""

from __future__ import annotations

from flask import current_app

from erp_core.contrib import NavItem
from erp_core.plugins import current_manager
from erp_core.security import has_permission


def other_reports() -> list[NavItem]:
    """The reports other enabled plugins add to Finance > Reports that the reader may open, in
    their ``order``; items naming an unknown endpoint are left out."""
    items = [item for item in current_manager().collect("erp_finance_reports")
             if isinstance(item, NavItem) and item.endpoint in current_app.view_functions
             and has_permission(item.permission)]
    return sorted(items, key=lambda item: (item.order, str(item.label)))
