"""Presentation helpers: audit entries of orders and customers as readable timeline items in
the reader's language (the audit log stores field names and status codes)."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from babel.dates import format_skeleton
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from erp_core import audit
from erp_core.money import format_plain

from . import states

FIELD_LABELS = {
    "customer": _l("Customer"),
    "contact_name": _l("Contact name"),
    "contact_phone": _l("Contact phone"),
    "contact_email": _l("Contact e-mail"),
    "ship_recipient": _l("Recipient"),
    "ship_line1": _l("Street address"),
    "ship_line2": _l("Address line 2"),
    "ship_city": _l("City"),
    "ship_region": _l("Province / region"),
    "ship_postcode": _l("Postcode"),
    "ship_country": _l("Country"),
    "notes": _l("Notes"),
    "total": _l("Total"),
    "name": _l("Name"),
    "phone": _l("Phone"),
    "email": _l("E-mail"),
    "address": _l("Address"),
    "number": _l("Order number"),
    "lines": _l("Lines"),
    "currency": _l("Currency"),
    "sku": _l("Code (SKU)"),
    "spec": _l("Specification"),
    "unit": _l("Unit"),
    "price": _l("Price"),
    "active": _l("Sold (active)"),
}

ACTION_LABELS = {
    "created": _l("Created"),
    "changed": _l("Changed"),
    "imported": _l("Imported"),
    "address_added": _l("Address added"),
    "address_changed": _l("Address changed"),
    "address_removed": _l("Address removed"),
}


def _label(key) -> str:
    return str(FIELD_LABELS.get(key, key))


def _relabel(values):
    if not isinstance(values, dict):
        return values
    return {_label(k): v for k, v in values.items()}


def _line_text(item: dict, currency: str) -> str:
    text = _("%(quantity)s × %(price)s", quantity=item["quantity"], price=format_plain(item["price"], currency))
    discount = Decimal(str(item.get("discount") or "0"))
    if discount:
        percent = f"{discount.normalize():f}"
        text += " " + _("(−%(discount)s%%)", discount=percent)
    return text


def _line_changes(lines: dict, currency: str) -> tuple[dict, dict]:
    before, after = {}, {}
    for item in lines.get("added", []):
        key = _("Line %(sku)s", sku=item["sku"])
        before[key], after[key] = None, _line_text(item, currency)
    for item in lines.get("removed", []):
        key = _("Line %(sku)s", sku=item["sku"])
        before[key], after[key] = _line_text(item, currency), _("removed")
    for item in lines.get("changed", []):
        key = _("Line %(sku)s", sku=item["after"]["sku"])
        before[key], after[key] = _line_text(item["before"], currency), _line_text(item["after"], currency)
    return before, after


def order_timeline(order) -> list[SimpleNamespace]:
    """The order's audit entries, oldest first, ready for the ``timeline`` macro."""
    items = []
    for entry in audit.timeline("order", order.id):
        before, after, note = entry.before, entry.after, entry.note
        label = ACTION_LABELS.get(entry.action, entry.action)
        if entry.action == "status_changed" and isinstance(before, dict) and isinstance(after, dict):
            old, new = before.get("status"), after.get("status")
            label = f"{states.LABELS.get(old, old)} → {states.LABELS.get(new, new)}"
            before = after = None
        elif entry.action == "created" and isinstance(after, dict):
            shown = {_("Customer"): after.get("customer"), _("Lines"): after.get("lines")}
            if after.get("total") is not None:
                shown[_("Total")] = f"{after.get('total')} {after.get('currency', '')}".strip()
            before, after = None, shown
        elif entry.action == "changed" and isinstance(after, dict):
            after = dict(after)
            lines = after.pop("lines", None)
            before, after = _relabel(before or {}), _relabel(after)
            if lines:
                line_before, line_after = _line_changes(lines, order.currency)
                before.update(line_before)
                after.update(line_after)
                note = None  # the same facts as the structured list above
        else:
            before, after = _relabel(before), _relabel(after)
        items.append(SimpleNamespace(action=str(label), at=entry.at, actor_name=entry.actor_name,
                                     before=before, after=after, note=note))
    return items


def record_timeline(object_type: str, object_id) -> list[SimpleNamespace]:
    """Audit entries of a customer or product, with translated field names."""
    return [SimpleNamespace(action=str(ACTION_LABELS.get(e.action, e.action)), at=e.at, actor_name=e.actor_name,
                            before=_relabel(e.before), after=_relabel(e.after), note=e.note)
            for e in audit.timeline(object_type, object_id)]


def daily_chart(days) -> dict:
    """``[(date, count)]`` as the labels and values of the dashboard's bar chart."""
    locale = get_locale() or "en"
    return {"labels": [format_skeleton("MMMd", d, locale=locale) for d, _n in days], "counts": [n for _d, n in days]}
