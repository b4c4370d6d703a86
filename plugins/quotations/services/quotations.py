"""Quotations: numbering, the draft's header and lines (priced by the orders plugin's one tax
rule), the state table's moves, lookups."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from erp_core import audit, settings, webhooks
from erp_core.db import MAX_ID, next_counter
from erp_core.errors import Conflict, DomainError, NotFound
from erp_core.extensions import db
from erp_core.inputs import text_problem
from erp_core.money import MAX_MINOR, MoneyError, is_currency, parse_amount
from erp_core.timeutil import to_zone, utcnow
from plugins.orders.public import (
    Customer,
    Product,
    customer_scope,
    customer_visible,
    line_amounts,
    parse_discount,
    parse_quantity,
    prices_include_tax,
    rates_for_products,
)

from .. import states
from ..models import Quotation, QuotationLine

MAX_LINES = 200
HEADER = {"contact_name": 200, "contact_phone": 40, "contact_email": 200, "ship_recipient": 200, "ship_line1": 300,
          "ship_line2": 300, "ship_city": 120, "ship_region": 120, "ship_postcode": 20, "ship_country": 2,
          "notes": 5000}


@dataclass
class LineInput:
    """One line as typed: the product (id or code), quantity, unit price (blank: the catalogue's)
    and discount percent (blank: none)."""

    product: str | int | None
    quantity: str | int | None
    unit_price: str | None = ""
    discount: str | None = ""

    def is_blank(self) -> bool:
        """True for an untouched row of the form."""
        return not any(str(v or "").strip() for v in (self.product, self.quantity, self.unit_price, self.discount))


@dataclass
class QuoteInput:
    """What the quotation form and the API submit (contact and address as on an order)."""

    customer_id: int | str | None = None
    currency: str = ""  # empty: the company's currency
    valid_until: str | date | None = None  # empty: today + the validity setting
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
    notes: str = ""
    lines: list[LineInput] = field(default_factory=list)


def today() -> date:
    """Today in the company's time zone."""
    return to_zone(utcnow(), settings.company_timezone()).date()


def default_valid_until() -> date:
    """Today plus the ``quotations.validity_days`` setting (30 by default)."""
    try:
        days = int(settings.get("quotations.validity_days", 30) or 30)
    except (TypeError, ValueError):
        days = 30
    return today() + timedelta(days=max(1, min(days, 3650)))


def next_number() -> str:
    """QUO-<year>-<000123>: gap-free per year of the company's calendar, safe under concurrency."""
    year = to_zone(utcnow(), settings.company_timezone()).year
    return f"QUO-{year}-{next_counter(db.session, f'quotations.number.{year}'):06d}"


def as_id(raw) -> int | None:
    """``raw`` as a database id (1 to MAX_ID), else None: a larger number names nothing."""
    text = str(raw if raw is not None else "").strip()
    number = int(text) if text.isascii() and text.isdigit() else 0
    return number if 1 <= number <= MAX_ID else None


def _text(value, limit: int, name: str) -> str:
    text = str(value or "").strip()
    problem = text_problem(text)
    if problem:
        raise DomainError(problem, field=name)
    if len(text) > limit:
        raise DomainError(_("At most %(n)d characters.", n=limit), field=name)
    return text


def _header(data: QuoteInput) -> dict:
    values = {name: _text(getattr(data, name), limit, name) for name, limit in HEADER.items()}
    values["ship_country"] = (values["ship_country"] or "CN").upper()
    if not values["ship_line1"]:
        raise DomainError(_("The shipping address needs a street line."), field="ship_line1")
    return values


def _valid_until(raw) -> date:
    if isinstance(raw, date):
        day = raw
    elif not str(raw or "").strip():
        return default_valid_until()
    else:
        try:
            day = date.fromisoformat(str(raw).strip())
        except ValueError:
            raise DomainError(_("Dates are written YYYY-MM-DD."), field="valid_until") from None
    if day < today():
        raise DomainError(_("The quotation must be valid until today or later."), field="valid_until")
    return day


def _customer(raw) -> Customer:
    text = str(raw or "").strip()
    customer = db.session.get(Customer, as_id(text)) if as_id(text) else None
    if customer is None:
        raise DomainError(_("Choose a customer.") if not text else _("Unknown customer."), field="customer_id")
    return customer


def _product(raw, index: int) -> Product:
    text = str(raw or "").strip()
    if isinstance(raw, int):  # the API names products by id, never by code
        product = db.session.get(Product, as_id(raw)) if as_id(raw) else None
    else:
        product = db.session.scalar(select(Product).where(Product.sku == text.upper())) if text else None
    if product is None and not isinstance(raw, int) and as_id(text):
        product = db.session.get(Product, as_id(text))
    if product is None:
        raise DomainError(_("Line %(n)d: unknown product code %(sku)s.", n=index + 1, sku=text or "—"),
                          field=f"lines-{index}-product")
    return product


def _line_of(i: int, line: LineInput, currency: str, include_tax: bool, rates: dict) -> QuotationLine:
    product = _product(line.product, i)
    try:
        quantity = parse_quantity(line.quantity)
    except DomainError as exc:
        raise DomainError(_("Line %(n)d: %(reason)s", n=i + 1, reason=exc), field=f"lines-{i}-quantity") from None
    if str(line.unit_price or "").strip():
        try:
            unit = parse_amount(str(line.unit_price).strip(), currency)
        except MoneyError:
            raise DomainError(_("Enter a price of 0 or more, like 12.50."), field=f"lines-{i}-unit_price") from None
    elif product.currency != currency:
        raise DomainError(_("Line %(n)d: type the price in %(currency)s.", n=i + 1, currency=currency),
                          field=f"lines-{i}-unit_price")
    else:
        unit = product.price_minor
    try:
        discount = parse_discount(line.discount)
    except DomainError as exc:
        raise DomainError(_("Line %(n)d: %(reason)s", n=i + 1, reason=exc), field=f"lines-{i}-discount") from None
    rate = rates.get(product.id)
    exempt = bool(rate.exempt) if rate is not None else False
    percent = rate.percent if rate is not None and not exempt else 0
    amounts = line_amounts(quantity, unit, discount, percent, include_tax)
    if amounts.gross >= MAX_MINOR:
        raise DomainError(_("The amount of this line is too large."), field=f"lines-{i}-quantity")
    return QuotationLine(position=i + 1, product_id=product.id, sku=product.sku, name=product.name,
                         quantity=quantity, unit_price_minor=unit, discount_percent=discount,
                         tax_rate_percent=percent, tax_exempt=exempt, net_minor=amounts.net,
                         tax_minor=amounts.tax, gross_minor=amounts.gross)


def _lines(data: QuoteInput, currency: str) -> list[QuotationLine]:
    rows = [(i, line) for i, line in enumerate(data.lines) if not line.is_blank()]
    if not rows:
        raise DomainError(_("Add at least one line."), field="lines")
    if len(rows) > MAX_LINES:
        raise DomainError(_("A quotation has at most %(n)d lines.", n=MAX_LINES), field="lines")
    products = [_product(line.product, i) for i, line in rows]
    rates = rates_for_products(products)
    include_tax = prices_include_tax()
    made = [_line_of(i, line, currency, include_tax, rates) for i, line in rows]
    if sum(line.gross_minor for line in made) >= MAX_MINOR:  # no order could take it on acceptance
        raise DomainError(_("The quotation total is too large."), field="lines")
    for position, line in enumerate(made, start=1):
        line.position = position
    return made


def _currency(raw) -> str:
    currency = (str(raw or "") or settings.company_currency()).strip().upper()
    if not is_currency(currency):
        raise DomainError(_("Unknown currency %(code)s.", code=currency), field="currency")
    return currency


def _apply(quotation: Quotation, data: QuoteInput, lines: list[QuotationLine]) -> None:
    for name, value in _header(data).items():
        setattr(quotation, name, value)
    quotation.lines.extend(lines)
    quotation.total_minor = sum(line.gross_minor for line in lines)
    quotation.tax_minor = sum(line.tax_minor for line in lines)


def create_quotation(data: QuoteInput) -> Quotation:
    """A draft quotation to an existing customer; the contact defaults to the customer's."""
    customer = _customer(data.customer_id)
    currency = _currency(data.currency)
    valid_until = _valid_until(data.valid_until)
    lines = _lines(data, currency)
    _uid, actor = audit.current_actor()
    quotation = Quotation(number=next_number(), customer_id=customer.id, status=states.DRAFT, currency=currency,
                          valid_until=valid_until, created_by=actor)
    _apply(quotation, data, lines)
    quotation.contact_name = quotation.contact_name or customer.name
    quotation.contact_phone = quotation.contact_phone or (customer.phone or "")
    quotation.contact_email = quotation.contact_email or (customer.email or "")
    db.session.add(quotation)
    db.session.flush()
    audit.record("quotation", quotation.id, "created",
                 after={"number": quotation.number, "customer": customer.name, "total": quotation.total_minor,
                        "currency": currency})
    webhooks.emit("quotation.created", quotation)
    return quotation


def update_draft(quotation: Quotation, data: QuoteInput) -> Quotation:
    """Replace a draft's header and lines (only drafts change; the row is locked first)."""
    if lock(quotation) not in states.EDITABLE:
        raise Conflict(_("Only a draft quotation can be changed."))
    customer = _customer(data.customer_id)
    currency = _currency(data.currency)
    valid_until = _valid_until(data.valid_until)
    lines = _lines(data, currency)
    before = {"total": quotation.total_minor, "currency": quotation.currency}
    quotation.lines.clear()
    db.session.flush()
    quotation.customer_id, quotation.currency, quotation.valid_until = customer.id, currency, valid_until
    _apply(quotation, data, lines)
    db.session.flush()
    audit.record("quotation", quotation.id, "changed", before=before,
                 after={"total": quotation.total_minor, "currency": currency})
    return quotation


def lock(quotation: Quotation) -> str:
    """Take the quotation's row lock for the rest of the transaction; its current status."""
    status = db.session.execute(update(Quotation).where(Quotation.id == quotation.id)
                                .values(status=Quotation.status).returning(Quotation.status)).scalar_one()
    db.session.refresh(quotation)
    return status


def move(quotation: Quotation, target: str, note: str = "", *, extra: dict | None = None, where=()) -> None:
    """Move ``quotation`` to ``target`` if the state table allows it, with one conditional UPDATE
    on the status it was read in (and any ``where`` conditions): of two concurrent moves only one
    passes; the other gets Conflict and changes nothing."""
    current = quotation.status
    if not states.can_move(current, target):
        raise Conflict(_("A quotation that is %(status)s cannot become %(target)s.",
                         status=states.LABELS[current], target=states.LABELS[target]))
    values = {"status": target, **(extra or {})}
    done = db.session.execute(update(Quotation).where(Quotation.id == quotation.id, Quotation.status == current, *where)
                              .values(**values).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict(_("Someone changed this quotation meanwhile; nothing was changed. Look again."))
    db.session.refresh(quotation)
    audit.record("quotation", quotation.id, "status_changed", before={"status": current}, after={"status": target},
                 note=note or None)
    webhooks.emit(f"quotation.{target}", quotation, old_status=current)


def visible(quotation: Quotation | None) -> Quotation | None:
    """``quotation`` when the logged-in user may see its customer (own customers only), else None."""
    if quotation is None:
        return None
    customer = db.session.get(Customer, quotation.customer_id)
    return quotation if customer is not None and customer_visible(customer) else None


def get_quotation(quotation_id) -> Quotation:
    """The quotation with this id, or NotFound."""
    quotation = db.session.get(Quotation, as_id(quotation_id)) if as_id(quotation_id) else None
    if quotation is None:
        raise NotFound(_("Unknown quotation."))
    return quotation


def list_query(status: str = "", customer_id: int | None = None, q: str = ""):
    """Quotations newest first, filtered by status, customer and a text (number, customer, contact);
    of the customers the logged-in user may see (``customer_scope``, own customers only)."""
    stmt = select(Quotation).join(Customer, Customer.id == Quotation.customer_id).where(customer_scope())
    if status in states.STATUSES:
        stmt = stmt.where(Quotation.status == status)
    if customer_id:
        stmt = stmt.where(Quotation.customer_id == customer_id)
    text = (q or "").strip()[:100]
    if text:
        like = f"%{text.lower()}%"
        stmt = stmt.where(or_(Quotation.number.ilike(f"%{text}%"), Customer.name_key.like(like),
                              Quotation.contact_name.ilike(like)))
    return stmt.order_by(Quotation.id.desc())
