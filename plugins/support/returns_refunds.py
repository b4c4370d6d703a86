"""What became of a return's refund: requested, paid, failed or rejected, as finance tells it.

Support asks finance for the money (``erp_refund_requested``, in :func:`plugins.support.returns.refund`);
finance may split it over several payments, and tells every change of each refund through
``erp_refund_recorded`` (requested, refunded, rejected) and ``erp_refund_failed`` (the payment
provider refused to pay it out). Support keeps what it heard on its own records
(:class:`~plugins.support.models.ReturnRefund` per refund, and the summary on the return), so its
pages never read finance's tables and still show the last known state when finance is off. With
finance off the money is paid back by hand and the state is ``manual``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from erp_core import audit
from erp_core.db import MAX_ID
from erp_core.extensions import db
from erp_core.money import format_money
from erp_core.timeutil import utcnow

from .models import ReturnRefund, ReturnRequest

RETURN_SOURCE = "support_return"  # the source_type support gives finance for a return's refunds

REQUESTED, PAID, FAILED, REJECTED, MANUAL = "requested", "paid", "failed", "rejected", "manual"
STATE_LABELS = {
    REQUESTED: _l("Refund requested"),
    PAID: _l("Refund paid"),
    FAILED: _l("Refund payment failed"),
    REJECTED: _l("Refund rejected"),
    MANUAL: _l("Refunded by hand"),
}
STATE_BADGES = {REQUESTED: "warning", PAID: "success", FAILED: "danger", REJECTED: "danger", MANUAL: "success"}
# What each state means, for staff and for the customer.
STATE_HELP = {
    REQUESTED: _l("Asked for; not paid out yet."),
    PAID: _l("The money was paid out."),
    FAILED: _l("The payment could not be made; it will be tried again."),
    REJECTED: _l("Rejected: no money was paid out."),
    MANUAL: _l("Paid back by hand, outside the system."),
}
# Finance's refund status -> support's word for it.
FINANCE_STATUS = {"requested": REQUESTED, "refunded": PAID, "rejected": REJECTED}
# The audit action written on the return when support learns a refund's new state.
ACTIONS = {PAID: "refund_paid", FAILED: "refund_failed", REJECTED: "refund_rejected"}


@dataclass(frozen=True)
class RefundState:
    """A return's refund as shown: its state, what was asked, what was paid, and whether it is
    less than the value of the returned goods (``partial``)."""

    state: str
    requested_minor: int
    paid_minor: int
    goods_minor: int
    currency: str

    @property
    def label(self):
        return STATE_LABELS[self.state]

    @property
    def badge(self) -> str:
        return STATE_BADGES[self.state]

    @property
    def help(self):
        return STATE_HELP[self.state]

    @property
    def amount_minor(self) -> int:
        """The money in question: what was paid once finance paid it, else what was asked."""
        return self.paid_minor if self.state == PAID else self.requested_minor

    @property
    def partial(self) -> bool:
        """Less money than the returned goods were worth (nothing at all when rejected)."""
        return self.state != REJECTED and self.amount_minor < self.goods_minor

    @property
    def partly_paid(self) -> bool:
        """Some of the money is paid and some is still waiting (or failed)."""
        return self.state in (REQUESTED, FAILED) and 0 < self.paid_minor < self.requested_minor

    def amount_text(self) -> str:
        """The money in words: "¥60.00", or "¥20.00 of ¥60.00 paid" while part of it waits."""
        if self.partly_paid:
            return _("%(paid)s of %(amount)s paid", paid=format_money(self.paid_minor, self.currency),
                     amount=format_money(self.requested_minor, self.currency))
        return format_money(self.amount_minor, self.currency)

    def partial_text(self) -> str:
        """Why the refund is partial ("" when it is not)."""
        if not self.partial:
            return ""
        return _("Partial refund: the goods are worth %(value)s", value=format_money(self.goods_minor, self.currency))


def state_of(request: ReturnRequest) -> RefundState | None:
    """The refund of ``request`` as support last heard of it; None when no refund was asked."""
    if request.refund_state not in STATE_LABELS or request.refund_amount_minor is None:
        return None
    paid = request.refund_paid_minor or 0
    if request.refund_state == MANUAL:
        paid = request.refund_amount_minor
    return RefundState(request.refund_state, request.refund_amount_minor, paid, request.amount_minor,
                       request.currency)


def combine(refunds: list[tuple[str, int]]) -> tuple[str | None, int]:
    """One state for a return from its refunds' ``(state, amount)``: failed or requested while any
    is, rejected when all are, else paid; and the sum paid."""
    if not refunds:
        return None, 0
    paid = sum(amount for state, amount in refunds if state == PAID)
    states = {state for state, _amount in refunds}
    if states == {REJECTED}:
        return REJECTED, 0
    for waiting in (FAILED, REQUESTED):
        if waiting in states:
            return waiting, paid
    return PAID, paid


def started(request: ReturnRequest, manual: bool) -> None:
    """The refund step was taken: by hand (the money is back), or asked of finance (which may
    already have told its refunds through ``erp_refund_recorded``)."""
    if manual:
        request.refund_state, request.refund_paid_minor = MANUAL, request.refund_amount_minor
    elif request.refund_state is None:  # a finance that answered the request but tells no events
        request.refund_state, request.refund_paid_minor = REQUESTED, 0
    request.refund_state_at = utcnow()


def _return_of(refund) -> ReturnRequest | None:
    if getattr(refund, "source_type", None) != RETURN_SOURCE:
        return None
    source_id = str(getattr(refund, "source_id", "") or "")
    if not source_id.isdigit() or int(source_id) > MAX_ID:
        return None
    # The return's row is locked before its refunds are summed: two refunds of one return paid at
    # the same moment must not each sum the other as still requested (a no-op UPDATE takes the
    # row lock on PostgreSQL and the write lock on SQLite).
    found = db.session.execute(update(ReturnRequest).where(ReturnRequest.id == int(source_id))
                               .values(id=ReturnRequest.id).execution_options(synchronize_session=False))
    if not found.rowcount:
        return None
    return db.session.get(ReturnRequest, int(source_id), populate_existing=True)


def _learn(refund, state: str, note: str = "") -> ReturnRequest | None:
    """Store ``state`` of finance's ``refund`` on its return and sum the return's refunds up."""
    request = _return_of(refund)
    if request is None:
        return None
    now = utcnow()
    key = str(refund.id)
    row = db.session.scalar(select(ReturnRefund).where(ReturnRefund.return_id == request.id,
                                                       ReturnRefund.refund_key == key))
    if row is None:
        row = ReturnRefund(return_id=request.id, refund_key=key, status=state, amount_minor=int(refund.amount_minor))
        db.session.add(row)
    elif row.status == state and state != FAILED:
        return request
    row.status, row.updated_at = state, now
    db.session.flush()
    known = db.session.execute(select(ReturnRefund.status, ReturnRefund.amount_minor)
                               .where(ReturnRefund.return_id == request.id)).all()
    request.refund_state, request.refund_paid_minor = combine([(r.status, r.amount_minor) for r in known])
    request.refund_state_at = now
    if state in ACTIONS:
        audit.record("return", request.id, ACTIONS[state],
                     after={"refund_amount": int(refund.amount_minor), "currency": refund.currency,
                            "refund_state": request.refund_state},
                     note=note or None)
    return request


def refund_recorded(refund) -> ReturnRequest | None:
    """``erp_refund_recorded``: a refund of a return was requested, paid or rejected by finance."""
    state = FINANCE_STATUS.get(getattr(refund, "status", None))
    return _learn(refund, state) if state else None


def refund_failed(refund, message: str) -> ReturnRequest | None:
    """``erp_refund_failed``: the provider refused to pay a return's refund out (it stays requested
    in finance, to be retried or rejected)."""
    return _learn(refund, FAILED, message)
