"""Changing an order that has not shipped: header, customer (drafts only) and lines.

The changes are told to other plugins through ``erp_order_changed`` (inventory moves the
reservation there) and the ``order.changed`` webhook, and audited.
"""

from __future__ import annotations

from collections import defaultdict
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
from ..models import Order, OrderLine
from ._common import _bump_version, phone_key
from .entry import (
    OrderInput,
    OrderInvalid,
    _check_header,
    _check_lines,
    _insert_lines,
    _line_row,
    _resolve_customer,
    _totals,
)


def _line_snapshot(line: OrderLine) -> dict:
    return {"sku": line.sku, "quantity": line.quantity, "price": line.unit_price_minor,
            "discount": str(Decimal(line.discount_percent).quantize(Decimal("0.01")))}


def update_order(order: Order, data: OrderInput, expected_version: int | None) -> dict:
    """Change lines, quantities, address and contact of an order that has not shipped yet.

    ``expected_version`` is the version the form was drawn from; a stale form is refused. The
    currency and (after confirmation) the customer stay as they are. Returns the changes, which
    are also given to ``erp_order_changed`` (inventory moves the reservation there).
    """
    if order.status not in states.EDITABLE:
        raise Conflict(_("Order %(number)s can no longer be changed: it is %(status)s. Shipped goods come back through a return.",
                         number=order.number, status=states.LABELS[order.status]))
    _bump_version(order, expected_version)
    errors: dict[str, list[str]] = {}
    header = _check_header(data, errors)
    lines = _check_lines(data, order.currency, errors)
    existing = {line.id: line for line in order.lines}
    for index, line in enumerate(data.lines):
        if line.line_id is not None and int(line.line_id) not in existing:
            errors.setdefault(f"lines-{index}-product_id", []).append(
                _("This line was removed from the order meanwhile; reload the page."))
    new_customer = None
    if order.status == states.DRAFT and str(data.customer_id or "").strip() and \
            str(data.customer_id).strip() != str(order.customer_id):
        new_customer = _resolve_customer(data, errors)
    if errors:
        raise OrderInvalid(errors)

    field_changes = {}
    if new_customer is not None:
        field_changes["customer"] = (order.customer.name, new_customer.name)
        order.customer = new_customer
    for name, value in header.items():
        if getattr(order, name) != value:
            field_changes[name] = (getattr(order, name), value)
            setattr(order, name, value)
    order.contact_phone_key = phone_key(order.contact_phone)

    delta: dict[int, int] = defaultdict(int)
    added, removed, changed, new_rows = [], [], [], []
    kept_ids = set()
    for position, item in enumerate(lines, start=1):
        if item.line_id is not None and int(item.line_id) in existing:
            line = existing[int(item.line_id)]
            kept_ids.add(line.id)
            before = _line_snapshot(line)
            if line.product_id != item.product.id:
                delta[line.product_id] -= line.quantity
                delta[item.product.id] += item.quantity
                line.product_id, line.sku, line.name = item.product.id, item.product.sku, item.product.name
                line.spec, line.unit = item.product.spec, item.product.unit
            else:
                delta[line.product_id] += item.quantity - line.quantity
            line.quantity, line.unit_price_minor = item.quantity, item.unit_price_minor
            line.discount_percent, line.line_total_minor = item.discount, item.total
            line.position = position
            after = _line_snapshot(line)
            if before != after:
                changed.append({"before": before, "after": after})
        else:
            new_rows.append(_line_row(order, position, item))
            delta[item.product.id] += item.quantity
            added.append({"sku": item.product.sku, "quantity": item.quantity, "price": item.unit_price_minor,
                          "discount": str(item.discount)})
    removed_lines = [line for line_id, line in existing.items() if line_id not in kept_ids]
    for line in removed_lines:
        removed.append(_line_snapshot(line))
        delta[line.product_id] -= line.quantity

    subtotal, discount, total = _totals(lines)
    if total >= MAX_MINOR:
        raise OrderInvalid({"lines": [_("The order total is too large.")]})
    if total != order.total_minor:
        field_changes["total"] = (format_plain(order.total_minor, order.currency), format_plain(total, order.currency))
    order.subtotal_minor, order.discount_minor, order.total_minor = subtotal, discount, total
    order.updated_at = utcnow()
    db.session.flush()  # the changed lines: one executemany UPDATE per set of changed columns
    if removed_lines:
        db.session.execute(delete(OrderLine).where(OrderLine.id.in_([line.id for line in removed_lines]))
                           .execution_options(synchronize_session=False))
        for line in removed_lines:
            db.session.expunge(line)
    _insert_lines(order, new_rows)
    changes = {"fields": field_changes, "lines": {"added": added, "removed": removed, "changed": changed},
               "quantity_delta": {pid: d for pid, d in delta.items() if d}}
    if field_changes or added or removed or changed:
        hooks().erp_order_changed(order=order, changes=changes)
        webhooks.emit("order.changed", order, changes=changes)
        after = {k: v[1] for k, v in field_changes.items()}
        if added or removed or changed:
            # Kept structured so that the order page can show it in the reader's language.
            after["lines"] = {"added": added, "removed": removed, "changed": changed}
        audit.record("order", order.id, "changed", before={k: v[0] for k, v in field_changes.items()},
                     after=after, note=_describe_line_changes(added, removed, changed, order.currency))
    return changes



def _describe_line_changes(added, removed, changed, currency) -> str | None:
    """A compact, language-neutral summary for the audit log: ``+ SKU x 4; ~ SKU: quantity 2 -> 5``."""
    def show(key, value):
        return format_plain(value, currency) if key == "price" else value

    parts = []
    for item in added:
        parts.append(f"+ {item['sku']} x {item['quantity']}")
    for item in removed:
        parts.append(f"- {item['sku']} x {item['quantity']}")
    for item in changed:
        b, a = item["before"], item["after"]
        details = [f"{k} {show(k, b[k])} -> {show(k, a[k])}" for k in ("sku", "quantity", "price", "discount")
                   if b[k] != a[k]]
        parts.append(f"~ {a['sku']}: " + ", ".join(details))
    return "; ".join(parts) or None

