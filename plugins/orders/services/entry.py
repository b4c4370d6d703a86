"""Order entry: what the forms and the API submit, its checks, and the creation of an order.

``create_order`` checks every field at once and raises :class:`OrderInvalid` listing them all;
the checks of header and lines are shared with :mod:`.editing` (changing an order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import insert, or_, select
from sqlalchemy.exc import IntegrityError

from erp_core import audit, settings, webhooks
from erp_core.db import next_counter
from erp_core.errors import Conflict, DomainError
from erp_core.extensions import db
from erp_core.money import (
    MAX_MINOR,
    MoneyError,
    format_plain,
    is_currency,
    parse_amount,
)
from erp_core.plugins import hooks
from erp_core.timeutil import to_zone, utcnow

from .. import states, tax
from ..models import Customer, Order, OrderLine, Product
from . import pricing as price_rules
from ._common import (
    MAX_LINES,
    _money_reason,
    as_id,
    check_phone,
    normalise_email,
    parse_discount,
    parse_quantity,
    phone_key,
)
from .catalogue import PossibleDuplicate, create_customer, find_duplicates
from .customers import copy_billing, customer_visible, fill_from_contact
from .invoicing import copy_customer_invoicing
from .origin import check_origin, refuse_known_ref


class OrderInvalid(DomainError):
    """Several fields of an order are wrong; ``errors`` maps field names to messages.

    Line fields are named ``lines-<index>-<field>`` (index from 0, as the form posts them); their
    messages are shown beside the field, so they do not repeat the line number. The exception's
    own message (the first problem, with its line number) sums it up.
    """

    code = "order_invalid"
    status = 422

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        key, messages = next(iter(errors.items()))
        first = messages[0]
        if key.startswith("lines-"):
            first = _("Line %(n)d: %(reason)s", n=int(key.split("-")[1]) + 1, reason=first)
        super().__init__(first if len(errors) == 1 else _("Please correct the marked fields: %(first)s", first=first))


@dataclass
class LineInput:
    """One order line as typed: prices and discounts as text, in the order's currency."""

    product_id: int | str | None  # an active product of the catalogue
    quantity: int | str  # a whole number from 1 to MAX_QUANTITY
    unit_price: str | None = None  # empty: the catalogue price
    discount: str | None = None  # percent
    discount_amount: str | None = None  # a fixed discount of the line, as an amount ("5.00")
    line_id: int | None = None  # an existing line being edited
    sku: str | None = None  # the product's code, used when no product_id is given (imports)
    tax_rate: tuple[Decimal, bool] | None = None  # (percent, exempt) kept from a quotation; None: product's rate

    def is_blank(self) -> bool:
        """True for an untouched row of the entry form (no product, quantity or price)."""
        return not any(str(v or "").strip() for v in (self.product_id, self.sku, self.quantity, self.unit_price,
                                                     self.discount, self.discount_amount, self.line_id))


@dataclass
class OrderInput:
    """What the order entry and edit forms (and the API) submit."""

    customer_id: int | str | None = None  # an existing customer (or give new_customer)
    new_customer: dict | None = None  # {"name", "phone", "email"} made inline; "confirmed": True accepts a likely duplicate
    contact_name: str = ""  # who to call about the order (default: nobody named)
    contact_phone: str = ""  # checked like a customer's phone
    contact_email: str = ""
    ship_recipient: str = ""
    ship_line1: str = ""  # required: street and number
    ship_line2: str = ""
    ship_city: str = ""
    ship_region: str = ""
    ship_postcode: str = ""
    ship_country: str = "CN"  # ISO 3166-1 alpha-2
    currency: str = ""  # ISO 4217; empty: the company's currency; every line is priced in it
    notes: str = ""
    lines: list[LineInput] = field(default_factory=list)  # at least one (blank rows are ignored)
    discount_percent: str = ""  # the order's discount: a percent, or
    discount_amount: str = ""  # an amount ("20.00"), spread over the lines before tax
    entry_key: str | None = None  # random key of the entry form: a second post of it is refused
    channel: str = ""  # a code of plugins.orders.channels; empty: the default channel
    external_ref: str = ""  # the order's number in its channel (unique per channel); may stay empty
    contact_id: int | str | None = None  # a contact person of the customer: fills the blank contact fields
    # The typed prices and discounts were agreed before and approved there (an accepted quotation):
    # the price-override permission and the role's discount limit are not asked again.
    agreed_prices: bool = False


HEADER_FIELDS = ("contact_name", "contact_phone", "contact_email", "ship_recipient", "ship_line1", "ship_line2",
                 "ship_city", "ship_region", "ship_postcode", "ship_country", "notes")
_LIMITS = {"contact_name": 200, "contact_phone": 40, "contact_email": 200, "ship_recipient": 200,
           "ship_line1": 300, "ship_line2": 300, "ship_city": 120, "ship_region": 120, "ship_postcode": 20,
           "ship_country": 2, "notes": 5000}


@dataclass
class _CheckedLine:
    line_id: int | None
    product: Product
    quantity: int
    unit_price_minor: int
    discount: Decimal
    tax_percent: Decimal  # the rate's snapshot (0 when exempt or without a rate)
    tax_exempt: bool
    amounts: tax.LineAmounts  # net, tax and gross (gross is what the customer pays)
    include_tax: bool  # the unit price includes tax
    line_discount: int = 0  # the line's fixed discount (minor units)
    order_share: int = 0  # its share of the order's discount

    @property
    def amount_before_order_discount(self) -> int:
        """The line's amount after its own discounts, before the order's."""
        return self.amount + self.order_share

    def reprice(self, order_share: int) -> None:
        """Take ``order_share`` of the order's discount and compute the amounts again."""
        self.order_share = order_share
        self.amounts = tax.line_amounts(self.quantity, self.unit_price_minor, self.discount, self.tax_percent,
                                        self.include_tax, self.line_discount + order_share)

    @property
    def total(self) -> int:
        """What the customer pays for the line (its gross amount)."""
        return self.amounts.gross

    @property
    def amount(self) -> int:
        """The line's discounted amount as priced: the gross when prices include tax, else the net."""
        return self.amounts.gross if self.include_tax else self.amounts.net


def _check_header(data: OrderInput, errors: dict) -> dict:
    values = {}
    for name in HEADER_FIELDS:
        values[name] = (getattr(data, name) or "").strip()[:_LIMITS[name]]
    values["ship_country"] = (values["ship_country"] or "CN").upper()
    if values["contact_email"]:
        try:
            values["contact_email"] = normalise_email(values["contact_email"])
        except DomainError as exc:
            errors.setdefault("contact_email", []).append(str(exc))
    if not values["ship_line1"]:
        errors.setdefault("ship_line1", []).append(_("The shipping address needs a street line."))
    return values


class _LineProblem(Exception):
    """A line is wrong: ``field`` (``product_id``, ``quantity``...) and the message shown beside it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


@dataclass
class _Pricing:
    """How the lines of one order are taxed: whether prices include tax, each product's rate,
    and the rates kept by the order's existing lines (``{line id: (product id, percent, exempt)}``)."""

    include_tax: bool
    rates: dict[int, object] = field(default_factory=dict)
    kept: dict[int, tuple[int, Decimal, bool]] = field(default_factory=dict)
    book: price_rules.PriceBook = field(default_factory=price_rules.PriceBook)  # the customer's list prices
    kept_prices: dict[int, int] = field(default_factory=dict)  # {line id: its stored unit price}
    discount_limit: Decimal | None = None  # the largest discount percent the user may give
    agreed: bool = False  # prices and discounts agreed before (an accepted quotation): not checked again

    def rate_of(self, line: LineInput, product: Product) -> tuple[Decimal, bool]:
        """``(percent, exempt)`` of a line: an existing line of the same product keeps its
        stored rate; a line given its own ``tax_rate`` keeps it; any other takes the product's
        rate (none: 0 %)."""
        if line.tax_rate is not None and line.line_id is None:
            return Decimal(line.tax_rate[0]), bool(line.tax_rate[1])
        if line.line_id is not None:
            kept = self.kept.get(int(line.line_id))
            if kept is not None and kept[0] == product.id:
                return kept[1], kept[2]
        rate = self.rates.get(product.id)
        if rate is None:
            return Decimal(0), False
        return (Decimal(0) if rate.exempt else Decimal(rate.percent)), bool(rate.exempt)


def _check_lines(data: OrderInput, currency: str, errors: dict, include_tax: bool,
                 existing: dict[int, OrderLine] | None = None, customer_id=None) -> list[_CheckedLine]:
    """The lines of ``data`` checked against the catalogue, priced in ``currency`` and taxed
    (prices including tax or not); lines of ``existing`` (by id) keep their stored rate.

    Problems go into ``errors`` under ``lines`` (none or too many lines) or
    ``lines-<index>-<field>`` (the first problem of each line); a wrong line is left out.
    """
    if not data.lines:
        errors.setdefault("lines", []).append(_("Add at least one line."))
        return []
    if len(data.lines) > MAX_LINES:
        errors.setdefault("lines", []).append(_("An order has at most %(n)d lines.", n=MAX_LINES))
        return []
    products, by_sku = _products_of(data.lines)
    pricing = _Pricing(include_tax, tax.rates_for_products(products.values()),
                       {line.id: (line.product_id, Decimal(line.tax_rate_percent), bool(line.tax_exempt))
                        for line in (existing or {}).values()},
                       price_rules.price_book(customer_id or data.customer_id, currency, products),
                       {line.id: line.unit_price_minor for line in (existing or {}).values()},
                       None if data.agreed_prices else price_rules.max_discount(), data.agreed_prices)
    checked = []
    for index, line in enumerate(data.lines):
        try:
            checked.append(_check_line(line, products, by_sku, currency, pricing))
        except _LineProblem as problem:
            errors.setdefault(f"lines-{index}-{problem.field}", []).append(problem.message)
    return checked


def _products_of(lines: list[LineInput]) -> tuple[dict[int, Product], dict[str, Product]]:
    """The products the lines name, by id and by SKU, in one query whatever the number of lines."""
    ids = {key for key in (as_id(line.product_id) for line in lines) if key is not None}
    skus = {(line.sku or "").strip().upper() for line in lines
            if not str(line.product_id or "").strip() and (line.sku or "").strip()}
    products, by_sku = {}, {}
    if ids or skus:
        for product in db.session.scalars(select(Product).where(or_(Product.id.in_(ids), Product.sku.in_(skus)))):
            products[product.id] = product
            by_sku[product.sku] = product
    return products, by_sku


def _check_line(line: LineInput, products: dict[int, Product], by_sku: dict[str, Product],
                currency: str, pricing: _Pricing) -> _CheckedLine:
    """One line checked: product, quantity, price, discount and amounts, in this order.
    Raises :class:`_LineProblem` for the first thing wrong."""
    product = _line_product(line, products, by_sku)
    try:
        quantity = parse_quantity(line.quantity)
    except DomainError as exc:
        raise _LineProblem("quantity", str(exc)) from None
    price = _line_price(line, product, currency, pricing, quantity)
    try:
        discount = parse_discount(line.discount)
    except DomainError as exc:
        raise _LineProblem("discount", str(exc)) from None
    try:
        fixed = price_rules.parse_fixed(line.discount_amount, currency)
    except DomainError as exc:
        raise _LineProblem("discount_amount", str(exc)) from None
    try:
        price_rules.check_line_discount(quantity, price, discount, fixed, pricing.discount_limit)
    except DomainError as exc:
        raise _LineProblem("discount", str(exc)) from None
    percent, exempt = pricing.rate_of(line, product)
    try:
        amounts = tax.line_amounts(quantity, price, discount, percent, pricing.include_tax, fixed)
    except MoneyError:
        raise _LineProblem("discount_amount", _("The discount exceeds the amount of the line.")) from None
    if amounts.gross >= MAX_MINOR:
        raise _LineProblem("quantity", _("The amount of this line is too large."))
    return _CheckedLine(line.line_id, product, quantity, price, discount, percent, exempt, amounts,
                        pricing.include_tax, fixed)


def _line_product(line: LineInput, products: dict[int, Product], by_sku: dict[str, Product]) -> Product:
    """The product a line names by id or, without an id, by SKU; :class:`_LineProblem` if none."""
    raw_id = str(line.product_id or "").strip()
    raw_sku = (line.sku or "").strip().upper()
    if raw_id:
        product = products.get(as_id(raw_id))
    else:
        product = by_sku.get(raw_sku) if raw_sku else None
    if product is not None:
        return product
    if raw_sku and not raw_id:
        raise _LineProblem("product_id", _("No product has the code %(sku)s.", sku=raw_sku))
    if raw_id:
        raise _LineProblem("product_id", _("Unknown product."))
    raise _LineProblem("product_id", _("Choose a product from the catalogue."))


def _line_price(line: LineInput, product: Product, currency: str, pricing: _Pricing, quantity: int) -> int:
    """The line's unit price in minor units: as typed (a change from the list or catalogue price
    needs the right to override prices), or else the customer's price list's, or else the
    catalogue's (which needs the product on sale, or the line already on the order, and priced in
    the order's currency)."""
    if (line.unit_price or "").strip():
        try:
            typed = parse_amount(line.unit_price, currency)
        except MoneyError as exc:
            raise _LineProblem("unit_price", _("Price: %(reason)s", reason=_money_reason(exc, currency))) from None
        kept = pricing.kept_prices.get(int(line.line_id)) if line.line_id is not None else None
        try:
            if not pricing.agreed:
                price_rules.check_price(typed, price_rules.reference_price(pricing.book, product, quantity, currency),
                                        kept, product.price_minor if product.currency == currency else None)
        except DomainError as exc:
            raise _LineProblem("unit_price", str(exc)) from None
        return typed
    if not product.active and line.line_id is None:
        raise _LineProblem("product_id", _("%(sku)s is no longer sold.", sku=product.sku))
    listed = pricing.book.price(product.id, quantity)
    if listed is not None:
        return listed
    if product.currency != currency:
        raise _LineProblem("unit_price", _(
            "%(sku)s is priced in %(theirs)s but the order is in %(ours)s; type the price in %(ours)s.",
            sku=product.sku, theirs=product.currency, ours=currency))
    return product.price_minor


@dataclass(frozen=True)
class _Totals:
    """An order's figures from its checked lines (see the columns of :class:`Order`)."""

    subtotal: int  # price x quantity before discounts, as priced
    discount: int  # subtotal less the discounted amounts
    tax: int  # the lines' tax summed
    total: int  # the lines' gross summed: what the customer pays


def _totals(lines: list[_CheckedLine]) -> _Totals:
    subtotal = sum(line.unit_price_minor * line.quantity for line in lines)
    return _Totals(subtotal=subtotal, discount=subtotal - sum(line.amount for line in lines),
                   tax=sum(line.amounts.tax for line in lines), total=sum(line.total for line in lines))


def _resolve_customer(data: OrderInput, errors: dict, create: bool = True) -> Customer | None:
    """The order's customer: an existing one, or a new one typed inline (created only when
    ``create``; otherwise its fields are only checked)."""
    new = data.new_customer or {}
    if any((new.get(k) or "").strip() for k in ("name", "phone", "email")):
        try:
            if not create:
                if not (new.get("name") or "").strip():
                    raise DomainError(_("The customer needs a name."), field="name")
                check_phone(new.get("phone"))
                normalise_email(new.get("email"))
                if not new.get("confirmed", True) and find_duplicates(new.get("phone"), new.get("email")):
                    raise PossibleDuplicate(find_duplicates(new.get("phone"), new.get("email")))
                return None
            return create_customer(new.get("name", ""), new.get("phone", ""), new.get("email", ""),
                                   allow_duplicate=bool(new.get("confirmed", True)))
        except PossibleDuplicate as exc:
            errors.setdefault("new_customer-duplicate", []).append(str(exc))
            return None
        except DomainError as exc:
            errors.setdefault("new_customer-" + (exc.field or "name"), []).append(str(exc))
            return None
    raw = str(data.customer_id or "").strip()
    customer = db.session.get(Customer, int(raw)) if raw.isdigit() else None
    if customer is not None and not customer_visible(customer):
        customer = None
    if customer is None:
        errors.setdefault("customer_id", []).append(
            _("Choose a customer or enter a new one.") if not raw else _("Unknown customer."))
    return customer


def next_order_number() -> str:
    """SO-<year>-<000123>: gap-free per year of the company's calendar, safe under concurrency."""
    year = to_zone(utcnow(), settings.company_timezone()).year
    return f"SO-{year}-{next_counter(db.session, f'orders.number.{year}'):06d}"


def create_order(data: OrderInput) -> Order:
    """Create a draft order with its lines. Raises OrderInvalid listing every bad field."""
    errors: dict[str, list[str]] = {}
    entry_key = (data.entry_key or "").strip()[:64] or None
    if entry_key:
        saved = db.session.scalar(select(Order.number).where(Order.entry_key == entry_key))
        if saved:
            raise Conflict(_("This form was already sent: it created order %(number)s. Nothing more was saved.",
                             number=saved), code="already_saved")
    currency = (data.currency or settings.company_currency()).strip().upper()
    if not is_currency(currency):
        errors.setdefault("currency", []).append(_("Unknown currency %(code)s.", code=currency))
    header = _check_header(data, errors)
    header.update(check_origin(data.channel, data.external_ref, errors))
    include_tax = tax.prices_include_tax()
    lines = _check_lines(data, currency, errors, include_tax) if "currency" not in errors else []
    discount = price_rules.apply_order_discount(data, lines, currency, errors)
    with db.session.no_autoflush:
        # A new customer is created only when everything else is right.
        customer = _resolve_customer(data, errors, create=not errors)
    if errors:
        raise OrderInvalid(errors)
    if str(data.contact_id or "").strip():
        try:
            fill_from_contact(header, customer, data.contact_id)
        except DomainError as exc:
            raise OrderInvalid({"contact_id": [str(exc)]}) from None
    if not header["contact_name"]:
        header["contact_name"] = customer.name
    if not header["contact_phone"]:
        header["contact_phone"] = customer.phone or ""
    totals = _totals(lines)
    if totals.total >= MAX_MINOR:
        raise OrderInvalid({"lines": [_("The order total is too large.")]})
    total = totals.total
    now = utcnow()
    user_id, _name = audit.current_actor()
    order = Order(number=next_order_number(), status=states.DRAFT, customer=customer, currency=currency,
                  contact_phone_key=phone_key(header["contact_phone"]), subtotal_minor=totals.subtotal,
                  discount_minor=totals.discount, tax_minor=totals.tax, total_minor=total,
                  prices_include_tax=include_tax, created_at=now, updated_at=now,
                  created_by_id=user_id, version=1, entry_key=entry_key, **header,
                  **discount.header())
    try:
        with db.session.begin_nested():
            db.session.add(order)
            db.session.flush()
    except IntegrityError:  # the same form, or the same channel's order, posted twice at the same moment
        refuse_known_ref(header["channel"], header["external_ref"])
        raise Conflict(_("This form was already sent; nothing more was saved."), code="already_saved") from None
    _insert_lines(order, [_line_row(order, position, item) for position, item in enumerate(lines, start=1)])
    copy_customer_invoicing(order, customer)
    copy_billing(order, customer)
    hooks().erp_order_created(order=order)
    webhooks.emit("order.created", order)
    audit.record("order", order.id, "created", after={"number": order.number, "customer": customer.name,
                                                     "lines": len(lines), "total": format_plain(total, currency),
                                                     "currency": currency})
    return order


def _line_row(order: Order, position: int, item: _CheckedLine) -> dict:
    return {"order_id": order.id, "position": position, "product_id": item.product.id, "sku": item.product.sku,
            "name": item.product.name, "spec": item.product.spec, "unit": item.product.unit,
            "quantity": item.quantity, "unit_price_minor": item.unit_price_minor, "discount_percent": item.discount,
            "line_discount_minor": item.line_discount, "order_discount_minor": item.order_share,
            "line_total_minor": item.total, "tax_rate_percent": item.tax_percent, "tax_exempt": item.tax_exempt,
            "net_minor": item.amounts.net, "tax_minor": item.amounts.tax, "gross_minor": item.amounts.gross}


def _insert_lines(order: Order, rows: list[dict]) -> None:
    """Insert order lines in one executemany statement, whatever their number (a flush of new
    ORM objects would insert them one by one on SQLite, to read back each id), then let
    ``order.lines`` load again (one SELECT) when next used."""
    if rows:
        db.session.execute(insert(OrderLine), rows)
    db.session.expire(order, ["lines"])
