"""Pricing rules of order entry: the price a customer gets, who may change it, how large a
discount one may give, and the order-level discount spread over the lines.

- The price of a line typed without a price: the customer's own price list, else its group's
  (the first of them with a price for the product), the largest quantity break not above the
  quantity; the list must be active, valid today (company calendar) and in the order's
  currency. Without such a price: the catalogue's.
- A typed price that differs from that price needs the permission ``orders.price.override``
  (a kept line keeping its stored price does not).
- The discount of a line (its percent and its fixed amount together, as a percent of price x
  quantity) and the order's discount may not exceed the largest limit of the user's roles
  (:class:`~plugins.orders.models_pricing.RoleDiscountLimit`; a role without one has no limit).
- The order's discount (a percent or an amount) is spread over the lines in proportion to
  their discounted amounts by :func:`plugins.orders.tax.spread`, before tax.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from flask import has_request_context
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from erp_core import settings
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.money import MoneyError, format_money, line_total, parse_amount, round_half_up
from erp_core.timeutil import to_zone, utcnow

from .. import tax
from ..models import Customer, Product
from ..models_pricing import CustomerGroup, PriceList, PriceListItem, RoleDiscountLimit
from ._common import _money_reason, as_id, parse_discount

OVERRIDE_PERMISSION = "orders.price.override"
HUNDRED = Decimal(100)


def today():
    """Today's date in the company's calendar (price lists are valid by date)."""
    return to_zone(utcnow(), settings.company_timezone()).date()


def list_is_valid(price_list: PriceList | None, currency: str, on=None) -> bool:
    """True when ``price_list`` applies to an order in ``currency`` on the date ``on`` (today)."""
    if price_list is None or not price_list.active or price_list.currency != currency:
        return False
    on = on or today()
    return ((price_list.valid_from is None or price_list.valid_from <= on)
            and (price_list.valid_to is None or on <= price_list.valid_to))


@dataclass
class PriceBook:
    """The list prices one customer gets in one currency: ``{product id: [(min qty, price)...]}``
    (largest break first) and the name of the list each product's prices come from."""

    breaks: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    sources: dict[int, str] = field(default_factory=dict)

    def price(self, product_id: int, quantity: int) -> int | None:
        """The list price of ``quantity`` of a product, or None when no list prices it."""
        for min_quantity, price in self.breaks.get(product_id, ()):
            if min_quantity <= quantity:
                return price
        return None


def customer_lists(customer: Customer | None, currency: str) -> list[PriceList]:
    """The valid lists of a customer in ``currency``: its own first, then its group's."""
    if customer is None:
        return []
    lists = []
    if customer.price_list_id is not None:
        lists.append(db.session.get(PriceList, customer.price_list_id))
    if customer.group_id is not None:
        group = db.session.get(CustomerGroup, customer.group_id)
        if group is not None and group.price_list_id is not None:
            lists.append(db.session.get(PriceList, group.price_list_id))
    on = today()
    return [pl for pl in lists if list_is_valid(pl, currency, on)]


def price_book(customer_id, currency: str, product_ids) -> PriceBook:
    """The :class:`PriceBook` of a customer (id, or text of one) for ``product_ids``, in one
    query whatever the number of products. An unknown customer gets an empty book."""
    key = as_id(customer_id)
    customer = db.session.get(Customer, key) if key is not None else None
    lists = customer_lists(customer, currency)
    book = PriceBook()
    ids = set(product_ids)
    if not lists or not ids:
        return book
    rank = {pl.id: index for index, pl in enumerate(lists)}
    items = db.session.scalars(select(PriceListItem).where(PriceListItem.price_list_id.in_(rank),
                                                           PriceListItem.product_id.in_(ids)))
    chosen: dict[int, int] = {}  # product id -> the rank of the list its prices come from
    for item in sorted(items, key=lambda i: (rank[i.price_list_id], -i.min_quantity)):
        best = chosen.setdefault(item.product_id, rank[item.price_list_id])
        if best == rank[item.price_list_id]:
            book.breaks.setdefault(item.product_id, []).append((item.min_quantity, item.unit_price_minor))
            book.sources[item.product_id] = lists[best].name
    return book


def reference_price(book: PriceBook, product: Product, quantity: int, currency: str) -> int | None:
    """The price a line gets without a typed one: the list's, else the catalogue's when it is in
    ``currency``; None when neither applies."""
    listed = book.price(product.id, quantity)
    if listed is not None:
        return listed
    return product.price_minor if product.currency == currency else None


def _user():
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user
    return None


def may_override(user=None) -> bool:
    """Whether the acting user (default: the logged-in one) may change a price away from the
    list or catalogue price. Jobs and the command line (no user) may."""
    user = user or _user()
    return user is None or user.can(OVERRIDE_PERMISSION)


def check_price(typed: int, reference: int | None, *allowed: int | None, user=None) -> None:
    """Refuse (DomainError) a typed price other than ``reference`` and the ``allowed`` ones (the
    catalogue price, a kept line's stored price) when the user may not override prices."""
    if reference is None or typed == reference or typed in allowed or may_override(user):
        return
    raise DomainError(_("You may not change the price (the price list or catalogue price applies); "
                        "leave the price empty or ask someone who may override prices."), field="unit_price")


def max_discount(user=None) -> Decimal | None:
    """The largest discount percent the acting user may give, or None for no limit (a user with
    every permission, a role without a limit, jobs and the command line)."""
    user = user or _user()
    if user is None or "*" in user.permission_codes():
        return None
    role_ids = [role.id for role in user.roles]
    if not role_ids:
        return Decimal(0)
    limits = dict(db.session.execute(select(RoleDiscountLimit.role_id, RoleDiscountLimit.max_percent)
                                     .where(RoleDiscountLimit.role_id.in_(role_ids))).all())
    if any(role_id not in limits for role_id in role_ids):
        return None
    return max(Decimal(v) for v in limits.values())


def _check_limit(given: int, base: int, limit: Decimal | None) -> None:
    if limit is None or base <= 0 or given <= 0:
        return
    if Decimal(given) * HUNDRED > limit * Decimal(base):
        raise DomainError(_("The discount exceeds the %(max)s%% you may give.", max=tax.percent_text(limit)),
                          field="discount")


def check_line_discount(quantity: int, price: int, percent: Decimal, fixed: int, limit: Decimal | None) -> None:
    """Refuse (DomainError) a line whose percent and fixed discounts together exceed ``limit``
    (percent of price x quantity; None: no limit)."""
    base = price * quantity
    _check_limit(base - line_total(price, quantity, percent) + fixed, base, limit)


def parse_fixed(raw, currency: str) -> int:
    """A fixed discount typed as an amount ("5.00") in minor units; empty is 0."""
    text = str(raw if raw is not None else "").strip()
    if not text:
        return 0
    try:
        return parse_amount(text, currency)
    except MoneyError as exc:
        raise DomainError(_("Discount: %(reason)s", reason=_money_reason(exc, currency))) from None


@dataclass(frozen=True)
class OrderDiscount:
    """An order's discount as typed (``percent`` or ``amount`` in minor units) and what it comes
    to (``value``, spread over the lines)."""

    percent: Decimal = Decimal(0)
    amount: int = 0
    value: int = 0

    def header(self) -> dict:
        """The order's columns."""
        return {"order_discount_percent": self.percent, "order_discount_amount_minor": self.amount}


def _parse_order_discount(percent_raw, amount_raw, currency: str, errors: dict) -> tuple[Decimal, int]:
    percent, amount = Decimal(0), 0
    try:
        percent = parse_discount(percent_raw)
    except DomainError as exc:
        errors.setdefault("discount_percent", []).append(str(exc))
    try:
        amount = parse_fixed(amount_raw, currency)
    except DomainError as exc:
        errors.setdefault("discount_amount", []).append(str(exc))
    if percent and amount:
        errors.setdefault("discount_amount", []).append(_("Give the order's discount as a percent or as an amount, not both."))
    return percent, amount


def apply_order_discount(data, lines: list, currency: str, errors: dict, user=None) -> OrderDiscount:
    """Parse the order's discount of ``data`` (``discount_percent`` or ``discount_amount``),
    check it against the user's limit and spread it over the checked ``lines`` (each gets its
    ``order_share`` and its amounts again from :func:`plugins.orders.tax.line_amounts`).
    Problems go into ``errors``; returns the :class:`OrderDiscount`."""
    percent, amount = _parse_order_discount(getattr(data, "discount_percent", ""),
                                            getattr(data, "discount_amount", ""), currency, errors)
    if not lines or not (percent or amount):
        return OrderDiscount(percent, amount, 0)
    weights = [line.amount_before_order_discount for line in lines]
    base = sum(weights)
    value = round_half_up(Decimal(base) * percent / HUNDRED) if percent else amount
    if value > base:
        errors.setdefault("discount_amount", []).append(_(
            "The order's discount (%(value)s) exceeds the amount of its lines.", value=format_money(value, currency)))
        return OrderDiscount(percent, amount, 0)
    try:
        _check_limit(value, base, max_discount(user))
    except DomainError as exc:
        errors.setdefault("discount_percent" if percent else "discount_amount", []).append(str(exc))
    for line, share in zip(lines, tax.spread(value, weights), strict=True):
        line.reprice(share)
    return OrderDiscount(percent, amount, value)


def quote(customer_id, currency: str, product_id, quantity) -> dict:
    """What the entry form shows beside a line: ``{"unit_price": "12.50" or "", "source":
    the price list's name or "", "price_minor": int or None}``."""
    from erp_core.money import format_plain

    key = as_id(product_id)
    product = db.session.get(Product, key) if key is not None else None
    try:
        qty = max(1, int(str(quantity or "1").strip()))
    except ValueError:
        qty = 1
    if product is None:
        return {"unit_price": "", "source": "", "price_minor": None}
    book = price_book(customer_id, currency, [product.id])
    price = reference_price(book, product, qty, currency)
    return {"unit_price": format_plain(price, currency) if price is not None else "",
            "source": book.sources.get(product.id, "") if book.price(product.id, qty) is not None else "",
            "price_minor": price}
