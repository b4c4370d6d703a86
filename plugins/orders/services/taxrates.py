"""The VAT rates an admin maintains (add, change, deactivate, delete when unused) and the tax
settings of the company (prices include tax, the default rate).

A rate in use (by a product, or as the default rate) is never deleted, only deactivated: order
lines keep a snapshot of their rate, so changing or deactivating a rate never rewrites an order.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import func, select

from erp_core import audit, settings
from erp_core.errors import Conflict, DomainError, NotFound
from erp_core.extensions import db

from .. import tax
from ..models import Product, TaxRate
from ._common import _clean


def get_rate(rate_id) -> TaxRate:
    """The rate with this id; NotFound when there is none."""
    rate = db.session.get(TaxRate, int(rate_id)) if str(rate_id).isdigit() else None
    if rate is None:
        raise NotFound(_("No such tax rate."))
    return rate


def all_rates() -> list[TaxRate]:
    """Every rate, active first, in their order (for the rates page)."""
    return list(db.session.scalars(select(TaxRate).order_by(TaxRate.active.desc(), TaxRate.position, TaxRate.id)))


def products_per_rate() -> dict[int, int]:
    """``{rate id: number of products with it}`` in one query."""
    rows = db.session.execute(select(Product.tax_rate_id, func.count()).where(Product.tax_rate_id.is_not(None))
                              .group_by(Product.tax_rate_id)).all()
    return {rate_id: count for rate_id, count in rows}


def parse_percent(raw) -> Decimal:
    """A rate's percent as typed (``"13"``, ``"6.5%"``): from 0 to below 1000, two decimals at most."""
    text = str(raw if raw is not None else "").strip().rstrip("%").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise DomainError(_("The rate must be a percentage, such as 13."), field="percent") from None
    if not value.is_finite() or value < 0 or value >= 1000:
        raise DomainError(_("The rate must be a percentage, such as 13."), field="percent")
    if value != value.quantize(Decimal("0.01")):
        raise DomainError(_("The rate has at most two decimals."), field="percent")
    return value.quantize(Decimal("0.01"))


def _values(name, percent, exempt, position) -> dict:
    name = _clean(name, 100)
    if not name:
        raise DomainError(_("The rate needs a name."), field="name")
    value = parse_percent(percent)
    if exempt and value != 0:
        raise DomainError(_("An exempt rate has no percentage: leave it at 0."), field="percent")
    try:
        position = int(str(position if position not in (None, "") else 0).strip())
    except ValueError:
        raise DomainError(_("The position must be a whole number."), field="position") from None
    return {"name": name, "percent": value, "exempt": bool(exempt), "position": max(min(position, 10_000), 0)}


def _check_unique(values: dict, active: bool, rate_id: int | None) -> None:
    """Two active rates never have the same percent (or are both exempt): a percent typed in the
    API or an import names one rate only."""
    if not active:
        return
    stmt = select(TaxRate.id).where(TaxRate.active.is_(True), TaxRate.exempt.is_(values["exempt"]))
    if not values["exempt"]:
        stmt = stmt.where(TaxRate.percent == values["percent"])
    if rate_id is not None:
        stmt = stmt.where(TaxRate.id != rate_id)
    if db.session.scalar(stmt.limit(1)) is not None:
        message = (_("An active exempt rate exists already.") if values["exempt"] else
                   _("An active rate of %(percent)s%% exists already.", percent=tax.percent_text(values["percent"])))
        raise Conflict(message, field="percent")


def _snapshot(rate: TaxRate) -> dict:
    return {"name": rate.name, "percent": tax.percent_text(rate.percent), "exempt": rate.exempt,
            "active": rate.active}


def create_rate(name: str, percent, exempt: bool = False, position=0) -> TaxRate:
    """Add an active rate (audited). Bad values raise DomainError naming the field; a second
    active rate of the same percent raises Conflict."""
    values = _values(name, percent, exempt, position)
    _check_unique(values, True, None)
    rate = TaxRate(active=True, **values)
    db.session.add(rate)
    db.session.flush()
    audit.record("tax_rate", rate.id, "created", after=_snapshot(rate))
    return rate


def update_rate(rate: TaxRate, name: str, percent, exempt: bool = False, position=0, active: bool = True) -> dict:
    """Change a rate (audited); orders already entered keep the rate they were entered with.
    Returns the changed fields. A deactivated default rate leaves products without a rate of
    their own untaxed, so it is refused while it is the default."""
    values = _values(name, percent, exempt, position)
    _check_unique(values, active, rate.id)
    if not active and rate.active and tax.default_rate_id() == rate.id:
        raise Conflict(_("This is the default rate: choose another default before deactivating it."), field="active")
    before = _snapshot(rate)
    for key, value in values.items():
        setattr(rate, key, value)
    rate.active = bool(active)
    b, a = audit.diff(before, _snapshot(rate))
    if a:
        audit.record("tax_rate", rate.id, "changed", before=b, after=a)
    return a


def set_active(rate: TaxRate, active: bool) -> None:
    """Deactivate (or activate again) a rate, audited."""
    update_rate(rate, rate.name, rate.percent, rate.exempt, rate.position, active)


def delete_rate(rate: TaxRate) -> None:
    """Delete a rate no product uses and that is not the default; else Conflict (deactivate it)."""
    used = db.session.scalar(select(func.count()).select_from(Product).where(Product.tax_rate_id == rate.id))
    if used or tax.default_rate_id() == rate.id:
        raise Conflict(_("%(name)s is in use: deactivate it instead.", name=tax.rate_name(rate)), code="in_use")
    audit.record("tax_rate", rate.id, "deleted", before=_snapshot(rate))
    db.session.delete(rate)
    db.session.flush()


def save_tax_settings(prices_include_tax: bool, default_rate_id) -> dict:
    """Store whether prices include tax and the default rate (an active rate's id, or empty for
    none); audited. Orders already entered keep how they were computed."""
    raw = str(default_rate_id or "").strip()
    problem = tax.check_default_rate(raw)
    if problem:
        raise DomainError(problem, field="default_rate")
    return settings.store({"orders.prices_include_tax": bool(prices_include_tax), "orders.default_tax_rate": raw},
                          [])
