"""Backorders: closing the rest of a partly shipped order.

What is shipped (or given to a shipment) of each line is asked of other plugins through
``erp_order_shipped_quantities`` (logistics answers from its shipments); the orders plugin
never reads their tables. Closing the rest cancels, per line, what is neither shipped nor
given to a shipment: the line keeps its ordered ``quantity`` and records ``cancelled_quantity``,
its amounts and the order's totals become those of what is delivered, the reservation is
released through ``erp_order_changed`` (inventory follows ``quantities_by_product``), and a
partly shipped order becomes shipped (delivered later as its shipments arrive).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from flask_babel import gettext as _

from erp_core import audit, webhooks
from erp_core.errors import Conflict, DomainError
from erp_core.extensions import db
from erp_core.money import format_plain, line_total, round_half_up
from erp_core.plugins import current_manager, hooks
from erp_core.timeutil import utcnow

from .. import states, tax
from ..models import Order, OrderLine
from ._common import _bump_version, _stale
from .transitions import transition

# States in which the rest of an order may be closed: something has shipped (or is packed in a
# shipment) and something is still open.
CLOSABLE = frozenset({states.CONFIRMED, states.PARTIALLY_SHIPPED})
REASON_LIMIT = 1000


def shipped_by_line(order: Order) -> dict[int, int]:
    """``{order_line_id: quantity}`` shipped or given to a shipment, as other plugins answer
    ``erp_order_shipped_quantities`` (added up; lines without an answer are absent)."""
    totals: dict[int, int] = defaultdict(int)
    for answer in current_manager().hook.erp_order_shipped_quantities(order=order):
        for line_id, quantity in (answer or {}).items():
            totals[int(line_id)] += int(quantity or 0)
    return dict(totals)


def open_quantity(line: OrderLine) -> int:
    """What of the line is still to be delivered or was delivered: ordered less cancelled."""
    return line.quantity - (line.cancelled_quantity or 0)


def rest_by_line(order: Order, shipped: dict[int, int] | None = None) -> dict[int, int]:
    """``{order_line_id: quantity}`` neither shipped, given to a shipment nor cancelled."""
    shipped = shipped_by_line(order) if shipped is None else shipped
    return {line.id: max(open_quantity(line) - shipped.get(line.id, 0), 0) for line in order.lines}


def can_close_rest(order: Order) -> bool:
    """True when the order page may offer "close the rest": the order is confirmed or partly
    shipped, something of it shipped and something is left."""
    if order.status not in CLOSABLE:
        return False
    shipped = shipped_by_line(order)
    return any(shipped.values()) and any(rest_by_line(order, shipped).values())


def close_rest(order: Order, reason: str | None, expected_version: int | None = None) -> list[dict]:
    """Cancel what is left to ship of a partly shipped ``order`` for ``reason`` (required).

    Per line the unshipped quantity becomes ``cancelled_quantity``; amounts and totals follow;
    ``erp_order_changed`` gets the negative ``quantity_delta`` (inventory releases the
    reservation there); the ``order.rest_closed`` webhook and the audit log record the lines;
    a partly shipped order then becomes shipped (one with only packed shipments stays confirmed
    until they leave). ``expected_version`` refuses a page drawn before the last change.
    Returns ``[{"line_id", "sku", "quantity"}]`` cancelled. Raises ``DomainError`` (422 for a
    missing reason) or ``Conflict`` (nothing shipped, nothing left, a stale page).
    """
    reason = (reason or "").strip()[:REASON_LIMIT]
    if expected_version is not None and int(expected_version) != order.version:
        raise _stale(order)
    if not reason:
        raise DomainError(_("Give a reason to close the rest of the order."), field="reason",
                          code="reason_required", status=422)
    if order.status not in CLOSABLE:
        raise Conflict(_("Order %(number)s is %(status)s; there is no rest to close.",
                         number=order.number, status=states.LABELS[order.status]), code="transition_refused")
    _bump_version(order, expected_version)
    shipped = shipped_by_line(order)
    if not any(shipped.values()):
        raise Conflict(_("Nothing of order %(number)s has shipped yet; cancel the order instead.",
                         number=order.number), code="nothing_shipped")
    rest = rest_by_line(order, shipped)
    if not any(rest.values()):
        raise Conflict(_("Everything of order %(number)s is shipped; nothing is left to close.",
                         number=order.number), code="nothing_left")
    old_total = order.total_minor
    cancelled = _cancel_lines(order, rest)
    db.session.flush()
    _announce(order, cancelled, old_total, reason)
    if order.status == states.PARTIALLY_SHIPPED:
        transition(order, states.SHIPPED, note=reason)
    return cancelled


def _cancel_lines(order: Order, rest: dict[int, int]) -> list[dict]:
    """Cancel ``rest`` of each line and recompute the line amounts and the order's totals."""
    cancelled = []
    for line in order.lines:
        quantity = rest.get(line.id, 0)
        if quantity:
            _scale_fixed_discounts(line, open_quantity(line) - quantity)
            line.cancelled_quantity = (line.cancelled_quantity or 0) + quantity
            cancelled.append({"line_id": line.id, "product_id": line.product_id, "sku": line.sku,
                              "quantity": quantity})
        _recompute_line(order, line)
    _recompute_totals(order)
    return cancelled


def _scale_fixed_discounts(line: OrderLine, kept: int) -> None:
    """Keep of the line's fixed discount and of its share of the order's discount the part of
    the ``kept`` quantity (of what was open), so the delivered part costs what was agreed."""
    before = open_quantity(line)
    if before <= 0:
        return
    line.line_discount_minor = round_half_up(Decimal(line.line_discount_minor or 0) * kept / before)
    line.order_discount_minor = round_half_up(Decimal(line.order_discount_minor or 0) * kept / before)


def _recompute_line(order: Order, line: OrderLine) -> None:
    """The line's amounts for what is delivered of it (ordered less cancelled), its fixed
    discounts included (never more than the line's amount)."""
    quantity = open_quantity(line)
    fixed = (line.line_discount_minor or 0) + (line.order_discount_minor or 0)
    fixed = min(fixed, line_total(line.unit_price_minor, quantity, line.discount_percent))
    amounts = tax.line_amounts(quantity, line.unit_price_minor, line.discount_percent,
                               line.tax_rate_percent, order.prices_include_tax, fixed)
    line.net_minor, line.tax_minor, line.gross_minor = amounts.net, amounts.tax, amounts.gross
    line.line_total_minor = amounts.gross


def _recompute_totals(order: Order) -> None:
    """The order's subtotal, discount, tax and total from its lines' stored amounts."""
    subtotal = sum(line.unit_price_minor * open_quantity(line) for line in order.lines)
    amount = sum(line.gross_minor if order.prices_include_tax else line.net_minor for line in order.lines)
    order.subtotal_minor, order.discount_minor = subtotal, subtotal - amount
    order.tax_minor = sum(line.tax_minor for line in order.lines)
    order.total_minor = sum(line.gross_minor for line in order.lines)
    order.updated_at = utcnow()


def _announce(order: Order, cancelled: list[dict], old_total: int, reason: str) -> None:
    """Tell other plugins (``erp_order_changed``), webhooks and the audit log what was cancelled."""
    delta: dict[int, int] = defaultdict(int)
    for item in cancelled:
        delta[item["product_id"]] -= item["quantity"]
    fields = {}
    if order.total_minor != old_total:
        fields["total"] = (format_plain(old_total, order.currency), format_plain(order.total_minor, order.currency))
    changes = {"fields": fields, "lines": {"added": [], "removed": [], "changed": []},
               "quantity_delta": dict(delta), "cancelled": [dict(item) for item in cancelled], "reason": reason}
    hooks().erp_order_changed(order=order, changes=changes)
    public = [{"line_id": c["line_id"], "sku": c["sku"], "quantity": c["quantity"]} for c in cancelled]
    webhooks.emit("order.rest_closed", order, reason=reason, cancelled=public)
    audit.record("order", order.id, "rest_closed", before={"total": old_total, "currency": order.currency},
                 after={"cancelled": [{"sku": c["sku"], "quantity": c["quantity"]} for c in cancelled],
                        "total": order.total_minor, "currency": order.currency}, note=reason)


# ----------------------------------------------------------------------------- editing the rest


def shipped_line_problems(order: Order, lines) -> dict[str, list[str]]:
    """Problems of a change of ``order``'s lines (checked lines in form order, each with
    ``line_id``, ``product`` and ``quantity``) against what is shipped or given to a shipment:
    a line's quantity never goes below that (plus what was cancelled of it), its product stays,
    and a line with shipped goods is not removed. Returns ``{field: [message]}`` (empty: fine)."""
    shipped = {line_id: q for line_id, q in shipped_by_line(order).items() if q}
    if not shipped:
        return {}
    errors: dict[str, list[str]] = {}
    by_id = {line.id: line for line in order.lines}
    kept = set()
    for index, item in enumerate(lines):
        line = by_id.get(int(item.line_id)) if item.line_id is not None else None
        if line is None or line.id not in shipped:
            continue
        kept.add(line.id)
        floor = shipped[line.id] + (line.cancelled_quantity or 0)
        if item.product.id != line.product_id:
            errors.setdefault(f"lines-{index}-product_id", []).append(
                _("%(sku)s has shipped; its product cannot change.", sku=line.sku))
        elif item.quantity < floor:
            errors.setdefault(f"lines-{index}-quantity", []).append(
                _("%(sku)s: %(shipped)s shipped already; the quantity cannot go below %(floor)s.",
                  sku=line.sku, shipped=shipped[line.id], floor=floor))
    for line_id in sorted(set(shipped) - kept):
        line = by_id.get(line_id)
        if line is not None:
            errors.setdefault("lines", []).append(
                _("%(sku)s has shipped; its line cannot be removed.", sku=line.sku))
    return errors
