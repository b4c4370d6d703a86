"""Time helpers: everything is stored in UTC and shown in the user's (or company's) zone."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_replayed: ContextVar[datetime | None] = ContextVar("erp_replayed_now", default=None)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC (the replayed moment inside :func:`replaying`)."""
    return _replayed.get() or datetime.now(UTC)


def wall_clock() -> datetime:
    """The real current time in UTC, also inside :func:`replaying`."""
    return datetime.now(UTC)


@contextmanager
def replaying(when: datetime) -> Iterator[None]:
    """Inside the block, :func:`utcnow` answers ``when``: every record, status time and audit entry
    written there carries that moment. For importers and demo data that replay past events;
    never for live changes."""
    if when.tzinfo is None:
        raise ValueError("replaying() needs an aware datetime")
    token = _replayed.set(when.astimezone(UTC))
    try:
        yield
    finally:
        _replayed.reset(token)


def valid_timezone(name: str) -> bool:
    """True when ``name`` is an IANA time zone this machine knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def local_day_bounds(day: date, tz_name: str) -> tuple[datetime, datetime]:
    """The UTC instants where the local calendar ``day`` in ``tz_name`` starts and ends."""
    tz = ZoneInfo(tz_name)
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def to_zone(value: datetime, tz_name: str) -> datetime:
    """``value`` (aware) expressed in the zone ``tz_name``."""
    return value.astimezone(ZoneInfo(tz_name))
