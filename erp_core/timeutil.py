"""Time helpers: everything is stored in UTC and shown in the user's (or company's) zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


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
