"""Low stock: thresholds per product, the low-stock flag of each level, its alerts and mails."""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, insert, select, tuple_, update

from erp_core import audit, settings
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.mail import queue_mail
from erp_core.timeutil import utcnow
from plugins.orders.public import Product

from ..models import Level, LowStockAlert, StockRule, Warehouse

EMAIL_SETTING = "inventory.low_stock_emails"


def sync_low_flags(pairs) -> None:
    """Raise or re-arm the low-stock flag of the given levels (one UPDATE ... RETURNING).

    A level whose available falls below its product's threshold while not flagged is a
    crossing: it is recorded, announced through ``erp_stock_low`` and mailed. A flagged level
    back at or above the threshold is re-armed (and its alert marked resolved).
    """
    pairs = sorted(set(pairs))
    if not pairs:
        return
    threshold = func.coalesce(select(StockRule.low_threshold).where(StockRule.product_id == Level.product_id)
                              .scalar_subquery(), 0)
    is_low = (Level.on_hand - Level.reserved) < threshold
    wids = {w for _p, w in pairs}
    where = [Level.product_id.in_(sorted({p for p, _w in pairs})), Level.low_alerted != is_low]
    where.append(Level.warehouse_id == next(iter(wids)) if len(wids) == 1
                 else tuple_(Level.product_id, Level.warehouse_id).in_(pairs))
    flipped = db.session.execute(
        update(Level).where(*where).values(low_alerted=is_low)
        .returning(Level.product_id, Level.warehouse_id, Level.on_hand, Level.reserved, Level.low_alerted)
        .execution_options(synchronize_session=False)).all()
    if not flipped:
        return
    now = utcnow()
    crossed = [r for r in flipped if r.low_alerted]
    rearmed = [(r.product_id, r.warehouse_id) for r in flipped if not r.low_alerted]
    if rearmed:
        db.session.execute(update(LowStockAlert).where(
            LowStockAlert.resolved_at.is_(None),
            tuple_(LowStockAlert.product_id, LowStockAlert.warehouse_id).in_(rearmed)).values(resolved_at=now))
    if crossed:
        thresholds = dict(db.session.execute(select(StockRule.product_id, StockRule.low_threshold).where(
            StockRule.product_id.in_({r.product_id for r in crossed}))).all())
        alerts = [{"product_id": r.product_id, "warehouse_id": r.warehouse_id, "available": r.on_hand - r.reserved,
                   "threshold": thresholds.get(r.product_id, 0), "created_at": now} for r in crossed]
        db.session.execute(insert(LowStockAlert), alerts)
        hook = current_app.extensions["erp_plugins"].hook
        for a in alerts:
            hook.erp_stock_low(product_id=a["product_id"], warehouse_id=a["warehouse_id"],
                               available=a["available"], threshold=a["threshold"])
        _mail_low_stock(alerts)


def low_stock_recipients() -> list[str]:
    """The addresses low-stock mails go to (the site setting, split on commas or semicolons)."""
    raw = settings.get(EMAIL_SETTING) or ""
    return [a.strip() for a in str(raw).replace(";", ",").split(",") if a.strip()]


def _mail_low_stock(alerts: list[dict]) -> None:
    """One mail, in the company language, naming every product that just fell below its threshold."""
    recipients = low_stock_recipients()
    if not recipients:
        return
    products = {p.id: p for p in db.session.scalars(select(Product).where(
        Product.id.in_({a["product_id"] for a in alerts})))}
    names = dict(db.session.execute(select(Warehouse.id, Warehouse.name)).all())
    locale = settings.get("company.locale") or current_app.config.get("DEFAULT_LOCALE", "en")
    with force_locale(locale):
        lines = [_("%(sku)s %(name)s in %(warehouse)s: %(available)s available, threshold %(threshold)s",
                   sku=products[a["product_id"]].sku, name=products[a["product_id"]].name,
                   warehouse=names.get(a["warehouse_id"], "?"), available=a["available"], threshold=a["threshold"])
                 for a in alerts]
        subject = _("Low stock: %(n)s products below their threshold", n=len(alerts)) if len(alerts) > 1 else \
            _("Low stock: %(line)s", line=lines[0])
        body = "\n".join([_("These products fell below their low-stock threshold:"), ""] + ["- " + l for l in lines])
    queue_mail(recipients, subject, body)


def set_rule(product: Product, low_threshold, reorder_quantity) -> StockRule:
    """Set a product's low-stock threshold and reorder quantity, then re-check its levels."""
    values = {}
    for name, raw in (("low_threshold", low_threshold), ("reorder_quantity", reorder_quantity)):
        text = str(raw if raw is not None else "").strip() or "0"
        if not text.isdigit():
            raise DomainError(_("Enter a whole number of 0 or more."), field=name)
        values[name] = int(text)
        if values[name] > 1_000_000:
            raise DomainError(_("Quantity cannot exceed %(max)s.", max=1_000_000), field=name)
    rule = db.session.get(StockRule, product.id)
    before = {"low_threshold": rule.low_threshold, "reorder_quantity": rule.reorder_quantity} if rule else {}
    if rule is None:
        rule = StockRule(product_id=product.id)
        db.session.add(rule)
    rule.low_threshold, rule.reorder_quantity = values["low_threshold"], values["reorder_quantity"]
    rule.updated_at = utcnow()
    db.session.flush()
    b, a = audit.diff(before, values)
    if a:
        audit.record("product", product.id, "stock_rule_changed", before=b, after=a)
    wids = db.session.scalars(select(Level.warehouse_id).where(Level.product_id == product.id)).all()
    sync_low_flags([(product.id, w) for w in wids])
    return rule


def open_alert_count() -> int:
    """How many low-stock alerts are not resolved yet."""
    return db.session.scalar(select(func.count()).select_from(LowStockAlert).where(LowStockAlert.resolved_at.is_(None)))
