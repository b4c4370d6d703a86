"""Purchasing pages: suppliers (:mod:`.views_suppliers`), purchase orders and replenishment
(:mod:`.views_orders`), bills and the payables report (:mod:`.views_bills`), all on one blueprint (:mod:`.blueprint`)."""

from __future__ import annotations

from . import views_bills, views_orders, views_suppliers  # noqa: F401  (their routes register on bp)
from .blueprint import bp
from .views_bills import bills_widget_context
from .views_orders import late_widget_context, product_panel_context

__all__ = ["bills_widget_context", "bp", "late_widget_context", "product_panel_context"]
