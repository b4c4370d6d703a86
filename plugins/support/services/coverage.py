"""Coverage: when the active teams work, half-hour by half-hour, and where nobody does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from erp_core.timeutil import local_day_bounds

from .. import hours as hours_math
from ..models import Team
from .teams import active_teams


def coverage_gaps(start: datetime, end: datetime, teams: list[Team] | None = None) -> list[tuple[datetime, datetime]]:
    """When no active team (of ``teams``) works within ``[start, end)``."""
    return hours_math.gaps([t.weekly() for t in (active_teams() if teams is None else teams)], start, end)


@dataclass
class CoverageRow:
    """One team's (or the total's) share of each half-hour of a day."""

    label: str
    slots: list[float]  # share of each half-hour covered (0..1)
    team: Team | None = None


@dataclass
class CoverageDay:
    """A day's coverage: a row per team and the total of all of them."""

    day: date
    rows: list[CoverageRow]
    total: list[float]

    @property
    def has_gap(self) -> bool:
        """Whether some half-hour of the day is not fully covered."""
        return any(share < 1 for share in self.total)


def week_coverage(first_day: date, tz_name: str, days: int = 7, teams: list[Team] | None = None) -> list[CoverageDay]:
    """Half-hour coverage per team and overall for ``days`` days of the company's calendar."""
    teams = active_teams() if teams is None else teams
    result = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        day_start, day_end = local_day_bounds(day, tz_name)
        edges = _slot_edges(day, tz_name, day_end)
        per_team = {t.id: hours_math.intervals(t.weekly(), day_start, day_end) for t in teams}
        rows = [CoverageRow(t.name, [_share(per_team[t.id], a, b) for a, b in edges], t) for t in teams]
        union = hours_math.merge(i for spans in per_team.values() for i in spans)
        total = [_share(union, a, b) for a, b in edges]
        result.append(CoverageDay(day, rows, total))
    return result


def _slot_edges(day: date, tz_name: str, day_end: datetime) -> list[tuple[datetime, datetime]]:
    from zoneinfo import ZoneInfo

    from ..hours import _local_instant

    tz = ZoneInfo(tz_name)
    starts = [_local_instant(day, minute, tz) for minute in range(0, 1440, 30)]
    ends = starts[1:] + [day_end]
    return [(a, b) for a, b in zip(starts, ends)]


def _share(spans, start: datetime, end: datetime) -> float:
    if end <= start:
        return 1.0
    covered = sum(((min(e, end) - max(s, start)).total_seconds() for s, e in spans if s < end and e > start), 0.0)
    return round(covered / (end - start).total_seconds(), 3)
