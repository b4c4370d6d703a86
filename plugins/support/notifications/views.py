"""The admin's preview of the customer notifications: one kind, in one language, about a chosen
order (by default the latest), or a made-up sample when the site has no order yet."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from erp_core.extensions import db
from erp_core.i18n import LANGUAGE_NAMES, company_locale, languages
from erp_core.security import requires
from plugins.orders.public import Order

from . import kinds, messages, send

bp = Blueprint("support_notify", __name__, url_prefix="/support/notifications")


def _order(raw: str | None) -> Order | None:
    """The chosen order (by id), else the latest one; None when there is none."""
    if raw and raw.isdigit() and len(raw) < 12:
        order = db.session.get(Order, int(raw))
        if order is not None:
            return order
    latest = db.session.scalar(select(func.max(Order.id)))
    return db.session.get(Order, latest) if latest else None


@bp.route("/preview", endpoint="preview")
@requires("core.settings.manage")
def preview():
    kind = request.args.get("kind")
    kind = kind if kind in kinds.KINDS else kinds.ORDER_CONFIRMED
    language = request.args.get("lang")
    order = _order(request.args.get("order_id"))
    if language not in languages():
        language = send.customer_language(order.customer) if order is not None else company_locale()
    facts = messages.sample_facts(kind)
    if order is not None:
        facts = {**facts, **messages.order_facts(order)}
    message = messages.render(kind, facts, language)
    return render_template("support/notify_preview.html", message=message, kind=kind, language=language,
                           order=order, kind_labels=kinds.KIND_LABELS, kinds=kinds.KINDS,
                           languages=[(code, LANGUAGE_NAMES.get(code, code)) for code in languages()],
                           enabled=send.enabled(kind))
