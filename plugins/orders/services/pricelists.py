"""Maintaining price lists, their items, customer groups, customers' pricing and the discount
limits of roles (permission ``orders.pricelists.manage``). Each function works in the caller's
transaction, raises a DomainError (translated) and writes the audit log."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from erp_core import audit
from erp_core.errors import DomainError, NotFound
from erp_core.extensions import db
from erp_core.money import MoneyError, format_plain, is_currency, parse_amount

from ..models import Customer, Product
from ..models_pricing import CustomerGroup, PriceList, PriceListItem, RoleDiscountLimit
from ._common import _money_reason, parse_discount, parse_quantity


def get_price_list(price_list_id) -> PriceList:
    """A price list by id, or NotFound."""
    price_list = db.session.get(PriceList, int(price_list_id)) if str(price_list_id).isdigit() else None
    if price_list is None:
        raise NotFound(_("No such price list."))
    return price_list


def _list_values(name: str, currency: str, valid_from: date | None, valid_to: date | None) -> dict:
    name = (name or "").strip()[:200]
    currency = (currency or "").strip().upper()
    if not name:
        raise DomainError(_("The price list needs a name."), field="name")
    if not is_currency(currency):
        raise DomainError(_("Unknown currency %(code)s.", code=currency), field="currency")
    if valid_from and valid_to and valid_to < valid_from:
        raise DomainError(_("The end of validity is before its start."), field="valid_to")
    return {"name": name, "currency": currency, "valid_from": valid_from, "valid_to": valid_to}


def save_price_list(price_list: PriceList | None, name: str, currency: str, valid_from: date | None = None,
                    valid_to: date | None = None, active: bool = True) -> PriceList:
    """Create (``price_list`` None) or change a price list. The currency of a list with items
    stays as it is."""
    values = _list_values(name, currency, valid_from, valid_to)
    if price_list is None:
        price_list = PriceList(**values, active=active)
        db.session.add(price_list)
        db.session.flush()
        audit.record("price_list", price_list.id, "created", after={"name": price_list.name})
        return price_list
    if values["currency"] != price_list.currency and price_list.items:
        raise DomainError(_("The currency of a list with prices cannot change."), field="currency")
    for key, value in {**values, "active": active}.items():
        setattr(price_list, key, value)
    audit.record("price_list", price_list.id, "changed", after={"name": price_list.name})
    return price_list


def set_item(price_list: PriceList, sku: str, min_quantity, unit_price: str) -> PriceListItem:
    """Set the price of a product (by SKU) from ``min_quantity`` up; replaces that break."""
    product = db.session.scalar(select(Product).where(Product.sku == (sku or "").strip().upper()))
    if product is None:
        raise DomainError(_("No product has the code %(sku)s.", sku=(sku or "").strip()), field="sku")
    try:
        quantity = parse_quantity(min_quantity)
    except DomainError as exc:
        raise DomainError(str(exc), field="min_quantity") from None
    try:
        price = parse_amount(unit_price, price_list.currency)
    except MoneyError as exc:
        raise DomainError(_("Price: %(reason)s", reason=_money_reason(exc, price_list.currency)),
                          field="unit_price") from None
    item = db.session.scalar(select(PriceListItem).where(PriceListItem.price_list_id == price_list.id,
                                                         PriceListItem.product_id == product.id,
                                                         PriceListItem.min_quantity == quantity))
    if item is None:
        item = PriceListItem(price_list_id=price_list.id, product_id=product.id, min_quantity=quantity,
                             unit_price_minor=price)
        db.session.add(item)
    item.unit_price_minor = price
    db.session.flush()
    audit.record("price_list", price_list.id, "price_set", after={
        "sku": product.sku, "min_quantity": quantity, "price": format_plain(price, price_list.currency),
        "currency": price_list.currency})
    return item


def remove_item(price_list: PriceList, item_id) -> None:
    """Remove one price (quantity break) of a list."""
    item = db.session.get(PriceListItem, int(item_id)) if str(item_id).isdigit() else None
    if item is None or item.price_list_id != price_list.id:
        raise NotFound(_("No such price."))
    db.session.delete(item)
    audit.record("price_list", price_list.id, "price_removed", after={"min_quantity": item.min_quantity})


def price_lists(active_only: bool = False) -> list[PriceList]:
    """Every price list by name (for selects)."""
    stmt = select(PriceList).order_by(PriceList.name, PriceList.id)
    if active_only:
        stmt = stmt.where(PriceList.active.is_(True))
    return list(db.session.scalars(stmt))


def get_group(group_id) -> CustomerGroup:
    """A customer group by id, or NotFound."""
    group = db.session.get(CustomerGroup, int(group_id)) if str(group_id).isdigit() else None
    if group is None:
        raise NotFound(_("No such customer group."))
    return group


def save_group(group: CustomerGroup | None, name: str, price_list_id=None, notes: str = "") -> CustomerGroup:
    """Create (``group`` None) or change a customer group; names are unique."""
    name = (name or "").strip()[:100]
    if not name:
        raise DomainError(_("The group needs a name."), field="name")
    clash = db.session.scalar(select(CustomerGroup.id).where(func.lower(CustomerGroup.name) == name.lower()))
    if clash is not None and (group is None or clash != group.id):
        raise DomainError(_("A group named %(name)s exists already.", name=name), field="name")
    list_id = get_price_list(price_list_id).id if str(price_list_id or "").strip() else None
    if group is None:
        group = CustomerGroup(name=name)
        db.session.add(group)
    group.name, group.price_list_id, group.notes = name, list_id, (notes or "").strip()[:5000]
    db.session.flush()
    audit.record("customer_group", group.id, "saved", after={"name": group.name})
    return group


def groups() -> list[CustomerGroup]:
    """Every customer group by name."""
    return list(db.session.scalars(select(CustomerGroup).order_by(CustomerGroup.name)))


def set_customer_pricing(customer: Customer, group_id=None, price_list_id=None) -> None:
    """Put a customer in a group (or none) and give it its own price list (or none)."""
    new_group = get_group(group_id).id if str(group_id or "").strip() else None
    new_list = get_price_list(price_list_id).id if str(price_list_id or "").strip() else None
    if (new_group, new_list) == (customer.group_id, customer.price_list_id):
        return
    before = {"group": customer.group_id, "price_list": customer.price_list_id}
    customer.group_id, customer.price_list_id = new_group, new_list
    audit.record("customer", customer.id, "pricing_changed", before=before,
                 after={"group": new_group, "price_list": new_list})


def delete_group(group: CustomerGroup) -> None:
    """Delete a group; its customers are left without a group."""
    db.session.execute(update(Customer).where(Customer.group_id == group.id).values(group_id=None)
                       .execution_options(synchronize_session=False))
    audit.record("customer_group", group.id, "deleted", before={"name": group.name})
    db.session.delete(group)


def discount_limits() -> dict[int, Decimal]:
    """``{role id: max percent}`` of the roles that have a limit."""
    return dict(db.session.execute(select(RoleDiscountLimit.role_id, RoleDiscountLimit.max_percent)).all())


def _refuse_above_own(value: Decimal | None, user=None) -> None:
    """Refuse (DomainError) a limit (None: no limit) above the acting user's own: nobody lets
    others give more discount than they may give themselves."""
    from .. import tax
    from .pricing import max_discount

    mine = max_discount(user)
    if mine is not None and (value is None or value > mine):
        raise DomainError(_("You may not allow more than the %(max)s%% you may give yourself.",
                            max=tax.percent_text(mine)), field="max_percent")


def set_discount_limit(role_id: int, raw, user=None) -> None:
    """Set (a percent 0-100) or clear ("" = no limit) the largest discount a role may give. A
    change may not allow more than the acting user (default: the logged-in one) may give."""
    text = str(raw if raw is not None else "").strip()
    row = db.session.get(RoleDiscountLimit, role_id)
    if not text:
        if row is not None:
            _refuse_above_own(None, user)
            db.session.delete(row)
            audit.record("role_discount_limit", role_id, "cleared", before={"max": str(row.max_percent)})
        return
    value = parse_discount(text)
    if row is not None and row.max_percent == value:
        return
    _refuse_above_own(value, user)
    if row is None:
        row = RoleDiscountLimit(role_id=role_id, max_percent=value)
        db.session.add(row)
    row.max_percent = value
    audit.record("role_discount_limit", role_id, "set", after={"max": str(value)})
