"""Tables of customer support (prefix ``support_``): teams and their hours, tickets, returns,
surveys, the customer links of orders, and the counters of the public forms' rate limit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp_core.db import UTCDateTime
from erp_core.extensions import db
from erp_core.timeutil import utcnow

# ----------------------------------------------------------------------------- teams


class Team(db.Model):
    """A support team working in its own time zone and weekly hours."""

    __tablename__ = "support_team"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    timezone: Mapped[str] = mapped_column(String(60), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    hours: Mapped[list[TeamHours]] = relationship(
        back_populates="team", cascade="all, delete-orphan", order_by="(TeamHours.weekday, TeamHours.start_minute)",
        lazy="selectin")
    members: Mapped[list[TeamMember]] = relationship(back_populates="team", cascade="all, delete-orphan")

    def weekly(self):
        from .hours import WeeklyHours

        return WeeklyHours(self.timezone, tuple((h.weekday, h.start_minute, h.end_minute) for h in self.hours))


class TeamHours(db.Model):
    """One interval of a team's week: ``weekday`` 0 = Monday, minutes of the local day."""

    __tablename__ = "support_team_hours"
    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday_range"),
        CheckConstraint("start_minute >= 0 AND end_minute <= 1440 AND end_minute > start_minute",
                        name="minutes_range"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("support_team.id", ondelete="CASCADE"), nullable=False, index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    start_minute: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    end_minute: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    team: Mapped[Team] = relationship(back_populates="hours")


class TeamMember(db.Model):
    __tablename__ = "support_team_member"
    team_id: Mapped[int] = mapped_column(ForeignKey("support_team.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"), primary_key=True,
                                         index=True)
    is_lead: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    team: Mapped[Team] = relationship(back_populates="members")
    user = relationship("User", lazy="joined")


# ----------------------------------------------------------------------------- tickets


class Ticket(db.Model):
    __tablename__ = "support_ticket"
    __table_args__ = (
        Index("ix_support_ticket_status_resolution_due", "status", "resolution_due"),
        Index("ix_support_ticket_status_first_due", "status", "first_response_due"),
        Index("ix_support_ticket_team_status", "team_id", "status"),
        Index("ix_support_ticket_assignee_status", "assignee_id", "status"),
        Index("ix_support_ticket_created", "created_at"),
        Index("ix_support_ticket_source", "source_type", "source_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    priority: Mapped[str] = mapped_column(String(16), nullable=False, default="normal")
    category: Mapped[str] = mapped_column(String(24), nullable=False, default="other")
    channel: Mapped[str] = mapped_column(String(16), nullable=False, default="web")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("orders_customer.id", ondelete="SET NULL"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders_order.id", ondelete="SET NULL"), index=True)
    contact_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    contact_email: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    contact_phone: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("support_team.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    first_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source_type: Mapped[str | None] = mapped_column(String(40))
    source_id: Mapped[str | None] = mapped_column(String(60))
    # The customer's link to the ticket is derived with HMAC from SECRET_KEY and this nonce.
    nonce: Mapped[str] = mapped_column(String(32), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    team: Mapped[Team | None] = relationship(lazy="joined")
    assignee = relationship("User", foreign_keys=[assignee_id], lazy="joined")
    order = relationship("Order", lazy="joined")
    messages: Mapped[list[TicketMessage]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketMessage.id")


class TicketMessage(db.Model):
    """One entry of a ticket's thread: ``reply`` (staff to customer), ``customer`` or ``note`` (internal)."""

    __tablename__ = "support_ticket_message"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("support_ticket.id", ondelete="CASCADE"), nullable=False,
                                           index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    emailed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    ticket: Mapped[Ticket] = relationship(back_populates="messages")


class Attachment(db.Model):
    """A file kept under ``UPLOAD_FOLDER/support/`` with a random name; served only to staff."""

    __tablename__ = "support_attachment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("support_ticket.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("support_ticket_message.id", ondelete="CASCADE"),
                                                   index=True)
    return_id: Mapped[int | None] = mapped_column(ForeignKey("support_return.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    stored_name: Mapped[str] = mapped_column(String(80), nullable=False, unique=True)
    content_type: Mapped[str] = mapped_column(String(80), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    from_customer: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class CannedReply(db.Model):
    __tablename__ = "support_canned_reply"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


# ----------------------------------------------------------------------------- returns


class ReturnRequest(db.Model):
    """A return / exchange request (RMA) of some delivered lines of one order."""

    __tablename__ = "support_return"
    __table_args__ = (
        Index("ix_support_return_status_created", "status", "created_at"),
        CheckConstraint("refund_amount_minor IS NULL OR refund_amount_minor >= 0", name="refund_not_negative"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="refund")  # refund | exchange
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="requested")
    reason_code: Mapped[str] = mapped_column(String(24), nullable=False, default="other")
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    staff_message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    restock: Mapped[bool | None] = mapped_column(Boolean)
    refund_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    # What support learnt of the refund from finance's events (plugins.support.returns_refunds):
    # requested | paid | failed | rejected | manual (paid back by hand); null: no refund asked.
    refund_state: Mapped[str | None] = mapped_column(String(16))
    refund_paid_minor: Mapped[int | None] = mapped_column(BigInteger)
    refund_state_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False, default="customer")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    order = relationship("Order", lazy="joined", innerjoin=True)
    lines: Mapped[list[ReturnLine]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="ReturnLine.id", lazy="selectin")
    links: Mapped[list[ReturnLink]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="ReturnLink.id")

    @property
    def amount_minor(self) -> int:
        """Value of the returned goods at the prices paid."""
        return sum(line.amount_minor for line in self.lines)

    @property
    def refund_info(self):
        """The refund as support last heard of it from finance (``returns_refunds.RefundState``), or None."""
        from .returns_refunds import state_of

        return state_of(self)

    def quantities(self) -> dict[int, int]:
        totals: dict[int, int] = {}
        for line in self.lines:
            totals[line.product_id] = totals.get(line.product_id, 0) + line.quantity
        return totals


class ReturnLine(db.Model):
    __tablename__ = "support_return_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("support_return.id", ondelete="CASCADE"), nullable=False,
                                           index=True)
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("orders_order_line.id", ondelete="SET NULL"),
                                                      index=True)
    product_id: Mapped[int] = mapped_column(Integer, nullable=False)
    sku: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    request: Mapped[ReturnRequest] = relationship(back_populates="lines")


class ReturnRefund(db.Model):
    """One refund finance made for a return, as support last heard of it (``erp_refund_recorded``,
    ``erp_refund_failed``): finance's refund id, its amount and state."""

    __tablename__ = "support_return_refund"
    __table_args__ = (UniqueConstraint("return_id", "refund_key", name="uq_support_return_refund_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("support_return.id", ondelete="CASCADE"), nullable=False,
                                           index=True)
    refund_key: Mapped[str] = mapped_column(String(60), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # requested | paid | failed | rejected
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class ReturnLink(db.Model):
    """What a return caused elsewhere: a stock move, a refund, a shipment (or the manual record)."""

    __tablename__ = "support_return_link"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("support_return.id", ondelete="CASCADE"), nullable=False,
                                           index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # stock | refund | shipment
    manual: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    label: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    url: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    external_id: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    actor_name: Mapped[str] = mapped_column(String(120), nullable=False, default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    request: Mapped[ReturnRequest] = relationship(back_populates="links")


# ----------------------------------------------------------------------------- surveys


class Survey(db.Model):
    """A satisfaction survey after a resolved ticket or a delivered order: one answer, expires."""

    __tablename__ = "support_survey"
    __table_args__ = (
        CheckConstraint("score IS NULL OR (score >= 1 AND score <= 5)", name="score_range"),
        Index("ix_support_survey_answered", "answered_at"),
        Index("ix_support_survey_unsent", "sent_at", "issued_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # ticket | order
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("support_ticket.id", ondelete="CASCADE"), unique=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders_order.id", ondelete="CASCADE"), index=True)
    # Set to the order id for order surveys only: one survey per delivered order.
    order_key: Mapped[int | None] = mapped_column(Integer, unique=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("support_team.id", ondelete="SET NULL"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    category: Mapped[str] = mapped_column(String(24), nullable=False, default="")
    email: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    nonce: Mapped[str] = mapped_column(String(32), nullable=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    followup_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("support_ticket.id", ondelete="SET NULL"))
    ticket = relationship("Ticket", foreign_keys=[ticket_id])
    order = relationship("Order")


# ----------------------------------------------------------------------------- public side


class OrderAccess(db.Model):
    """The customer's tracking link of an order: HMAC(SECRET_KEY, order id + this nonce).

    A null nonce means the link is revoked. The row is also the per-order lock that serialises
    return requests (an UPDATE of ``lock_count`` row-locks it on every backend).
    """

    __tablename__ = "support_order_access"
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id", ondelete="CASCADE"), primary_key=True)
    nonce: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lock_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class RateLimit(db.Model):
    """Hits of one public form by one client in one time window (shared by every process)."""

    __tablename__ = "support_rate_limit"
    __table_args__ = (UniqueConstraint("scope", "client", "window_start", name="uq_support_rate_limit_window"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(40), nullable=False)
    client: Mapped[str] = mapped_column(String(120), nullable=False)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    hits: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


# ----------------------------------------------------------------------------- customer notifications


class Notification(db.Model):
    """One message to a customer about their order (e-mail or text message).

    ``kind`` and ``status`` are codes, shown in the reader's language; ``ref`` names what it was
    about (``shipment:12``, ``return:3``...) so one event notifies once. ``body`` keeps the text of a
    message an SMS adapter only recorded (written in the customer's language)."""

    __tablename__ = "support_notification"
    __table_args__ = (
        Index("ix_support_notification_event", "order_id", "kind", "ref", "channel"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id", ondelete="CASCADE"), nullable=False,
                                          index=True)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    ref: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    channel: Mapped[str] = mapped_column(String(10), nullable=False)  # email | sms
    recipient: Mapped[str] = mapped_column(String(200), nullable=False)
    language: Mapped[str] = mapped_column(String(10), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    adapter: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
