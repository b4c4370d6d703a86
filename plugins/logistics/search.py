"""Logistics' answer to the header search (``erp_search``): shipments by number or tracking
number (prefix, on their btree indexes)."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from erp_core.contrib import SearchResult
from erp_core.extensions import db
from erp_core.search import prefix
from plugins.orders.public import order_scope

from . import states
from .models import Shipment

SHIPMENTS = _l("Shipments")


def find_shipments(query: str, limit: int) -> list[Shipment]:
    """Shipments whose number or tracking number starts with ``query``, newest first; of the orders
    the logged-in user may see (``order_scope``)."""
    text = query.replace(" ", "")
    stmt = (select(Shipment).where(or_(prefix(Shipment.number, text.upper()), prefix(Shipment.tracking_number, text),
                                       prefix(Shipment.tracking_number, text.upper())),
                               order_scope(Shipment.order_id))
            .order_by(Shipment.id.desc()).limit(limit))
    return list(db.session.scalars(stmt))


def search(query: str, user, limit: int) -> list[SearchResult]:
    """The shipments matching ``query``, for a user who may see shipments."""
    if not user.can("logistics.view"):
        return []
    results = []
    for shipment in find_shipments(query, limit):
        parts = [shipment.carrier_name, shipment.tracking_number or "", str(states.STATUS_LABELS.get(shipment.status, ""))]
        results.append(SearchResult("shipment", SHIPMENTS, shipment.number,
                                    url_for("logistics.shipment", shipment_id=shipment.id),
                                    " · ".join(p for p in parts if p), order=40))
    return results
