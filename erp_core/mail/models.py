"""The outbox table: every outgoing message, its state, attempts and the server's last answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import UTCDateTime
from ..extensions import db
from ..timeutil import utcnow

QUEUED, SENDING, SENT, RETRYING, FAILED, NOT_CONFIGURED = (
    "queued", "sending", "sent", "retrying", "failed", "not_configured")
STATUSES = (QUEUED, SENDING, SENT, RETRYING, FAILED, NOT_CONFIGURED)


class MailMessage(db.Model):
    """One outgoing e-mail (``core_mail_outbox``), written in the transaction that wanted it sent."""

    __tablename__ = "core_mail_outbox"
    __table_args__ = (Index("ix_core_mail_outbox_due", "status", "next_attempt_at"),
                      Index("ix_core_mail_outbox_status", "status", "id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipients: Mapped[list] = mapped_column(JSON, nullable=False)
    subject: Mapped[str] = mapped_column(Text, nullable=False)
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    server_reply: Mapped[str | None] = mapped_column(String(500))
    message_id: Mapped[str | None] = mapped_column(String(250))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
