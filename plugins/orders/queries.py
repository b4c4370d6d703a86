"""Read-only queries of orders: list filters shared by the list page and the CSV export,
picker searches, and the numbers of the dashboard cards. Each runs a fixed number of SQL
statements, whatever the number of rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from erp_core import settings
from erp_core.extensions import db
from erp_core.timeutil import local_day_bounds, to_zone, utcnow

from . import states
from .models import Customer, Order, OrderLine, Product
from .models_channels import MAX_TAG, OrderTag
from .services import customer_scope, order_scope, phone_key
from .services.customers import tag_filter


def like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with the wildcards in it escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _digits(text: str) -> str:
    return phone_key(text).lstrip("+")


# ----------------------------------------------------------------------------- order list


@dataclass
class OrderFilter:
    """The filters of the order list, as they live in the URL."""

    q: str = ""
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    customer_id: int | None = None
    channel: str = ""  # a channel code
    tag: str = ""  # only orders carrying this tag (as stored: spaces squeezed)
    errors: dict = field(default_factory=dict)

    @classmethod
    def from_args(cls, args) -> OrderFilter:
        """Read ``q``, ``status``, ``from``, ``to`` and ``customer`` from query arguments.

        Unusable values are dropped and explained in ``errors`` (shown beside the filter)."""
        result = cls(q=(args.get("q") or "").strip()[:100])
        status = (args.get("status") or "").strip()
        if status in states.STATUSES or status == "open":
            result.status = status
        for name, attr in (("from", "date_from"), ("to", "date_to")):
            raw = (args.get(name) or "").strip()
            if raw:
                try:
                    setattr(result, attr, date.fromisoformat(raw))
                except ValueError:
                    result.errors[name] = _("%(value)s is not a date (YYYY-MM-DD).", value=raw)
        if result.date_from and result.date_to and result.date_from > result.date_to:
            result.errors["to"] = _("The end date is before the start date.")
            result.date_to = None
        raw_customer = (args.get("customer") or "").strip()
        if raw_customer.isdigit():
            result.customer_id = int(raw_customer)
        result.channel = (args.get("channel") or "").strip().lower()[:24]
        result.tag = tag_arg(args.get("tag"))
        return result

    def as_args(self) -> dict:
        """The filters as query arguments (for links that keep them, e.g. the export)."""
        args = {"q": self.q, "status": self.status, "customer": self.customer_id, "channel": self.channel,
                "tag": self.tag, "from": self.date_from.isoformat() if self.date_from else None,
                "to": self.date_to.isoformat() if self.date_to else None}
        return {k: v for k, v in args.items() if v}


def tag_arg(raw: str | None) -> str:
    """A tag filter as tags are stored (spaces trimmed and squeezed, cut to ``MAX_TAG``)."""
    return " ".join((raw or "").split())[:MAX_TAG]


ORDER_SORTS = {
    "id": Order.id,  # the first entry breaks ties (apply_sort)
    "created": Order.created_at,
    "number": Order.number,
    "customer": Customer.name_key,
    "total": Order.total_minor,
    "status": Order.status,
}


def order_select(f: OrderFilter) -> Select:
    """``SELECT orders JOIN customer`` filtered by ``f`` (the customer comes in the same row)."""
    return _filtered(select(Order).join(Order.customer).options(contains_eager(Order.customer)), f)


def order_count(f: OrderFilter) -> Select:
    """``SELECT count(*)`` of the rows of :func:`order_select`, for the list's page count.

    Every order has exactly one customer (a required foreign key), so the customer is joined only
    when the search needs it: the count then reads the ``(status, created_at)`` index alone
    instead of looking every matching order's customer up (90,000 lookups at 100k orders)."""
    stmt = select(func.count(Order.id)).select_from(Order)
    if f.q:
        stmt = stmt.join(Order.customer)
    return _filtered(stmt, f)


def _filtered(stmt: Select, f: OrderFilter) -> Select:
    stmt = stmt.where(order_scope())  # a salesperson seeing own customers only sees their orders
    if f.status == "open":
        stmt = stmt.where(Order.status.in_(sorted(states.OPEN)))
    elif f.status:
        stmt = stmt.where(Order.status == f.status)
    if f.customer_id:
        stmt = stmt.where(Order.customer_id == f.customer_id)
    if f.channel:
        stmt = stmt.where(Order.channel == f.channel)
    if f.tag:
        stmt = stmt.where(exists().where(OrderTag.order_id == Order.id, OrderTag.tag == f.tag))
    zone = settings.company_timezone()
    if f.date_from:
        stmt = stmt.where(Order.created_at >= local_day_bounds(f.date_from, zone)[0])
    if f.date_to:
        stmt = stmt.where(Order.created_at < local_day_bounds(f.date_to, zone)[1])
    if f.q:
        stmt = stmt.where(order_search_clause(f.q))
    return stmt


def order_search_clause(q: str):
    """Number, customer name, contact name, phone digits, or a product code/name on a line."""
    text = q.strip()
    lowered = text.lower()
    conditions = [
        Order.number.like(like(text.upper()), escape="\\"),
        Customer.name_key.like(like(lowered), escape="\\"),
        func.lower(Order.contact_name).like(like(lowered), escape="\\"),
        exists().where(OrderLine.order_id == Order.id,
                       or_(OrderLine.sku.like(like(text.upper()), escape="\\"),
                           func.lower(OrderLine.name).like(like(lowered), escape="\\"))),
    ]
    digits = _digits(text)
    if len(digits) >= 3 and len(digits) >= len(text.replace(" ", "").replace("-", "")) - 1:
        conditions.append(Order.contact_phone_key.like(like(digits), escape="\\"))
        conditions.append(Customer.phone_key.like(like(digits), escape="\\"))
    return or_(*conditions)


# ----------------------------------------------------------------------------- customers and products


CUSTOMER_SORTS = {"name": Customer.name_key, "created": Customer.id, "phone": Customer.phone_key}
PRODUCT_SORTS = {"sku": Product.sku, "name": Product.name_key, "price": Product.price_minor,
                 "created": Product.id}


def customer_search_clause(q: str):
    text = q.strip()
    conditions = [Customer.name_key.like(like(text.lower()), escape="\\"),
                  Customer.email.like(like(text.lower()), escape="\\")]
    digits = _digits(text)
    if len(digits) >= 3:
        conditions.append(Customer.phone_key.like(like(digits), escape="\\"))
    return or_(*conditions)


def customer_select(q: str = "", tag: str = "") -> Select:
    """Customers the user may see (:func:`~.services.customer_scope`) matching ``q`` and
    carrying ``tag``."""
    stmt = select(Customer).where(customer_scope())
    if q:
        stmt = stmt.where(customer_search_clause(q))
    if tag:
        stmt = stmt.where(tag_filter(tag))
    return stmt


def search_customers(q: str, limit: int = 10) -> list[Customer]:
    """Customers for the picker, with their addresses (two statements in all)."""
    stmt = customer_select(q).options(selectinload(Customer.addresses),
                                   selectinload(Customer.contacts)).order_by(Customer.name_key, Customer.id)
    return list(db.session.scalars(stmt.limit(limit)))


def product_search_clause(q: str):
    text = q.strip()
    return or_(Product.sku.like(like(text.upper()), escape="\\"),
               Product.name_key.like(like(text.lower()), escape="\\"),
               func.lower(Product.spec).like(like(text.lower()), escape="\\"))


def product_select(q: str = "", active: str = "") -> Select:
    stmt = select(Product)
    if q:
        stmt = stmt.where(product_search_clause(q))
    if active == "yes":
        stmt = stmt.where(Product.active.is_(True))
    elif active == "no":
        stmt = stmt.where(Product.active.is_(False))
    return stmt


def search_products(q: str, limit: int = 15) -> list[Product]:
    """Active products for the picker: exact code first, then by code."""
    stmt = product_select(q, "yes").order_by(case((Product.sku == q.strip().upper(), 0), else_=1), Product.sku)
    return list(db.session.scalars(stmt.limit(limit)))


def customer_order_stats(customer_ids: list[int]) -> dict[int, tuple[int, object]]:
    """``{customer_id: (number of orders, last order time)}`` in one statement."""
    if not customer_ids:
        return {}
    rows = db.session.execute(select(Order.customer_id, func.count(Order.id), func.max(Order.created_at))
                              .where(Order.customer_id.in_(customer_ids)).group_by(Order.customer_id))
    return {cid: (count, last) for cid, count, last in rows}


# ----------------------------------------------------------------------------- dashboard


def today_bounds():
    zone = settings.company_timezone()
    return local_day_bounds(to_zone(utcnow(), zone).date(), zone)


def awaiting_confirmation(limit: int = 6) -> dict:
    """Drafts waiting to be confirmed: how many, and the oldest few."""
    count = db.session.scalar(select(func.count()).select_from(Order).where(Order.status == states.DRAFT,
                                                                            order_scope()))
    oldest = list(db.session.scalars(
        select(Order).where(Order.status == states.DRAFT, order_scope()).order_by(Order.created_at, Order.id).limit(limit)))
    return {"count": count or 0, "orders": oldest}


def today_summary() -> dict:
    """Orders entered today (company calendar): count and value per currency, and how many
    were confirmed today; of the orders the logged-in user may see (as every dashboard count)."""
    start, end = today_bounds()
    rows = db.session.execute(
        select(Order.currency, func.count(Order.id), func.coalesce(func.sum(Order.total_minor), 0))
        .where(Order.created_at >= start, Order.created_at < end, Order.status != states.CANCELLED, order_scope())
        .group_by(Order.currency).order_by(func.count(Order.id).desc())).all()
    confirmed = db.session.scalar(select(func.count()).select_from(Order).where(
        Order.confirmed_at >= start, Order.confirmed_at < end, order_scope()))
    return {"count": sum(r[1] for r in rows), "totals": [(r[0], int(r[2])) for r in rows],
            "confirmed": confirmed or 0}


def daily_counts(days: int = 14) -> list[tuple[date, int]]:
    """Orders entered per company-local day over the last ``days`` days, in one statement."""
    zone = settings.company_timezone()
    today = to_zone(utcnow(), zone).date()
    day_list = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    bounds = [local_day_bounds(d, zone) for d in day_list]
    columns = [func.coalesce(func.sum(case((and_(Order.created_at >= s, Order.created_at < e), 1), else_=0)), 0)
               for s, e in bounds]
    row = db.session.execute(select(*columns).where(Order.created_at >= bounds[0][0],
                                                     Order.created_at < bounds[-1][1], order_scope())).one()
    return [(d, int(n)) for d, n in zip(day_list, row)]


def status_counts() -> dict[str, int]:
    rows = db.session.execute(select(Order.status, func.count(Order.id)).where(order_scope()).group_by(Order.status))
    return {status: count for status, count in rows}
