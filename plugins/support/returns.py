"""Returns and exchanges (退换货): one request per return, one timeline linking what it caused.

requested -> approved | rejected; approved -> received (goods back on the shelf or written off,
through inventory's ``erp_order_goods_returned``); received -> refunded (finance's
``erp_refund_requested``) | exchanged (logistics' ``erp_replacement_shipment_requested``);
refunded, exchanged, rejected -> closed.

When no enabled plugin answers one of those hooks (inventory, finance or logistics switched off)
the step is recorded by hand: staff write what they did, and the request moves on all the same.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import lazyload

from erp_core import audit, webhooks
from erp_core.db import MAX_ID
from erp_core.errors import Conflict, DomainError, NotFound
from erp_core.extensions import db
from erp_core.i18n import system_text
from erp_core.mail import queue_mail
from erp_core.money import MoneyError, format_money, parse_amount, round_half_up
from erp_core.plugins import current_manager, hooks
from erp_core.timeutil import utcnow
from plugins.orders.public import Order, OrderLine, goods_came_back, money_returned

from . import public, returns_refunds, states, tokens, uploads
from .models import Attachment, ReturnLine, ReturnLink, ReturnRequest
from .returns_refunds import RETURN_SOURCE
from .scope import return_scope

# hook -> the kind of link its answers become
STEP_HOOKS = {
    "stock": "erp_order_goods_returned",
    "refund": "erp_refund_requested",
    "shipment": "erp_replacement_shipment_requested",
}
MAX_TEXT = 4000


def implementers(hook_name: str) -> list[str]:
    """Enabled plugins that answer ``hook_name`` (empty: the step is done by hand)."""
    return [name for name in current_manager().answerers(hook_name) if name != "support"]


def automatic(kind: str) -> bool:
    return bool(implementers(STEP_HOOKS[kind]))


# ----------------------------------------------------------------------------- what may come back


@dataclass
class ReturnableLine:
    line: OrderLine
    taken: int  # in other requests that were not rejected

    @property
    def available(self) -> int:
        return max(0, self.line.quantity - self.taken)


def counts_against(rr_alias=ReturnRequest):
    """Requests whose quantities are spoken for: every one except the rejected ones."""
    return rr_alias.rejected_at.is_(None)


def returnable_lines(order: Order) -> list[ReturnableLine]:
    """The order's lines with what is still returnable: delivered quantity less earlier requests."""
    if order.status not in states.DELIVERED_ORDER_STATUSES:
        return [ReturnableLine(line, line.quantity) for line in order.lines]
    taken = dict(db.session.execute(
        select(ReturnLine.order_line_id, func.sum(ReturnLine.quantity))
        .join(ReturnRequest, ReturnRequest.id == ReturnLine.return_id)
        .where(ReturnRequest.order_id == order.id, counts_against())
        .group_by(ReturnLine.order_line_id)).all())
    return [ReturnableLine(line, int(taken.get(line.id) or 0)) for line in order.lines]


def can_request(order: Order) -> bool:
    return order.status in states.DELIVERED_ORDER_STATUSES and any(r.available for r in returnable_lines(order))


def _parse_quantity(raw, available: int, name: str) -> int:
    text = str(raw if raw is not None else "").strip()
    if not text:
        return 0
    if not text.isdigit():
        raise DomainError(_("%(name)s: the quantity must be a whole number.", name=name), field="lines")
    value = int(text)
    if value and not available:
        raise DomainError(_("%(name)s: nothing is left to return.", name=name), field="lines")
    if value > available:
        raise DomainError(_("%(name)s: at most %(n)d can be returned.", name=name, n=available), field="lines")
    return value


def create_return(order: Order, kind: str, reason_code: str, reason: str, quantities: dict, source: str = "customer",
                  photos=(), now: datetime | None = None) -> ReturnRequest:
    """Ask to return some delivered lines. ``quantities`` maps order line ids to what the user typed."""
    now = now or utcnow()
    if order.status not in states.DELIVERED_ORDER_STATUSES:
        raise Conflict(_("Only delivered orders can be returned; order %(number)s is not delivered yet.",
                         number=order.number))
    if kind not in states.RETURN_KINDS:
        raise DomainError(_("Choose a refund or an exchange."), field="kind")
    if reason_code not in states.REASONS:
        raise DomainError(_("Choose a reason."), field="reason_code")
    reason = (reason or "").strip()[:MAX_TEXT]
    if reason_code == "other" and not reason:
        raise DomainError(_("Tell us what is wrong."), field="reason")
    checked = uploads.check_files(photos, field="photos")
    public.lock_for_returns(order)  # one request at a time per order, so quantities cannot be oversold
    chosen = []
    for item in returnable_lines(order):
        quantity = _parse_quantity(quantities.get(item.line.id, quantities.get(str(item.line.id))),
                                   item.available, item.line.name)
        if quantity:
            chosen.append((item.line, quantity))
    if not chosen:
        raise DomainError(_("Choose at least one item and its quantity."), field="lines")
    user_id, _name = audit.current_actor()
    from .services import next_number

    request = ReturnRequest(number=next_number("RMA", "support.return"), order_id=order.id, kind=kind,
                            status=states.REQUESTED, reason_code=reason_code, reason=reason, currency=order.currency,
                            source=source if source in ("customer", "staff") else "staff", created_at=now,
                            updated_at=now, created_by_id=user_id, version=1)
    request.lines = [ReturnLine(order_line_id=line.id, product_id=line.product_id, sku=line.sku, name=line.name,
                                quantity=quantity,
                                amount_minor=round_half_up(Decimal(line.line_total_minor) * quantity / line.quantity))
                     for line, quantity in chosen]
    db.session.add(request)
    db.session.flush()
    for upload in checked:
        db.session.add(Attachment(return_id=request.id, filename=upload.filename, stored_name=uploads.store(upload),
                                  content_type=upload.content_type, size=upload.size,
                                  from_customer=source == "customer", uploaded_by_id=user_id))
    db.session.flush()
    hooks().erp_return_status_changed(return_request=request, old_status=None, new_status=states.REQUESTED)
    webhooks.emit("return.status_changed", request, old_status=None, new_status=states.REQUESTED)
    audit.record("return", request.id, "created",
                 after={"number": request.number, "order": order.number, "kind": kind, "reason": reason_code,
                        "lines": {line.sku: quantity for line, quantity in chosen}},
                 note=reason or None)
    return request


def get_return(return_id) -> ReturnRequest:
    request = (db.session.get(ReturnRequest, int(return_id))
               if str(return_id).isdecimal() and int(return_id) <= MAX_ID else None)
    if request is None:
        raise NotFound(_("No such return request."))
    return request


# ----------------------------------------------------------------------------- the staff's steps


def _transition(request: ReturnRequest, new_status: str, expected_version, note: str | None = None,
                now: datetime | None = None) -> str:
    now = now or utcnow()
    tokens.bump_version(ReturnRequest, request, expected_version, _(
        "Return %(number)s was changed by someone else meanwhile. Reload the page; nothing was saved.",
        number=request.number))
    old = request.status
    if new_status not in states.RETURN_ALLOWED.get(old, ()):
        raise Conflict(_("A return that is %(old)s cannot become %(new)s.", old=states.RETURN_LABELS.get(old, old),
                         new=states.RETURN_LABELS.get(new_status, new_status)))
    request.status = new_status
    request.updated_at = now
    if new_status == states.REJECTED:
        request.rejected_at = now
    elif new_status == states.RECEIVED:
        request.received_at = now
    elif new_status == states.RETURN_CLOSED:
        request.closed_at = now
    db.session.flush()
    hooks().erp_return_status_changed(return_request=request, old_status=old, new_status=new_status)
    webhooks.emit("return.status_changed", request, old_status=old, new_status=new_status)
    audit.record("return", request.id, "status_changed", before={"status": old}, after={"status": new_status},
                 note=note or None)
    return old


def decide(request: ReturnRequest, approve: bool, message: str, expected_version=None) -> None:
    """Approve or reject, with a message for the customer (required to reject)."""
    message = (message or "").strip()[:MAX_TEXT]
    if not approve and not message:
        raise DomainError(_("Tell the customer why the return is rejected."), field="message")
    new_status = states.APPROVED if approve else states.REJECTED
    request.staff_message = message  # before the event: the approval notification quotes it
    _transition(request, new_status, expected_version, note=message)
    if not approve:  # an approval is told by the "return approved" notification (support.notifications)
        _tell_customer(request, _("Your return request %(number)s was rejected.", number=request.number), message)


def receive(request: ReturnRequest, restock: bool, note: str = "", expected_version=None) -> list[ReturnLink]:
    """The goods are back: restock or write off through inventory, else recorded by hand."""
    note = (note or "").strip()[:MAX_TEXT]
    manual = not automatic("stock")
    if manual and not note:
        raise DomainError(_("Inventory is switched off: write down what was done with the goods."), field="note")
    _transition(request, states.RECEIVED, expected_version, note=note)
    request.restock = restock
    links = _step(request, "stock", manual, note,
                  system_text("support.restocked_by_hand" if restock else "support.written_off_by_hand"),
                  lambda: hooks().erp_order_goods_returned(order=request.order, quantities=request.quantities(),
                                                           restock=restock, reference=request.number),
                  {"goods": system_text("support.back_on_shelf" if restock else "support.written_off")})
    goods_came_back(request.order, request.quantities(), restock, request.number)
    return links


def refund(request: ReturnRequest, amount_text: str | None, note: str = "", expected_version=None,
           amount_minor: int | None = None) -> list[ReturnLink]:
    """Refund the returned goods (at most what they cost) through finance, else recorded by hand.

    The amount is typed text (``amount_text``, a page) or minor units (``amount_minor``, the API);
    neither means the whole value of the goods.
    """
    note = (note or "").strip()[:MAX_TEXT]
    currency = request.currency
    raw = str(amount_text if amount_text is not None else "").strip()
    amount = request.amount_minor
    if amount_minor is not None:
        amount = int(amount_minor)
    elif raw:
        try:
            amount = parse_amount(raw, currency)
        except MoneyError:
            raise DomainError(_("Write the amount as a number, e.g. 12.50."), field="amount") from None
    if amount <= 0:
        raise DomainError(_("The refund must be more than zero."), field="amount")
    if amount > request.amount_minor:
        raise DomainError(_("At most %(max)s can be refunded for these goods.",
                            max=format_money(request.amount_minor, currency)), field="amount")
    manual = not automatic("refund")
    if manual and not note:
        raise DomainError(_("Finance is switched off: write down how the money was paid back (e.g. the transfer reference)."),
                          field="note")
    _transition(request, states.REFUNDED, expected_version, note=note)
    request.refund_amount_minor = amount
    links = _step(request, "refund", manual, note,
                  system_text("support.refunded_by_hand", amount={"money": amount, "currency": currency}),
                  lambda: hooks().erp_refund_requested(order=request.order, amount_minor=amount, currency=currency,
                                                        reason=system_text("support.return_reason", number=request.number),
                                                        source_type=RETURN_SOURCE, source_id=request.id),
                  {"amount": format_money(amount, currency)})
    returns_refunds.started(request, manual)
    if manual:  # with finance on, its refund announces the money when it is paid out
        money_returned(request.order, amount, currency, request.number)
    return links


def exchange(request: ReturnRequest, note: str = "", expected_version=None) -> list[ReturnLink]:
    """Send the same goods again through logistics, else recorded by hand."""
    note = (note or "").strip()[:MAX_TEXT]
    manual = not automatic("shipment")
    if manual and not note:
        raise DomainError(_("Logistics is switched off: write down how the replacement was sent (e.g. the tracking number)."),
                          field="note")
    _transition(request, states.EXCHANGED, expected_version, note=note)
    return _step(request, "shipment", manual, note, system_text("support.replacement_by_hand"),
                 lambda: hooks().erp_replacement_shipment_requested(
                     order=request.order, quantities=request.quantities(),
                     reason=system_text("support.exchange_reason", number=request.number), source_type="support_return",
                     source_id=request.id), {})


def close(request: ReturnRequest, note: str = "", expected_version=None) -> None:
    _transition(request, states.RETURN_CLOSED, expected_version, note=(note or "").strip()[:MAX_TEXT])


def _link(request: ReturnRequest, kind: str, manual: bool, label: str, note: str = "", url: str = "",
          external_id: str = "") -> ReturnLink:
    _user_id, actor = audit.current_actor()
    link = ReturnLink(return_id=request.id, kind=kind, manual=manual, label=str(label)[:200], url=(url or "")[:500],
                      external_id=str(external_id or "")[:60], note=note or "", actor_name=actor)
    db.session.add(link)
    db.session.flush()
    return link


def _step(request: ReturnRequest, kind: str, manual: bool, note: str, manual_label: str, fire, details: dict):
    """Link what a step caused: the hook's answers (``fire()``), or one record made by hand."""
    if manual:
        made = [_link(request, kind, manual=True, label=manual_label, note=note)]
    else:
        made = [_link(request, kind, manual=False, label=item.get("label") or kind, url=item.get("url") or "",
                      external_id=item.get("id") or "", note=note)
                for answer in fire() or [] for item in answer or []]
    after = {"links": [m.label for m in made], **details}
    if manual:
        after["by_hand"] = True
    audit.record("return", request.id, f"{kind}_linked", after=after)
    return made


def _tell_customer(request: ReturnRequest, subject: str, message: str) -> None:
    order = request.order
    email = order.contact_email or (order.customer.email if order.customer is not None else "")
    if not email:
        return
    link = public.tracking_url(order)
    body = subject + ("\n\n" + message if message else "") + (
        "\n\n" + _("Follow your order and the return here: %(url)s", url=link) if link else "")
    queue_mail(email, f"[{request.number}] {subject}", body)


def order_returns(order_id: int) -> list[ReturnRequest]:
    """The latest 50 return requests of an order, without joining the order again (the caller has it)."""
    return list(db.session.scalars(select(ReturnRequest).where(ReturnRequest.order_id == order_id)
                                   .options(lazyload(ReturnRequest.order))
                                   .order_by(ReturnRequest.id.desc()).limit(50)))


def status_counts() -> dict[str, int]:
    """Return requests per status, of those the logged-in user may see (``return_scope``)."""
    return dict(db.session.execute(select(ReturnRequest.status, func.count()).where(return_scope())
                                   .group_by(ReturnRequest.status)).all())


def quantities_text(request: ReturnRequest) -> str:
    totals: dict[str, int] = defaultdict(int)
    for line in request.lines:
        totals[line.sku] += line.quantity
    return ", ".join(f"{sku} × {qty}" for sku, qty in totals.items())


def source_labels(sources) -> dict[tuple[str, str], tuple[str, str | None]]:
    """``erp_source_labels`` for returns: ``"Return RMA-…"`` linked to the return's staff page,
    for every ``("support_return", id)`` pair in ``sources``, in one query."""
    from erp_core.ui import path_for

    ids = sorted({int(i) for t, i in sources if t == RETURN_SOURCE and str(i).isdigit() and int(i) <= MAX_ID})
    if not ids:
        return {}
    rows = db.session.execute(select(ReturnRequest.id, ReturnRequest.number).where(ReturnRequest.id.in_(ids)))
    return {(RETURN_SOURCE, str(rid)): (_("Return %(number)s", number=number), path_for("support.return_detail", return_id=rid))
            for rid, number in rows}
