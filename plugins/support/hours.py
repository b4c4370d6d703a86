"""Working-hours arithmetic: weekly hours in a team's time zone, turned into UTC intervals.

A team works in weekly intervals ``(weekday, start_minute, end_minute)`` of its local clock
(weekday 0 is Monday; ``end_minute`` may be 1440, midnight at the end of the day). The functions
here turn those into real UTC intervals day by day with :mod:`zoneinfo`, so a shift crossing a
daylight-saving change lasts the real time it lasts (a 24-hour day is 23 or 25 hours long on
the change days). Due times are found by walking those real intervals: "4 working hours" means
four hours of real time inside the team's hours.

Local times that do not exist (the hour skipped in spring) are read with the offset before the
change, ambiguous ones (the hour repeated in autumn) as their first occurrence.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY = 1440
_SCAN_DAYS = 14  # how far ahead each search step looks


@dataclass(frozen=True)
class WeeklyHours:
    """The weekly schedule of one team: its zone and its intervals of local minutes."""

    tz: str
    intervals: tuple[tuple[int, int, int], ...]

    @property
    def empty(self) -> bool:
        return not self.intervals


def _local_instant(day: date, minute: int, tz: ZoneInfo) -> datetime:
    if minute >= DAY:
        day, minute = day + timedelta(days=minute // DAY), minute % DAY
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
    return local.astimezone(UTC)


def merge(intervals: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Sort and join overlapping or touching intervals."""
    merged: list[list[datetime]] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def intervals(hours: WeeklyHours, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The team's working time within ``[start, end)`` as merged UTC intervals."""
    if end <= start or hours.empty:
        return []
    tz = ZoneInfo(hours.tz)
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    found = []
    day = first
    while day <= last:
        for weekday, begin, finish in hours.intervals:
            if weekday == day.weekday():
                found.append((_local_instant(day, begin, tz), _local_instant(day, finish, tz)))
        day += timedelta(days=1)
    clipped = [(max(s, start), min(e, end)) for s, e in merge(found)]
    return [(s, e) for s, e in clipped if e > s]


def _walk(hours: WeeklyHours, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Working intervals from ``start`` onwards, forever (for a non-empty schedule)."""
    cursor = start
    while True:
        window_end = cursor + timedelta(days=_SCAN_DAYS)
        yield from intervals(hours, cursor, window_end)
        cursor = window_end


def add_working_minutes(hours: WeeklyHours | None, start: datetime, minutes: int) -> datetime:
    """The instant at which ``minutes`` of working time after ``start`` have passed.

    Without a schedule (no team, or a team with no hours) the clock runs all the time.
    """
    if hours is None or hours.empty:
        return start + timedelta(minutes=minutes)
    left = timedelta(minutes=max(0, minutes))
    if not left:
        return start
    for begin, finish in _walk(hours, start):
        span = finish - begin
        if span >= left:
            return begin + left
        left -= span
    raise AssertionError("unreachable")  # pragma: no cover


def working_minutes_between(hours: WeeklyHours | None, start: datetime, end: datetime) -> int:
    """Working minutes within ``[start, end)`` (whole minutes, rounded down)."""
    if end <= start:
        return 0
    if hours is None or hours.empty:
        return int((end - start).total_seconds() // 60)
    total = sum(((e - s) for s, e in intervals(hours, start, end)), timedelta())
    return int(total.total_seconds() // 60)


def on_duty(hours: WeeklyHours, at: datetime) -> bool:
    """Is the team working at the instant ``at``?"""
    return bool(intervals(hours, at, at + timedelta(seconds=1)))


def next_start(hours: WeeklyHours, at: datetime) -> datetime | None:
    """When the team is next on duty at or after ``at`` (``at`` itself when on duty now)."""
    if hours.empty:
        return None
    for begin, _finish in _walk(hours, at):
        return begin
    return None  # pragma: no cover


def gaps(schedules: Iterable[WeeklyHours], start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Stretches of ``[start, end)`` when no schedule is working."""
    covered = merge(i for hours in schedules for i in intervals(hours, start, end))
    found, cursor = [], start
    for begin, finish in covered:
        if begin > cursor:
            found.append((cursor, begin))
        cursor = max(cursor, finish)
    if cursor < end:
        found.append((cursor, end))
    return found


def parse_clock(text: str) -> int:
    """``"09:30"`` -> 570 minutes; ``"24:00"`` -> 1440. Raises ValueError otherwise."""
    text = (text or "").strip()
    hour_text, sep, minute_text = text.partition(":")
    if not sep or not hour_text.isdigit() or not minute_text.isdigit() or len(minute_text) != 2:
        raise ValueError(text)
    hour, minute = int(hour_text), int(minute_text)
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        raise ValueError(text)
    return hour * 60 + minute


def format_clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
