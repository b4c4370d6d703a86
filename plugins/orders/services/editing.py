"""Changing an order that has not shipped: header, customer (drafts only) and lines.

The changes are told to other plugins through ``erp_order_changed`` (inventory moves the
reservation there) and the ``order.changed`` webhook, and audited.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import delete

from erp_core import audit, webhooks
from erp_core.errors import Conflict
from erp_core.extensions import db
from erp_core.money import MAX_MINOR, format_plain
from erp_core.plugins import hooks
from erp_core.timeutil import utcnow

from .. import states
from ..models import Customer, Order, OrderLine
from . import pricing as price_rules
from ._common import _bump_version, phone_key
from .backorders import shipped_line_problems
from .entry import (
    OrderInput,
    OrderInvalid,
    _check_header,
    _check_lines,
    _CheckedLine,
    _insert_lines,
    _line_row,
    _resolve_customer,
    _totals,
)
from .invoicing import copy_customer_invoicing


def _line_snapshot(line: OrderLine) -> dict:
    """The fields of a line that the change log shows."""
    return {"sku": line.sku, "quantity": line.quantity, "price": line.unit_price_minor,
            "discount": str(Decimal(line.discount_percent).quantize(Decimal("0.01"))),
            "discount_minor": line.line_discount_minor}


@dataclass
class _LineChanges:
    """What a change did to the lines: for the hook, the audit log and the database writes."""

    added: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)
    new_rows: list[dict] = field(default_factory=list)  # rows to insert
    removed_lines: list[OrderLine] = field(default_factory=list)  # rows to delete
    delta: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # quantity change per product

    def any(self) -> bool:
        """True when a line was added, removed or changed."""
        return bool(self.added or self.removed or self.changed)

    def summary(self) -> dict:
        """``{"added": [...], "removed": [...], "changed": [...]}`` as hooks and the log get it."""
        return {"added": self.added, "removed": self.removed, "changed": self.changed}


def update_order(order: Order, data: OrderInput, expected_version: int | None) -> dict:
    """Change lines, quantities, address and contact of an order that has not shipped yet, or
    the lines of a partly shipped one (never below what shipped or is in a shipment).

    ``expected_version`` is the version the form was drawn from; a stale form is refused. The
    currency and (after confirmation) the customer stay as they are. Returns the changes, which
    are also given to ``erp_order_changed`` (inventory moves the reservation there).
    """
    if order.status not in states.LINES_EDITABLE:
        raise Conflict(_("Order %(number)s can no longer be changed: it is %(status)s. Shipped goods come back through a return.",
                         number=order.number, status=states.LABELS[order.status]))
    _bump_version(order, expected_version)
    header, lines, existing, new_customer = _check_update(order, data)
    field_changes = _apply_header(order, header, new_customer)
    line_changes = _apply_lines(order, lines, existing)
    _apply_totals(order, lines, field_changes)
    _write_lines(order, line_changes)
    changes = {"fields": field_changes, "lines": line_changes.summary(),
               "quantity_delta": {pid: d for pid, d in line_changes.delta.items() if d}}
    if field_changes or line_changes.any():
        _announce_changes(order, changes, line_changes)
    return changes


def _check_update(order: Order, data: OrderInput) -> tuple[dict, list[_CheckedLine], dict[int, OrderLine],
                                                           Customer | None]:
    """Check every field of a change at once: the header, the lines, the lines' ids and a new
    customer. Returns the checked header and lines, the order's lines by id and the new customer
    (or None); raises :class:`OrderInvalid` listing every problem."""
    errors: dict[str, list[str]] = {}
    header = _check_header(data, errors)
    existing = {line.id: line for line in order.lines}
    lines = _check_lines(data, order.currency, errors, order.prices_include_tax, existing,
                         customer_id=data.customer_id or order.customer_id)
    header.update(price_rules.apply_order_discount(data, lines, order.currency, errors).header())
    for index, line in enumerate(data.lines):
        if line.line_id is not None and int(line.line_id) not in existing:
            errors.setdefault(f"lines-{index}-product_id", []).append(
                _("This line was removed from the order meanwhile; reload the page."))
    new_customer = _new_customer(order, data, errors)
    if not errors:  # the lines line up with the form's: check them against what shipped
        errors.update(shipped_line_problems(order, lines))
    if errors:
        raise OrderInvalid(errors)
    return header, lines, existing, new_customer


def _new_customer(order: Order, data: OrderInput, errors: dict) -> Customer | None:
    """The customer a draft moves to, or None when the order keeps its own (a confirmed order
    always does)."""
    raw = str(data.customer_id or "").strip()
    if order.status != states.DRAFT or not raw or raw == str(order.customer_id):
        return None
    return _resolve_customer(data, errors)


def _apply_header(order: Order, header: dict, new_customer: Customer | None) -> dict[str, tuple]:
    """Set the customer and the header fields; returns ``{field: (before, after)}`` of those that
    changed."""
    field_changes = {}
    if new_customer is not None:
        field_changes["customer"] = (order.customer.name, new_customer.name)
        order.customer = new_customer
        copy_customer_invoicing(order, new_customer)
    for name, value in header.items():
        if getattr(order, name) != value:
            field_changes[name] = (getattr(order, name), value)
            setattr(order, name, value)
    order.contact_phone_key = phone_key(order.contact_phone)
    return field_changes


def _apply_lines(order: Order, lines: list[_CheckedLine], existing: dict[int, OrderLine]) -> _LineChanges:
    """Change the kept lines in place and note the new and removed ones (written by
    :func:`_write_lines`), with the quantity change per product."""
    result = _LineChanges()
    kept_ids = set()
    for position, item in enumerate(lines, start=1):
        line = existing.get(int(item.line_id)) if item.line_id is not None else None
        if line is None:
            result.new_rows.append(_line_row(order, position, item))
            result.delta[item.product.id] += item.quantity
            result.added.append({"sku": item.product.sku, "quantity": item.quantity, "price": item.unit_price_minor,
                                 "discount": str(item.discount), "discount_minor": item.line_discount})
        else:
            kept_ids.add(line.id)
            _change_line(line, item, position, result)
    result.removed_lines = [line for line_id, line in existing.items() if line_id not in kept_ids]
    for line in result.removed_lines:
        result.removed.append(_line_snapshot(line))
        result.delta[line.product_id] -= line.quantity
    return result


def _change_line(line: OrderLine, item: _CheckedLine, position: int, result: _LineChanges) -> None:
    """Give an existing line the checked values of ``item`` (product, quantity, price...)."""
    before = _line_snapshot(line)
    if line.product_id != item.product.id:
        result.delta[line.product_id] -= line.quantity
        result.delta[item.product.id] += item.quantity
        line.product_id, line.sku, line.name = item.product.id, item.product.sku, item.product.name
        line.spec, line.unit = item.product.spec, item.product.unit
    else:
        result.delta[line.product_id] += item.quantity - line.quantity
    line.quantity, line.unit_price_minor = item.quantity, item.unit_price_minor
    line.discount_percent, line.line_total_minor = item.discount, item.total
    line.line_discount_minor, line.order_discount_minor = item.line_discount, item.order_share
    line.tax_rate_percent, line.tax_exempt = item.tax_percent, item.tax_exempt
    line.net_minor, line.tax_minor, line.gross_minor = item.amounts.net, item.amounts.tax, item.amounts.gross
    line.position = position
    after = _line_snapshot(line)
    if before != after:
        result.changed.append({"before": before, "after": after})


def _apply_totals(order: Order, lines: list[_CheckedLine], field_changes: dict[str, tuple]) -> None:
    """Set the order's totals from its new lines (noting a changed total); refuses a total too large."""
    totals = _totals(lines)
    total = totals.total
    if total >= MAX_MINOR:
        raise OrderInvalid({"lines": [_("The order total is too large.")]})
    if total != order.total_minor:
        field_changes["total"] = (format_plain(order.total_minor, order.currency), format_plain(total, order.currency))
    if totals.tax != order.tax_minor:
        field_changes["tax"] = (format_plain(order.tax_minor, order.currency), format_plain(totals.tax, order.currency))
    order.subtotal_minor, order.discount_minor, order.total_minor = totals.subtotal, totals.discount, total
    order.tax_minor = totals.tax
    order.updated_at = utcnow()


def _write_lines(order: Order, line_changes: _LineChanges) -> None:
    """Write the changed lines, delete the removed ones and insert the new ones, each in one
    statement whatever the number of lines."""
    db.session.flush()  # the changed lines: one executemany UPDATE per set of changed columns
    removed_lines = line_changes.removed_lines
    if removed_lines:
        db.session.execute(delete(OrderLine).where(OrderLine.id.in_([line.id for line in removed_lines]))
                           .execution_options(synchronize_session=False))
        for line in removed_lines:
            db.session.expunge(line)
    _insert_lines(order, line_changes.new_rows)


def _announce_changes(order: Order, changes: dict, line_changes: _LineChanges) -> None:
    """Tell other plugins (``erp_order_changed``), webhooks and the audit log what changed."""
    hooks().erp_order_changed(order=order, changes=changes)
    webhooks.emit("order.changed", order, changes=changes)
    field_changes = changes["fields"]
    after = {k: v[1] for k, v in field_changes.items()}
    if line_changes.any():
        # Kept structured so that the order page can show it in the reader's language.
        after["lines"] = {**line_changes.summary(), "currency": order.currency}
    audit.record("order", order.id, "changed", before={k: v[0] for k, v in field_changes.items()}, after=after)



