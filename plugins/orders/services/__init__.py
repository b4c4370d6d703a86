"""Business rules of orders: customers, products, order entry, changes and the status machine.

Every function works in the caller's transaction and raises a DomainError (with a translated
message); the caller then rolls back (a refused call may have flushed part of its work) or
commits. Other plugins
attach themselves through the hooks called here (``erp_order_created``, ``erp_order_changed``,
``erp_order_validate_transition``, ``erp_order_status_changed``), inside the same transaction.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from erp_core import audit, settings, webhooks
from erp_core.db import next_counter
from erp_core.errors import Conflict, DomainError, NotFound, ValidationProblems
from erp_core.extensions import db
from erp_core.money import MAX_MINOR, MoneyError, format_plain, is_currency, line_total, parse_amount
from erp_core.timeutil import to_zone, utcnow
from erp_core.plugins import current_manager, hooks

from . import states
from .models import Address, Customer, Order, OrderLine, Product

MAX_QUANTITY = 1_000_000
MAX_LINES = 2_000


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


# ----------------------------------------------------------------------------- helpers


def phone_key(phone: str | None) -> str:
    """Digits of a phone number (with a leading + kept), for matching and search."""
    phone = (phone or "").strip()
    digits = re.sub(r"\D", "", phone)
    return ("+" + digits) if phone.startswith("+") and digits else digits


def normalise_email(email: str | None) -> str:
    """Lower-cased and validated e-mail, or "" when empty. Raises DomainError when malformed."""
    email = (email or "").strip()
    if not email:
        return ""
    try:
        return validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise DomainError(_("%(email)s is not a valid e-mail address.", email=email), field="email") from None


def _clean(text: str | None, limit: int) -> str:
    return (text or "").strip()[:limit]


def parse_quantity(raw) -> int:
    """A whole, positive quantity within limits."""
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise DomainError(_("Quantity must be a whole number.")) from None
    if not value.is_finite() or value != value.to_integral_value():
        raise DomainError(_("Quantity must be a whole number."))
    if value <= 0:
        raise DomainError(_("Quantity must be more than zero."))
    if value > MAX_QUANTITY:
        raise DomainError(_("Quantity cannot exceed %(max)s.", max=MAX_QUANTITY))
    return int(value)


def parse_discount(raw) -> Decimal:
    """A discount percentage between 0 and 100 with at most two decimals."""
    text = str(raw if raw is not None else "").strip().rstrip("%").strip()
    if not text:
        return Decimal("0")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise DomainError(_("Discount must be a percentage between 0 and 100.")) from None
    if not value.is_finite() or value < 0 or value > 100:
        raise DomainError(_("Discount must be a percentage between 0 and 100."))
    if value != value.quantize(Decimal("0.01")):
        raise DomainError(_("Discount has at most two decimals."))
    return value.quantize(Decimal("0.01"))


# ----------------------------------------------------------------------------- customers


def find_duplicates(phone: str | None, email: str | None, exclude_id: int | None = None) -> list[Customer]:
    """Customers with the same phone digits or the same e-mail (likely the same person)."""
    conditions = []
    key = phone_key(phone)
    if len(key.lstrip("+")) >= 5:
        conditions.append(Customer.phone_key == key)
    mail = (email or "").strip().lower()
    if mail:
        conditions.append(Customer.email == mail)
    if not conditions:
        return []
    stmt = select(Customer).where(or_(*conditions)).order_by(Customer.id).limit(10)
    if exclude_id:
        stmt = stmt.where(Customer.id != exclude_id)
    return list(db.session.scalars(stmt))


class PossibleDuplicate(DomainError):
    """A new customer has the phone or e-mail of existing ones; ``matches`` lists them."""

    code = "possible_duplicate"
    status = 409

    def __init__(self, matches: list[Customer]):
        self.matches = matches
        names = ", ".join(f"{c.name} ({c.phone or c.email or '#%d' % c.id})" for c in matches[:3])
        super().__init__(_("This looks like a customer you already have: %(names)s. Use that customer, or confirm that this is somebody else.",
                           names=names), field="phone")


def check_phone(phone: str | None) -> str:
    """The phone as typed (trimmed), or a DomainError when it cannot be a phone number."""
    phone = _clean(phone, 40)
    if not phone:
        return ""
    if not re.fullmatch(r"[0-9+()\-./ \u00a0extEXT#]+", phone) or len(re.sub(r"\D", "", phone)) < 3:
        raise DomainError(_("%(phone)s is not a phone number.", phone=phone), field="phone")
    return phone


def create_customer(name: str, phone: str = "", email: str = "", notes: str = "",
                    address: dict | None = None, allow_duplicate: bool = True) -> Customer:
    """Create a customer (and its first address, made default). The name is required.

    With ``allow_duplicate=False`` a customer with the same phone digits or e-mail is refused
    with :class:`PossibleDuplicate` (the forms then ask the user to confirm).
    """
    name = _clean(name, 200)
    if not name:
        raise DomainError(_("The customer needs a name."), field="name")
    phone = check_phone(phone)
    email = normalise_email(email)
    if not allow_duplicate:
        matches = find_duplicates(phone, email)
        if matches:
            raise PossibleDuplicate(matches)
    customer = Customer(name=name, name_key=name.lower()[:200], phone=phone or None,
                        phone_key=phone_key(phone) or None, email=email or None,
                        notes=(notes or "").strip() or None)
    db.session.add(customer)
    if address and (address.get("line1") or "").strip():
        add_address(customer, address, make_default=True)
    db.session.flush()
    audit.record("customer", customer.id, "created", after={"name": name, "phone": customer.phone,
                                                           "email": customer.email})
    return customer


def update_customer(customer: Customer, name: str, phone: str, email: str, notes: str) -> None:
    """Change a customer's details (audited)."""
    name = _clean(name, 200)
    if not name:
        raise DomainError(_("The customer needs a name."), field="name")
    phone = check_phone(phone)
    before = {"name": customer.name, "phone": customer.phone, "email": customer.email, "notes": customer.notes}
    customer.name, customer.name_key = name, name.lower()[:200]  # lower() may lengthen (İ)
    customer.phone, customer.phone_key = phone or None, phone_key(phone) or None
    customer.email = normalise_email(email) or None
    customer.notes = (notes or "").strip() or None
    b, a = audit.diff(before, {"name": customer.name, "phone": customer.phone, "email": customer.email,
                               "notes": customer.notes})
    if a:
        audit.record("customer", customer.id, "changed", before=b, after=a)


ADDRESS_FIELDS = ("label", "recipient", "phone", "line1", "line2", "city", "region", "postcode", "country")
_ADDRESS_LIMITS = {"label": 60, "recipient": 200, "phone": 40, "line1": 300, "line2": 300, "city": 120,
                   "region": 120, "postcode": 20, "country": 2}


def _address_values(data: dict) -> dict:
    values = {name: _clean(data.get(name), _ADDRESS_LIMITS[name]) for name in ADDRESS_FIELDS}
    if not values["line1"]:
        raise DomainError(_("The address needs a street line."), field="line1")
    values["country"] = values["country"].upper() or "CN"
    if not re.fullmatch(r"[A-Z]{2}", values["country"]):
        raise DomainError(_("Country is a two-letter code such as CN."), field="country")
    if values["phone"]:
        try:
            values["phone"] = check_phone(values["phone"])
        except DomainError as exc:
            raise DomainError(str(exc), field="phone") from None
    return values


def add_address(customer: Customer, data: dict, make_default: bool = False) -> Address:
    """Add an address; the first one, or one marked default, becomes the default."""
    address = Address(**_address_values(data))
    if make_default or not customer.addresses:
        for other in customer.addresses:
            other.is_default = False
        address.is_default = True
    customer.addresses.append(address)
    if customer.id:
        db.session.flush()
        audit.record("customer", customer.id, "address_added", after={"address": address.one_line()})
    return address


def _address_of(customer: Customer, address_id) -> Address:
    for address in customer.addresses:
        if str(address.id) == str(address_id):
            return address
    raise NotFound(_("No such address."))


def get_address(customer: Customer, address_id) -> Address:
    """One of the customer's addresses; NotFound when it belongs to nobody or someone else."""
    return _address_of(customer, address_id)


def update_address(customer: Customer, address_id: int, data: dict, make_default: bool = False) -> Address:
    """Change one of the customer's addresses (audited)."""
    address = _address_of(customer, address_id)
    before = address.one_line()
    for name, value in _address_values(data).items():
        setattr(address, name, value)
    if make_default:
        set_default_address(customer, address.id)
    if address.one_line() != before:
        audit.record("customer", customer.id, "address_changed", before={"address": before},
                     after={"address": address.one_line()})
    return address


def delete_address(customer: Customer, address_id: int) -> None:
    """Remove an address; when it was the default the next one becomes default. Orders keep
    their own copy of the address, so old orders are not affected."""
    address = _address_of(customer, address_id)
    was_default = address.is_default
    customer.addresses.remove(address)
    if was_default and customer.addresses:
        customer.addresses[0].is_default = True
    audit.record("customer", customer.id, "address_removed", before={"address": address.one_line()})


def set_default_address(customer: Customer, address_id: int) -> None:
    """Make one of the customer's addresses the default."""
    chosen = _address_of(customer, address_id)
    for address in customer.addresses:
        address.is_default = address is chosen


def get_customer(customer_id) -> Customer:
    customer = db.session.get(Customer, customer_id) if str(customer_id).isdigit() else None
    if customer is None:
        raise NotFound(_("No such customer."), field="customer_id")
    return customer


# ----------------------------------------------------------------------------- products


def create_product(sku: str, name: str, price: str, currency: str | None = None, spec: str = "",
                   unit: str = "pcs", active: bool = True) -> Product:
    """Add a product to the catalogue. The SKU is unique (case-insensitively)."""
    values = _product_values(sku, name, price, currency, spec, unit)
    if db.session.scalar(select(Product.id).where(Product.sku == values["sku"])):
        raise Conflict(_("The code %(sku)s is already used by another product.", sku=values["sku"]), field="sku")
    product = Product(name_key=values["name"].lower()[:200], active=active, **values)
    db.session.add(product)
    db.session.flush()
    audit.record("product", product.id, "created", after={
        "sku": product.sku, "name": product.name, "price": format_plain(product.price_minor, product.currency),
        "currency": product.currency})
    return product


def update_product(product: Product, sku: str, name: str, price: str, currency: str | None = None,
                   spec: str = "", unit: str = "pcs", active: bool = True) -> dict:
    """Change a catalogue entry (audited). Orders keep their own copy of code, name and price."""
    values = _product_values(sku, name, price, currency or product.currency, spec, unit)
    if values["sku"] != product.sku and db.session.scalar(
            select(Product.id).where(Product.sku == values["sku"], Product.id != product.id)):
        raise Conflict(_("The code %(sku)s is already used by another product.", sku=values["sku"]), field="sku")
    before = {"sku": product.sku, "name": product.name, "spec": product.spec, "unit": product.unit,
              "price": format_plain(product.price_minor, product.currency), "currency": product.currency,
              "active": product.active}
    for key, value in values.items():
        setattr(product, key, value)
    product.name_key = product.name.lower()[:200]
    product.active = bool(active)
    after = {"sku": product.sku, "name": product.name, "spec": product.spec, "unit": product.unit,
             "price": format_plain(product.price_minor, product.currency), "currency": product.currency,
             "active": product.active}
    b, a = audit.diff(before, after)
    if a:
        audit.record("product", product.id, "changed", before=b, after=a)
    return a


def _product_values(sku, name, price, currency, spec, unit) -> dict:
    sku = _clean(sku, 64).upper()
    name = _clean(name, 200)
    currency = (currency or settings.company_currency()).strip().upper()
    if not sku:
        raise DomainError(_("The product needs a code (SKU)."), field="sku")
    if not re.fullmatch(r"\w[\w./\-]*", sku):
        raise DomainError(_("A code uses letters, digits and . _ / - only, without spaces."), field="sku")
    if not name:
        raise DomainError(_("The product needs a name."), field="name")
    if not is_currency(currency):
        raise DomainError(_("Unknown currency %(code)s.", code=currency), field="currency")
    try:
        price_minor = parse_amount(price, currency)
    except MoneyError as exc:
        raise DomainError(_("Price: %(reason)s", reason=_money_reason(exc, currency)), field="price") from None
    return {"sku": sku, "name": name, "spec": _clean(spec, 300), "unit": _clean(unit, 20) or "pcs",
            "price_minor": price_minor, "currency": currency}


def get_product(product_id) -> Product:
    product = db.session.get(Product, int(product_id)) if str(product_id).isdigit() else None
    if product is None:
        raise NotFound(_("No such product."))
    return product


def require_products(product_ids) -> None:
    """Raise NotFound (one SELECT) when one of ``product_ids`` is not in the catalogue; the
    field is ``lines-<index>-product_id`` of the first unknown one. For API clients, which send
    ids: an unknown id is a missing resource rather than a typing mistake."""
    ids = [int(p) for p in product_ids]
    known = set(db.session.scalars(select(Product.id).where(Product.id.in_(set(ids))))) if ids else set()
    for index, product_id in enumerate(ids):
        if product_id not in known:
            raise NotFound(_("Unknown product."), field=f"lines-{index}-product_id")


def _money_reason(exc: MoneyError, currency: str) -> str:
    text = str(exc)
    if "decimals" in text:
        from erp_core.money import currency_exponent

        return _("%(code)s has %(n)d decimals at most.", code=currency, n=currency_exponent(currency))
    if "negative" in text:
        return _("the amount must not be negative.")
    if "too large" in text:
        return _("the amount is too large.")
    if "empty" in text:
        return _("the amount is missing.")
    return _("not a number.")


# ----------------------------------------------------------------------------- order entry


@dataclass
class LineInput:
    """One order line as typed: prices and discounts as text, in the order's currency."""

    product_id: int | str | None
    quantity: int | str
    unit_price: str | None = None  # empty: the catalogue price
    discount: str | None = None  # percent
    line_id: int | None = None  # an existing line being edited
    sku: str | None = None  # the product's code, used when no product_id is given (imports)

    def is_blank(self) -> bool:
        """True for an untouched row of the entry form (no product, quantity or price)."""
        return not any(str(v or "").strip() for v in (self.product_id, self.sku, self.quantity, self.unit_price,
                                                     self.discount, self.line_id))


@dataclass
class OrderInput:
    """What the order entry and edit forms (and the API) submit."""

    customer_id: int | str | None = None
    # {"name", "phone", "email"} to create one inline; "confirmed": True accepts a likely duplicate
    new_customer: dict | None = None
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    ship_recipient: str = ""
    ship_line1: str = ""
    ship_line2: str = ""
    ship_city: str = ""
    ship_region: str = ""
    ship_postcode: str = ""
    ship_country: str = "CN"
    currency: str = ""
    notes: str = ""
    lines: list[LineInput] = field(default_factory=list)
    entry_key: str | None = None  # random key of the entry form: a second post of it is refused


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
    total: int


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


def _check_lines(data: OrderInput, currency: str, errors: dict) -> list[_CheckedLine]:
    if not data.lines:
        errors.setdefault("lines", []).append(_("Add at least one line."))
        return []
    if len(data.lines) > MAX_LINES:
        errors.setdefault("lines", []).append(_("An order has at most %(n)d lines.", n=MAX_LINES))
        return []
    ids = {int(line.product_id) for line in data.lines if str(line.product_id or "").strip().isdigit()}
    skus = {(line.sku or "").strip().upper() for line in data.lines
            if not str(line.product_id or "").strip() and (line.sku or "").strip()}
    products, by_sku = {}, {}
    if ids or skus:
        # One query for every product of the order, whatever the number of lines.
        for product in db.session.scalars(select(Product).where(or_(Product.id.in_(ids), Product.sku.in_(skus)))):
            products[product.id] = product
            by_sku[product.sku] = product
    checked = []
    for index, line in enumerate(data.lines):
        prefix = f"lines-{index}-"
        raw_id = str(line.product_id or "").strip()
        raw_sku = (line.sku or "").strip().upper()
        if raw_id:
            product = products.get(int(raw_id)) if raw_id.isdigit() else None
        else:
            product = by_sku.get(raw_sku) if raw_sku else None
        if product is None:
            if raw_sku and not raw_id:
                message = _("No product has the code %(sku)s.", sku=raw_sku)
            elif raw_id:
                message = _("Unknown product.")
            else:
                message = _("Choose a product from the catalogue.")
            errors.setdefault(prefix + "product_id", []).append(message)
            continue
        try:
            quantity = parse_quantity(line.quantity)
        except DomainError as exc:
            errors.setdefault(prefix + "quantity", []).append(str(exc))
            continue
        if not (line.unit_price or "").strip():
            if not product.active and line.line_id is None:
                errors.setdefault(prefix + "product_id", []).append(
                    _("%(sku)s is no longer sold.", sku=product.sku))
                continue
            if product.currency != currency:
                errors.setdefault(prefix + "unit_price", []).append(
                    _("%(sku)s is priced in %(theirs)s but the order is in %(ours)s; type the price in %(ours)s.",
                      sku=product.sku, theirs=product.currency, ours=currency))
                continue
            price = product.price_minor
        else:
            try:
                price = parse_amount(line.unit_price, currency)
            except MoneyError as exc:
                errors.setdefault(prefix + "unit_price", []).append(
                    _("Price: %(reason)s", reason=_money_reason(exc, currency)))
                continue
        try:
            discount = parse_discount(line.discount)
        except DomainError as exc:
            errors.setdefault(prefix + "discount", []).append(str(exc))
            continue
        total = line_total(price, quantity, discount)
        if total >= MAX_MINOR:
            errors.setdefault(prefix + "quantity", []).append(_("The amount of this line is too large."))
            continue
        checked.append(_CheckedLine(line.line_id, product, quantity, price, discount, total))
    return checked


def _totals(lines: list[_CheckedLine]) -> tuple[int, int, int]:
    subtotal = sum(line.unit_price_minor * line.quantity for line in lines)
    total = sum(line.total for line in lines)
    return subtotal, subtotal - total, total


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
    lines = _check_lines(data, currency, errors) if "currency" not in errors else []
    with db.session.no_autoflush:
        # A new customer is created only when everything else is right.
        customer = _resolve_customer(data, errors, create=not errors)
    if errors:
        raise OrderInvalid(errors)
    if not header["contact_name"]:
        header["contact_name"] = customer.name
    if not header["contact_phone"]:
        header["contact_phone"] = customer.phone or ""
    subtotal, discount, total = _totals(lines)
    if total >= MAX_MINOR:
        raise OrderInvalid({"lines": [_("The order total is too large.")]})
    now = utcnow()
    user_id, _name = audit.current_actor()
    order = Order(number=next_order_number(), status=states.DRAFT, customer=customer, currency=currency,
                  contact_phone_key=phone_key(header["contact_phone"]), subtotal_minor=subtotal,
                  discount_minor=discount, total_minor=total, created_at=now, updated_at=now,
                  created_by_id=user_id, version=1, entry_key=entry_key, **header)
    db.session.add(order)
    try:
        db.session.flush()
    except IntegrityError:  # the same form posted twice at the same moment
        raise Conflict(_("This form was already sent; nothing more was saved."), code="already_saved") from None
    _insert_lines(order, [_line_row(order, position, item) for position, item in enumerate(lines, start=1)])
    hooks().erp_order_created(order=order)
    webhooks.emit("order.created", order)
    audit.record("order", order.id, "created", after={"number": order.number, "customer": customer.name,
                                                     "lines": len(lines), "total": format_plain(total, currency),
                                                     "currency": currency})
    return order


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


def _line_row(order: Order, position: int, item: _CheckedLine) -> dict:
    return {"order_id": order.id, "position": position, "product_id": item.product.id, "sku": item.product.sku,
            "name": item.product.name, "spec": item.product.spec, "unit": item.product.unit,
            "quantity": item.quantity, "unit_price_minor": item.unit_price_minor, "discount_percent": item.discount,
            "line_total_minor": item.total}


def _insert_lines(order: Order, rows: list[dict]) -> None:
    """Insert order lines in one executemany statement, whatever their number (a flush of new
    ORM objects would insert them one by one on SQLite, to read back each id), then let
    ``order.lines`` load again (one SELECT) when next used."""
    if rows:
        db.session.execute(insert(OrderLine), rows)
    db.session.expire(order, ["lines"])


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


def _bump_version(order: Order, expected_version: int | None) -> None:
    """Take the order's version forward, refusing a form drawn from an older version.

    The conditional UPDATE also row-locks the order on PostgreSQL, so concurrent edits and
    transitions of one order run one after the other.
    """
    expected = order.version if expected_version is None else int(expected_version)
    result = db.session.execute(
        update(Order).where(Order.id == order.id, Order.version == expected)
        .values(version=Order.version + 1).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise _stale(order)
    db.session.refresh(order, ["version", "status"])


def _stale(order: Order) -> Conflict:
    return Conflict(_("Order %(number)s was changed by someone else meanwhile. Reload the page and try again; nothing was saved.",
                      number=order.number), code="stale")


# ----------------------------------------------------------------------------- status machine


def transition(order: Order, new_status: str, note: str | None = None, expected_version: int | None = None) -> None:
    """Move ``order`` to ``new_status`` if the table allows it and no plugin objects.

    Cancelling needs a reason. Validation hooks may veto with a message; status hooks may raise
    (e.g. not enough stock left when reserving), which rolls everything back.
    """
    note = (note or "").strip()[:1000] or None
    _bump_version(order, expected_version)
    old = order.status
    if not states.can_move(old, new_status):
        raise Conflict(_("An order that is %(old)s cannot become %(new)s.",
                         old=states.LABELS.get(old, old), new=states.LABELS.get(new_status, new_status)),
                       code="transition_refused")
    if new_status == states.CANCELLED and not note:
        raise DomainError(_("Give a reason to cancel the order."), field="note", code="reason_required", status=422)
    problems = current_manager().collect("erp_order_validate_transition", order=order, old_status=old,
                                         new_status=new_status)
    if problems:
        raise ValidationProblems(problems, code="transition_vetoed", status=409)
    now = utcnow()
    order.status = new_status
    order.updated_at = now
    if new_status == states.CONFIRMED:
        order.confirmed_at = now
    elif new_status == states.CANCELLED:
        order.cancelled_at = now
    elif new_status == states.DRAFT:
        order.confirmed_at = None
        order.cancelled_at = None
    db.session.flush()
    hooks().erp_order_status_changed(order=order, old_status=old, new_status=new_status, note=note)
    webhooks.emit("order.status_changed", order, old_status=old, new_status=new_status, note=note)
    audit.record("order", order.id, "status_changed", before={"status": old}, after={"status": new_status},
                 note=note)


def available_actions(order: Order, user) -> list[states.Action]:
    """The buttons the user may press on this order now."""
    manual = manual_shipping_allowed(order)
    return [a for a in states.ACTIONS
            if order.status in a.sources and user.can(a.permission) and (manual or not a.manual_shipping)]


def manual_shipping_allowed(order: Order) -> bool:
    """False when an enabled plugin (logistics) ships orders through its own documents."""
    return hooks().erp_order_manual_shipping(order=order) is not False


def perform_action(order: Order, action_name: str, note: str | None, expected_version: int | None) -> states.Action:
    """Run a named action from the order page (after the view checked its permission)."""
    action = states.ACTIONS_BY_NAME.get(action_name)
    if action is None:
        raise DomainError(_("Unknown action."))
    if expected_version is not None and int(expected_version) != order.version:
        raise _stale(order)  # a page drawn before the last change (a button pressed twice)
    if order.status not in action.sources:
        raise Conflict(_("An order that is %(old)s cannot become %(new)s.",
                         old=states.LABELS.get(order.status, order.status),
                         new=states.LABELS.get(action.target, action.target)), code="transition_refused")
    if action.manual_shipping and not manual_shipping_allowed(order):
        raise Conflict(_("This order ships through shipments; create a shipment instead."),
                       code="transition_refused")
    if action.name == "mark_shipped":
        ship_everything(order, note=note, expected_version=expected_version)
    else:
        transition(order, action.target, note=note, expected_version=expected_version)
    return action


def ship_everything(order: Order, note: str | None = None, expected_version: int | None = None) -> None:
    """Mark a confirmed order shipped in full and tell other plugins which goods left
    (``erp_order_goods_shipped``; inventory consumes the reservation there)."""
    remaining = quantities_by_product(order)
    transition(order, states.SHIPPED, note=note, expected_version=expected_version)
    if remaining:
        hooks().erp_order_goods_shipped(order=order, quantities=remaining, reference=order.number)


# The way from a draft to each status, for demo data and other plugins' set-up code.
PATHS = {
    states.DRAFT: (),
    states.CONFIRMED: (states.CONFIRMED,),
    states.SHIPPED: (states.CONFIRMED, states.SHIPPED),
    states.DELIVERED: (states.CONFIRMED, states.SHIPPED, states.DELIVERED),
    states.COMPLETED: (states.CONFIRMED, states.SHIPPED, states.DELIVERED, states.COMPLETED),
    states.CANCELLED: (states.CANCELLED,),
}


def path_to(target: str) -> tuple[str, ...]:
    """The statuses a draft passes through to reach ``target`` (``partially_shipped`` needs real
    shipments and stops at ``confirmed``)."""
    path = PATHS.get(states.CONFIRMED if target == states.PARTIALLY_SHIPPED else target)
    if path is None:
        raise DomainError(_("Unknown action."))
    return path


def advance_order(order: Order, target: str, note: str | None = None) -> list[str]:
    """Walk a draft ``order`` to ``target`` through the ordinary transitions (every hook fires:
    inventory reserves on confirm and consumes on ship). Shipping is done in full, as "mark
    shipped" does. ``partially_shipped`` needs real shipments and is taken as ``confirmed``.
    Cancelling needs ``note`` (the reason). Returns the statuses passed through. Raises DomainError like :func:`transition`.
    """
    if order.status == target:
        return []
    if order.status != states.DRAFT:
        raise Conflict(_("Only a draft order can be advanced this way."))
    path = path_to(target)
    for status in path:
        if status == states.SHIPPED:
            ship_everything(order, note=note)
        else:
            transition(order, status, note=note)
    return list(path)


def get_order(order_id) -> Order:
    order = db.session.get(Order, order_id) if str(order_id).isdigit() else None
    if order is None:
        raise NotFound(_("No such order."))
    return order


def quantities_by_product(order: Order) -> dict[int, int]:
    """Total quantity ordered per product (several lines may hold the same product)."""
    totals: dict[int, int] = defaultdict(int)
    for line in order.lines:
        totals[line.product_id] += line.quantity
    return dict(totals)


