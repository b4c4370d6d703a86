"""The catalogue of orders: customers (with their addresses) and products.

Every function works in the caller's transaction and raises a DomainError with a translated
message; changes are audited.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import or_, select

from erp_core import audit, settings
from erp_core.errors import Conflict, DomainError, NotFound
from erp_core.extensions import db
from erp_core.i18n import company_locale, languages
from erp_core.money import MoneyError, format_plain, is_currency, parse_amount

from ..barcode import clean_barcode
from ..models import Address, Customer, Product, TaxRate
from ..tax import percent_text
from ._common import _clean, _money_reason, check_phone, normalise_email, phone_key
from .customers import check_address_kind, require_visible, scope_owner_id

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
        names = ", ".join(f"{c.name} ({c.phone or c.email or f'#{c.id}'})" for c in matches[:3])
        super().__init__(_("This looks like a customer you already have: %(names)s. Use that customer, or confirm that this is somebody else.",
                           names=names), field="phone")


def check_language(value: str | None) -> str:
    """The customer's preferred language: one of the site's languages; empty means the company's."""
    value = (value or "").strip()
    if not value:
        return company_locale()
    if value not in languages():
        raise DomainError(_("Unknown language: %(value)s.", value=value[:20]), field="language")
    return value


def customer_language(customer: Customer | None) -> str:
    """The language messages to ``customer`` are written in (the company's when not set)."""
    value = customer.language if customer is not None else None
    return value if value in languages() else company_locale()


def create_customer(name: str, phone: str = "", email: str = "", notes: str = "",
                    address: dict | None = None, allow_duplicate: bool = True,
                    language: str | None = None) -> Customer:
    """Create a customer (and its first address, made default). The name is required.

    ``phone`` is checked and kept as typed (its digits are compared to find duplicates),
    ``email`` is normalised; ``address`` is a dict of ``ADDRESS_FIELDS`` (``label``,
    ``recipient``, ``phone``, ``line1``, ``line2``, ``city``, ``region``, ``postcode``,
    ``country`` as ISO alpha-2), ``line1`` being required. Bad values raise ``DomainError``
    naming the ``field``. With ``allow_duplicate=False`` a customer with the same phone digits or e-mail is refused
    with :class:`PossibleDuplicate` (the forms then ask the user to confirm).
    """
    name = _clean(name, 200)
    if not name:
        raise DomainError(_("The customer needs a name."), field="name")
    phone = check_phone(phone)
    email = normalise_email(email)
    language = check_language(language)
    if not allow_duplicate:
        matches = find_duplicates(phone, email)
        if matches:
            raise PossibleDuplicate(matches)
    customer = Customer(name=name, name_key=name.lower()[:200], phone=phone or None,
                        phone_key=phone_key(phone) or None, email=email or None,
                        notes=(notes or "").strip() or None, language=language,
                        owner_id=scope_owner_id())  # a salesperson seeing own customers only owns the new one
    db.session.add(customer)
    if address and (address.get("line1") or "").strip():
        add_address(customer, address, make_default=True)
    db.session.flush()
    audit.record("customer", customer.id, "created", after={"name": name, "phone": customer.phone,
                                                           "email": customer.email})
    return customer


def update_customer(customer: Customer, name: str, phone: str, email: str, notes: str,
                    language: str | None = None) -> None:
    """Change a customer's details (audited); ``language`` None keeps the preferred language."""
    name = _clean(name, 200)
    if not name:
        raise DomainError(_("The customer needs a name."), field="name")
    phone = check_phone(phone)
    if language is not None:
        language = check_language(language)
    before = {"name": customer.name, "phone": customer.phone, "email": customer.email, "notes": customer.notes,
              "language": customer.language}
    customer.name, customer.name_key = name, name.lower()[:200]  # lower() may lengthen (İ)
    customer.phone, customer.phone_key = phone or None, phone_key(phone) or None
    customer.email = normalise_email(email) or None
    customer.notes = (notes or "").strip() or None
    if language is not None:
        customer.language = language
    b, a = audit.diff(before, {"name": customer.name, "phone": customer.phone, "email": customer.email,
                               "notes": customer.notes, "language": customer.language})
    if a:
        audit.record("customer", customer.id, "changed", before=b, after=a)


ADDRESS_FIELDS = ("label", "recipient", "phone", "line1", "line2", "city", "region", "postcode", "country")
_ADDRESS_LIMITS = {"label": 60, "recipient": 200, "phone": 40, "line1": 300, "line2": 300, "city": 120,
                   "region": 120, "postcode": 20, "country": 2}


def _address_values(data: dict) -> dict:
    """The checked, trimmed fields of an address as typed."""
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
    if "kind" in data:
        values["kind"] = check_address_kind(data.get("kind"))
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
        audit.record("customer", customer.id, "address_added", after={"address": address.one_line(country_names=False)})
    return address


def _address_of(customer: Customer, address_id) -> Address:
    """One of the customer's addresses; NotFound otherwise."""
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
    before = address.one_line(country_names=False)
    for name, value in _address_values(data).items():
        setattr(address, name, value)
    if make_default:
        set_default_address(customer, address.id)
    if address.one_line(country_names=False) != before:
        audit.record("customer", customer.id, "address_changed", before={"address": before},
                     after={"address": address.one_line(country_names=False)})
    return address


def delete_address(customer: Customer, address_id: int) -> None:
    """Remove an address; when it was the default the next one becomes default. Orders keep
    their own copy of the address, so old orders are not affected."""
    address = _address_of(customer, address_id)
    was_default = address.is_default
    customer.addresses.remove(address)
    if was_default and customer.addresses:
        customer.addresses[0].is_default = True
    audit.record("customer", customer.id, "address_removed", before={"address": address.one_line(country_names=False)})


def set_default_address(customer: Customer, address_id: int) -> None:
    """Make one of the customer's addresses the default."""
    chosen = _address_of(customer, address_id)
    for address in customer.addresses:
        address.is_default = address is chosen


def get_customer(customer_id) -> Customer:
    """The customer with this id; NotFound (on ``customer_id``) when there is none."""
    customer = db.session.get(Customer, customer_id) if str(customer_id).isdigit() else None
    if customer is None:
        raise NotFound(_("No such customer."), field="customer_id")
    return require_visible(customer)  # out of the user's scope: as if there were none



# ----------------------------------------------------------------------------- products


_KEEP = object()  # update_product: leave the tax rate or cost as it is


def create_product(sku: str, name: str, price: str, currency: str | None = None, spec: str = "",
                   unit: str = "pcs", active: bool = True, *, tax_rate_id: int | str | None = None,
                   cost: str | int | None = None, barcode: str | None = None) -> Product:
    """Add a product to the catalogue. The SKU is unique (case-insensitively).

    ``sku`` is upper-cased (letters, digits and ``. _ / -``); ``price`` is text as typed
    (``"25.00"``, parsed in ``currency``'s minor units; an int counts as minor units);
    ``currency`` is an ISO 4217 code (default: the company's currency); ``spec`` a free text
    (size, colour), ``unit`` the selling unit (``"pcs"``, ``"box"``); ``tax_rate_id`` an active
    tax rate (None: the company's default rate); ``cost`` the cost price as typed, like
    ``price`` (None or "": not known); ``barcode`` an EAN-13, UPC-A or EAN-8 code (check digit
    verified; None or "": none). Bad values raise ``DomainError`` naming the ``field``; a
    taken SKU or barcode raises ``Conflict``.
    """
    values = _product_values(sku, name, price, currency, spec, unit)
    values.update(_tax_values(tax_rate_id, cost, values["currency"], None))
    values["barcode"] = _free_barcode(barcode, None)
    if db.session.scalar(select(Product.id).where(Product.sku == values["sku"])):
        raise Conflict(_("The code %(sku)s is already used by another product.", sku=values["sku"]), field="sku")
    product = Product(name_key=values["name"].lower()[:200], active=active, **values)
    db.session.add(product)
    db.session.flush()
    audit.record("product", product.id, "created", after={
        "sku": product.sku, "name": product.name, "price": format_plain(product.price_minor, product.currency),
        "currency": product.currency, **_tax_audit(product)})
    return product


def update_product(product: Product, sku: str, name: str, price: str, currency: str | None = None,
                   spec: str = "", unit: str = "pcs", active: bool = True, *, tax_rate_id=_KEEP,
                   cost=_KEEP, barcode=_KEEP) -> dict:
    """Change a catalogue entry (audited). Orders keep their own copy of code, name, price and
    tax rate. ``tax_rate_id``, ``cost`` and ``barcode`` as for :func:`create_product`; left
    out, they stay as they are (a product keeps a rate deactivated since it was chosen)."""
    values = _product_values(sku, name, price, currency or product.currency, spec, unit)
    values.update(_tax_values(product.tax_rate_id if tax_rate_id is _KEEP else tax_rate_id,
                              _cost_text(product) if cost is _KEEP else cost, values["currency"],
                              product.tax_rate_id))
    values["barcode"] = product.barcode if barcode is _KEEP else _free_barcode(barcode, product.id)
    if values["sku"] != product.sku and db.session.scalar(
            select(Product.id).where(Product.sku == values["sku"], Product.id != product.id)):
        raise Conflict(_("The code %(sku)s is already used by another product.", sku=values["sku"]), field="sku")
    before = {"sku": product.sku, "name": product.name, "spec": product.spec, "unit": product.unit,
              "price": format_plain(product.price_minor, product.currency), "currency": product.currency,
              "active": product.active, **_tax_audit(product)}
    for key, value in values.items():
        setattr(product, key, value)
    product.name_key = product.name.lower()[:200]
    product.active = bool(active)
    after = {"sku": product.sku, "name": product.name, "spec": product.spec, "unit": product.unit,
             "price": format_plain(product.price_minor, product.currency), "currency": product.currency,
             "active": product.active, **_tax_audit(product)}
    b, a = audit.diff(before, after)
    if a:
        audit.record("product", product.id, "changed", before=b, after=a)
    return a


def _free_barcode(value, product_id: int | None) -> str | None:
    """The checked barcode, refused with ``Conflict`` when another product has it."""
    code = clean_barcode(value)
    if code is not None:
        stmt = select(Product.id).where(Product.barcode == code)
        if product_id is not None:
            stmt = stmt.where(Product.id != product_id)
        if db.session.scalar(stmt):
            raise Conflict(_("The barcode %(code)s is already used by another product.", code=code),
                           field="barcode")
    return code


def find_by_barcode(code: str) -> Product | None:
    """The product with this barcode (spaces and dashes ignored), or None. One indexed lookup."""
    text = "".join(str(code or "").split()).replace("-", "")
    if not text.isdigit():
        return None
    return db.session.scalar(select(Product).where(Product.barcode == text))


def find_by_sku(code: str) -> Product | None:
    """The product with this code (SKU, case-insensitive), or None. One indexed lookup."""
    text = str(code or "").strip().upper()
    return db.session.scalar(select(Product).where(Product.sku == text)) if text else None


def _product_values(sku, name, price, currency, spec, unit) -> dict:
    """The checked column values of a product as typed."""
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


def _tax_values(tax_rate_id, cost, currency: str, current_rate_id: int | None) -> dict:
    """The checked ``tax_rate_id`` and ``cost_minor`` of a product: the rate must be active
    (or the one the product has already); the cost is parsed like a price, empty for unknown."""
    raw = str(tax_rate_id if tax_rate_id is not None else "").strip()
    rate_id = None
    if raw:
        rate = db.session.get(TaxRate, int(raw)) if raw.isdigit() else None
        if rate is None or not (rate.active or rate.id == current_rate_id):
            raise DomainError(_("Choose an active tax rate."), field="tax_rate")
        rate_id = rate.id
    cost_minor = None
    if str(cost if cost is not None else "").strip():
        try:
            cost_minor = parse_amount(cost, currency)
        except MoneyError as exc:
            raise DomainError(_("Cost price: %(reason)s", reason=_money_reason(exc, currency)),
                              field="cost") from None
    return {"tax_rate_id": rate_id, "cost_minor": cost_minor}


def _cost_text(product: Product) -> str:
    return format_plain(product.cost_minor, product.currency) if product.cost_minor is not None else ""


def _tax_audit(product: Product) -> dict:
    """The product's rate and cost as the change log keeps them (language-neutral: ``"13"``,
    ``"exempt"``, or ``""`` for the default rate; shown in words by the audit vocabulary)."""
    rate = db.session.get(TaxRate, product.tax_rate_id) if product.tax_rate_id is not None else None
    return {"tax_rate": ("exempt" if rate.exempt else percent_text(rate.percent)) if rate is not None else "",
            "cost": _cost_text(product), "barcode": product.barcode or ""}


def get_product(product_id) -> Product:
    """The product with this id; NotFound when there is none."""
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
