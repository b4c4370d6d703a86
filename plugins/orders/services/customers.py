"""Customers of real businesses: contact people, tags, the owner (salesperson) and the "own
customers only" scope, credit limit and payment terms, billing addresses.

The scope rule lives here once: a user holding ``orders.scope.own`` (granted explicitly to a
role; an all-permissions role is never scoped) sees only the customers they own and those
customers' orders. :func:`customer_scope` and :func:`order_scope` give the SQL conditions every
list, export and API endpoint applies; ``get_order`` and ``get_customer`` answer NotFound for a
record out of scope. Other plugins apply :func:`order_scope` through ``plugins.orders.public``.
"""

from __future__ import annotations

from flask import has_request_context
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import delete, func, select, true

from erp_core import audit, settings
from erp_core.errors import DomainError, NotFound
from erp_core.extensions import db
from erp_core.money import MoneyError, format_money, format_plain, parse_amount
from erp_core.plugins import hooks

from .. import states
from ..models import Customer, Order
from ..models_customers import (
    ADDRESS_KINDS,
    BILLING,
    BOTH,
    PAYMENT_TERMS,
    CustomerContact,
    CustomerTag,
    OrderBilling,
)
from ._common import _clean, _money_reason, as_id, check_phone, normalise_email

SCOPE_OWN = "orders.scope.own"
CREDIT_OVERRIDE = "orders.credit.override"
MAX_TAGS = 20
# Orders whose amount counts against the credit limit until paid.
CREDIT_STATUSES = (states.CONFIRMED, states.PARTIALLY_SHIPPED, states.SHIPPED, states.DELIVERED)

# ----------------------------------------------------------------------------- scope


def _user(user=None):
    if user is not None:
        return user
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user
    return None  # jobs, the CLI, demo data: the system sees everything


def scope_owner_id(user=None) -> int | None:
    """The id of the user whose own customers only ``user`` (default: the logged-in user) may
    see, or None when ``user`` sees every customer."""
    user = _user(user)
    if user is None or SCOPE_OWN not in user.permission_codes():
        return None
    return user.id


def customer_scope(user=None, customer_id_column=None):
    """A SQL condition on customers: those ``user`` may see (``true()`` when not scoped). Other
    plugins pass a column holding customer ids, e.g. ``customer_scope(customer_id_column=Ticket.customer_id)``."""
    owner = scope_owner_id(user)
    if owner is None:
        return true()
    if customer_id_column is None:
        return Customer.owner_id == owner
    return customer_id_column.in_(select(Customer.id).where(Customer.owner_id == owner))


def order_scope(order_id_column=None, user=None):
    """A SQL condition on a column holding order ids (default ``Order.id``): the orders
    ``user`` may see, i.e. of customers they own when scoped (``true()`` otherwise). Other
    plugins pass their own column, e.g. ``order_scope(Shipment.order_id)``."""
    owner = scope_owner_id(user)
    if owner is None:
        return true()
    if order_id_column is None:
        return Order.customer_id.in_(select(Customer.id).where(Customer.owner_id == owner))
    return order_id_column.in_(select(Order.id).join(Customer, Customer.id == Order.customer_id)
                               .where(Customer.owner_id == owner))


def customer_visible(customer: Customer, user=None) -> bool:
    """Whether ``user`` (default: the logged-in user) may see ``customer``."""
    owner = scope_owner_id(user)
    return owner is None or customer.owner_id == owner


def require_visible(customer: Customer) -> Customer:
    """``customer`` when the logged-in user may see it, else NotFound (as if it did not exist)."""
    if not customer_visible(customer):
        raise NotFound(_("No such customer."), field="customer_id")
    return customer


# ----------------------------------------------------------------------------- contacts


def _contact_values(data: dict) -> dict:
    values = {"name": _clean(data.get("name"), 200), "role": _clean(data.get("role"), 100)}
    if not values["name"]:
        raise DomainError(_("The contact needs a name."), field="name")
    try:
        values["phone"] = check_phone(data.get("phone") or "")
    except DomainError as exc:
        raise DomainError(str(exc), field="phone") from None
    try:
        values["email"] = normalise_email(data.get("email"))
    except DomainError as exc:
        raise DomainError(str(exc), field="email") from None
    return values


def get_contact(customer: Customer, contact_id) -> CustomerContact:
    """One of the customer's contacts; NotFound otherwise."""
    for contact in customer.contacts:
        if str(contact.id) == str(contact_id):
            return contact
    raise NotFound(_("No such contact."), field="contact_id")


def add_contact(customer: Customer, data: dict) -> CustomerContact:
    """Add a contact person (``name`` required; ``role``, ``phone``, ``email``), audited."""
    contact = CustomerContact(**_contact_values(data))
    customer.contacts.append(contact)
    db.session.flush()
    audit.record("customer", customer.id, "contact_added", after={"contact": contact.name})
    return contact


def update_contact(customer: Customer, contact_id, data: dict) -> CustomerContact:
    """Change one of the customer's contacts, audited."""
    contact = get_contact(customer, contact_id)
    before = {k: getattr(contact, k) for k in ("name", "role", "phone", "email")}
    for key, value in _contact_values(data).items():
        setattr(contact, key, value)
    b, a = audit.diff(before, {k: getattr(contact, k) for k in before})
    if a:
        audit.record("customer", customer.id, "contact_changed", before=b, after=a)
    return contact


def delete_contact(customer: Customer, contact_id) -> None:
    """Remove a contact; orders keep the name, phone and e-mail they copied."""
    contact = get_contact(customer, contact_id)
    customer.contacts.remove(contact)
    audit.record("customer", customer.id, "contact_removed", before={"contact": contact.name})


def fill_from_contact(header: dict, customer: Customer, contact_id) -> None:
    """Fill the blank ``contact_name``, ``contact_phone`` and ``contact_email`` of an order's
    ``header`` from the customer's contact ``contact_id`` (NotFound when it is not theirs)."""
    contact = get_contact(customer, contact_id)
    for key, value in (("contact_name", contact.name), ("contact_phone", contact.phone),
                       ("contact_email", contact.email)):
        if not header.get(key):
            header[key] = value


# ----------------------------------------------------------------------------- tags


def parse_tags(text) -> list[str]:
    """Labels from a comma-separated text (or a list), trimmed, without duplicates (compared
    case-insensitively), each at most 40 characters. Raises DomainError beyond ``MAX_TAGS``."""
    items = text if isinstance(text, (list, tuple)) else str(text or "").replace("，", ",").split(",")
    seen, labels = set(), []
    for item in items:
        label = " ".join(str(item or "").split())[:40]
        if label and label.lower() not in seen:
            seen.add(label.lower())
            labels.append(label)
    if len(labels) > MAX_TAGS:
        raise DomainError(_("At most %(count)d tags.", count=MAX_TAGS), field="tags")
    return labels


def set_tags(customer: Customer, text) -> None:
    """Replace the customer's tags with those in ``text`` (see :func:`parse_tags`), audited."""
    labels = parse_tags(text)
    before = [t.label for t in customer.tags]
    if before == sorted(labels, key=str.lower) or sorted(before) == sorted(labels):
        return
    customer.tags.clear()
    db.session.flush()
    customer.tags.extend(CustomerTag(key=label.lower(), label=label) for label in labels)
    db.session.flush()
    audit.record("customer", customer.id, "tags_changed", before={"tags": ", ".join(before)},
                 after={"tags": ", ".join(labels)})


def tag_filter(tag: str):
    """A SQL condition on customers: those carrying ``tag`` (case-insensitively)."""
    return Customer.id.in_(select(CustomerTag.customer_id).where(CustomerTag.key == tag.strip().lower()[:40]))


def all_tags(limit: int = 200) -> list[str]:
    """The labels in use, for the list's filter (one statement)."""
    rows = db.session.execute(select(func.min(CustomerTag.label)).group_by(CustomerTag.key)
                              .order_by(CustomerTag.key).limit(limit))
    return [r[0] for r in rows]


# ----------------------------------------------------------------------------- owner, credit, terms


def set_owner(customer: Customer, owner_id) -> None:
    """Make the user ``owner_id`` (None or "": nobody) the customer's owner, audited. The caller
    checks ``orders.customers.manage``."""
    from erp_core.auth.models import User

    raw = str(owner_id if owner_id is not None else "").strip()
    owner = None
    if raw:
        key = as_id(raw)
        owner = db.session.get(User, key) if key is not None else None
        if owner is None or not owner.active:
            raise DomainError(_("Choose an active user."), field="owner_id")
    new_id = owner.id if owner else None
    if new_id == customer.owner_id:
        return
    old = db.session.get(User, customer.owner_id) if customer.owner_id else None
    customer.owner_id = new_id
    audit.record("customer", customer.id, "owner_changed", before={"owner": old.username if old else ""},
                 after={"owner": owner.username if owner else ""})


def owner_names(customers) -> dict[int, str]:
    """``{user id: label}`` of the owners of ``customers`` (one statement), for lists."""
    from erp_core.auth.models import User

    ids = {c.owner_id for c in customers if c.owner_id}
    if not ids:
        return {}
    return {u.id: u.label for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def owner_choices() -> list[tuple[str, str]]:
    """``(id, label)`` of the active users, for the owner field."""
    from erp_core.auth.models import User

    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.username))
    return [("", "—")] + [(str(u.id), u.label) for u in users]


def set_terms(customer: Customer, credit_limit, payment_terms: str, payment_days) -> None:
    """Set the credit limit (text in the company's currency; "": no limit), the payment terms (a
    code of ``PAYMENT_TERMS``) and, for "net", the number of days (1 to 365); audited."""
    currency = settings.company_currency()
    raw = str(credit_limit if credit_limit is not None else "").strip()
    limit = None
    if raw:
        try:
            limit = parse_amount(raw, currency)
        except MoneyError as exc:
            raise DomainError(_("Credit limit: %(reason)s", reason=_money_reason(exc, currency)),
                              field="credit_limit") from None
    terms = (payment_terms or "").strip()
    if terms not in PAYMENT_TERMS:
        raise DomainError(_("Choose payment terms from the list."), field="payment_terms")
    days = None
    if terms == "net":
        text = str(payment_days if payment_days is not None else "").strip()
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 365:
            raise DomainError(_("Net days is a whole number from 1 to 365."), field="payment_days")
        days = int(text)
    before = _terms_audit(customer)
    customer.credit_limit_minor, customer.payment_terms, customer.payment_days = limit, terms, days
    b, a = audit.diff(before, _terms_audit(customer))
    if a:
        audit.record("customer", customer.id, "terms_changed", before=b, after=a)


def _terms_audit(customer: Customer) -> dict:
    limit = customer.credit_limit_minor
    return {"credit_limit": format_plain(limit, settings.company_currency()) if limit is not None else "",
            "payment_terms": customer.payment_terms or "", "payment_days": customer.payment_days or ""}


def open_balance(customer_id: int, exclude_order_id: int | None = None) -> int:
    """What the customer owes on confirmed orders not yet paid, in the company's currency (minor
    units): the totals of its orders in ``CREDIT_STATUSES`` (other currencies left out) less what
    plugins say was paid on them (``erp_orders_amount_paid``; without finance: nothing)."""
    stmt = select(Order.id, Order.total_minor).where(
        Order.customer_id == customer_id, Order.status.in_(CREDIT_STATUSES),
        Order.currency == settings.company_currency())
    if exclude_order_id is not None:
        stmt = stmt.where(Order.id != exclude_order_id)
    totals = dict(db.session.execute(stmt).all())
    if not totals:
        return 0
    paid: dict[int, int] = {}
    for answer in hooks().erp_orders_amount_paid(order_ids=sorted(totals)):
        for order_id, amount in (answer or {}).items():
            paid[order_id] = paid.get(order_id, 0) + int(amount or 0)
    return sum(max(total - paid.get(order_id, 0), 0) for order_id, total in totals.items())


class CreditLimitExceeded(DomainError):
    """Confirming the order would take the customer's open balance over its credit limit."""

    code = "credit_limit_exceeded"
    status = 409


def check_credit(order: Order, user=None) -> None:
    """Refuse (:class:`CreditLimitExceeded`) to confirm ``order`` when the customer's open
    balance with it would pass the credit limit, unless ``user`` (default: the logged-in user;
    none in jobs and the CLI) holds ``orders.credit.override``."""
    customer = order.customer
    limit = customer.credit_limit_minor
    currency = settings.company_currency()
    if limit is None or order.currency != currency:
        return
    user = _user(user)
    if user is None or user.can(CREDIT_OVERRIDE):
        return
    balance = open_balance(customer.id, exclude_order_id=order.id) + order.total_minor
    if balance > limit:
        raise CreditLimitExceeded(_(
            "Confirming this order takes %(name)s to %(balance)s owed, over the credit limit of %(limit)s. "
            "Somebody allowed to exceed credit limits has to confirm it.",
            name=customer.name, balance=format_money(balance, currency), limit=format_money(limit, currency)))


# ----------------------------------------------------------------------------- billing


def check_address_kind(kind) -> str:
    """The address kind (``both``, ``shipping`` or ``billing``); DomainError otherwise."""
    kind = (kind or BOTH).strip()
    if kind not in ADDRESS_KINDS:
        raise DomainError(_("Choose what the address is for."), field="kind")
    return kind


def billing_address(customer: Customer):
    """The address a customer is billed at: the default of its billing-only addresses, else its
    first one, else None (billed where the goods go)."""
    billing = [a for a in customer.addresses if a.kind == BILLING]
    return next((a for a in billing if a.is_default), billing[0] if billing else None)


def copy_billing(order: Order, customer: Customer) -> None:
    """Give a new order its copy of the customer's billing address (none: billed to the
    shipping address)."""
    address = billing_address(customer)
    db.session.execute(delete(OrderBilling).where(OrderBilling.order_id == order.id))
    if address is not None:
        db.session.add(OrderBilling(order_id=order.id, recipient=address.recipient or customer.name,
                                    line1=address.line1, line2=address.line2, city=address.city,
                                    region=address.region, postcode=address.postcode, country=address.country))
        db.session.flush()
