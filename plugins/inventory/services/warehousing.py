"""Warehouses: the default one, listing, creating and changing, switching off and on."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from erp_core import audit
from erp_core.errors import Conflict, DomainError, NotFound
from erp_core.extensions import db

from ..models import Level, Warehouse
from ._common import _clean


def find_default_warehouse() -> Warehouse | None:
    """The default warehouse, without creating one (for pages)."""
    return db.session.scalar(select(Warehouse).where(Warehouse.is_default.is_(True), Warehouse.active.is_(True)))


def default_warehouse() -> Warehouse:
    """The default warehouse; the first active one becomes it, and a site with none gets one."""
    found = find_default_warehouse()
    if found is not None:
        return found
    found = db.session.scalar(select(Warehouse).where(Warehouse.active.is_(True)).order_by(Warehouse.id))
    if found is not None:
        found.is_default = True
        return found
    try:
        with db.session.begin_nested():
            found = Warehouse(code="MAIN", name=_("Main warehouse"), is_default=True)
            db.session.add(found)
    except IntegrityError:  # created meanwhile by another transaction, or an inactive MAIN exists
        found = db.session.scalar(select(Warehouse).where(Warehouse.code == "MAIN"))
        found.active, found.is_default = True, True
    return found


def warehouses(active_only: bool = True) -> list[Warehouse]:
    """The warehouses, the default one first, then by name."""
    stmt = select(Warehouse).order_by(Warehouse.is_default.desc(), Warehouse.name)
    if active_only:
        stmt = stmt.where(Warehouse.active.is_(True))
    return list(db.session.scalars(stmt))


def get_warehouse(warehouse_id, active: bool = True, field_name: str = "warehouse_id") -> Warehouse:
    """The warehouse with this id (as typed); NotFound on ``field_name`` when unknown or inactive."""
    wh = db.session.get(Warehouse, int(warehouse_id)) if str(warehouse_id or "").strip().isdigit() else None
    if wh is None or (active and not wh.active):
        raise NotFound(_("Choose a warehouse."), field=field_name)
    return wh


def save_warehouse(wh: Warehouse | None, code: str, name: str, address: str = "") -> Warehouse:
    """Create (``wh`` None) or change a warehouse. Codes are unique, upper-cased."""
    code, name = _clean(code, 32).upper(), _clean(name, 120)
    if not code:
        raise DomainError(_("The warehouse needs a code."), field="code")
    if not name:
        raise DomainError(_("The warehouse needs a name."), field="name")
    clash = db.session.scalar(select(Warehouse.id).where(Warehouse.code == code))
    if clash and (wh is None or clash != wh.id):
        raise Conflict(_("The code %(code)s is already used by another warehouse.", code=code), field="code")
    if wh is None:
        wh = Warehouse(code=code, name=name, address=_clean(address, 2000),
                       is_default=not db.session.scalar(select(func.count()).select_from(Warehouse)))
        db.session.add(wh)
        db.session.flush()
        audit.record("warehouse", wh.id, "created", after={"code": code, "name": name})
        return wh
    before = {"code": wh.code, "name": wh.name, "address": wh.address}
    wh.code, wh.name, wh.address = code, name, _clean(address, 2000)
    b, a = audit.diff(before, {"code": wh.code, "name": wh.name, "address": wh.address})
    if a:
        audit.record("warehouse", wh.id, "changed", before=b, after=a)
    return wh


def set_default_warehouse(wh: Warehouse) -> None:
    """Make ``wh`` the default warehouse (an inactive one cannot be)."""
    if not wh.active:
        raise Conflict(_("An inactive warehouse cannot be the default."))
    db.session.execute(update(Warehouse).where(Warehouse.id != wh.id).values(is_default=False))
    wh.is_default = True
    audit.record("warehouse", wh.id, "made_default")


def set_warehouse_active(wh: Warehouse, active: bool) -> None:
    """Switch a warehouse off (only when it holds nothing and is not the default) or on again."""
    if wh.active == active:
        return
    if not active:
        if wh.is_default:
            raise Conflict(_("The default warehouse cannot be switched off; make another one the default first."))
        held = db.session.scalar(select(func.coalesce(func.sum(Level.on_hand), 0)).where(Level.warehouse_id == wh.id))
        if held:
            raise Conflict(_("%(name)s still holds %(n)s units; transfer them away first.", name=wh.name, n=held))
    wh.active = active
    audit.record("warehouse", wh.id, "activated" if active else "deactivated")
