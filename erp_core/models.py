"""Tables of the core (prefix ``core_``): plugin switches, settings, audit log, counters,
schedule runs, login throttling and background jobs. Users and roles live in :mod:`erp_core.auth.models`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from .db import UTCDateTime
from .extensions import db
from .timeutil import utcnow


class PluginState(db.Model):
    """The stored on/off switch of a plugin (absent: the configured default)."""

    __tablename__ = "core_plugin_state"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    changed_by: Mapped[str | None] = mapped_column(String(80))


class Setting(db.Model):
    """One site setting, as JSON, keyed by the dotted name declared by a SettingField."""

    __tablename__ = "core_setting"
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Counter(db.Model):
    """Named gap-free counters (order numbers per year, ...)."""

    __tablename__ = "core_counter"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class AuditLog(db.Model):
    """Append-only record of what happened: who, when, which object, what action, before -> after."""

    __tablename__ = "core_audit_log"
    __table_args__ = (Index("ix_core_audit_log_object", "object_type", "object_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"), index=True)
    actor_name: Mapped[str] = mapped_column(String(120), nullable=False, default="system")
    object_type: Mapped[str] = mapped_column(String(60), nullable=False)
    object_id: Mapped[str] = mapped_column(String(60), nullable=False)
    action: Mapped[str] = mapped_column(String(60), nullable=False)
    before: Mapped[object | None] = mapped_column(JSON)
    after: Mapped[object | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)


@event.listens_for(AuditLog, "before_update")
def _audit_is_append_only_update(*_args):
    raise RuntimeError("the audit log is append-only")


@event.listens_for(AuditLog, "before_delete")
def _audit_is_append_only_delete(*_args):
    raise RuntimeError("the audit log is append-only")


class ScheduleRun(db.Model):
    """When each periodic job last started, claimed with a conditional UPDATE across processes."""

    __tablename__ = "core_schedule_run"
    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    runs: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Job(db.Model):
    """A queued background job (when no Redis is configured), written in the transaction that
    queued it and run by the runner of any process (:mod:`erp_core.runner`), claimed with a
    conditional UPDATE so it runs once however many processes poll."""

    __tablename__ = "core_job"
    __table_args__ = (Index("ix_core_job_due", "status", "run_after"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(String(200), nullable=False)  # "package.module:function"
    args: Mapped[list] = mapped_column(JSON, nullable=False)
    kwargs: Mapped[dict] = mapped_column(JSON, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="queued")  # queued/running/done/failed
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
