"""Teams: their weekly hours and members, who is on duty, and where a new ticket goes."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from erp_core import audit
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.timeutil import utcnow, valid_timezone

from .. import hours as hours_math
from .. import states
from ..models import Team, TeamHours, TeamMember, Ticket
from ._common import WEEKDAYS, raise_first, split_list


def parse_day_hours(text: str) -> list[tuple[int, int]]:
    """``"09:00-12:00, 13:00-18:00"`` -> [(540, 720), (780, 1080)]; empty -> []. ValueError when bad."""
    found = []
    for part in split_list(text):
        start_text, sep, end_text = part.replace("–", "-").partition("-")
        if not sep:
            raise ValueError(part)
        start, end = hours_math.parse_clock(start_text), hours_math.parse_clock(end_text)
        if end <= start:
            raise ValueError(part)
        found.append((start, end))
    found.sort()
    for (_s1, e1), (s2, _e2) in pairwise(found):
        if s2 < e1:
            raise ValueError(text)
    return found


def format_day_hours(team: Team, weekday: int) -> str:
    """The team's hours on a weekday as the form writes them (``"09:00-12:00, 13:00-18:00"``)."""
    return ", ".join(f"{hours_math.format_clock(h.start_minute)}-{hours_math.format_clock(h.end_minute)}"
                     for h in team.hours if h.weekday == weekday)


def save_team(team: Team | None, name: str, timezone_name: str, active: bool, week: dict[int, str],
              members: list[int], leads: list[int]) -> Team:
    """Create or change a team with its weekly hours (text per weekday) and members."""
    name = (name or "").strip()[:120]
    timezone_name = (timezone_name or "").strip()
    parsed = _check_team_form(team, name, timezone_name, week)
    wanted = _check_users(set(members) | set(leads))
    before = _team_snapshot(team) if team else None
    if team is None:
        team = Team(name=name, timezone=timezone_name, active=active)
        db.session.add(team)
    team.name, team.timezone, team.active = name, timezone_name, active
    team.hours = [TeamHours(weekday=d, start_minute=s, end_minute=e) for d in WEEKDAYS for s, e in parsed[d]]
    team.members = [TeamMember(user_id=u, is_lead=u in leads) for u in sorted(wanted)]
    db.session.flush()
    _audit_team(team, before)
    return team


def _check_team_form(team: Team | None, name: str, timezone_name: str,
                     week: dict[int, str]) -> dict[int, list[tuple[int, int]]]:
    """Check name, time zone and hours of a team form; the parsed hours per weekday."""
    errors = {}
    if not name:
        errors["name"] = _("The team needs a name.")
    elif db.session.scalar(select(Team.id).where(func.lower(Team.name) == name.lower(),
                                                 Team.id != (team.id if team else -1))):
        errors["name"] = _("Another team is called %(name)s.", name=name)
    if not valid_timezone(timezone_name):
        errors["timezone"] = _("Unknown time zone.")
    parsed = {}
    for weekday in WEEKDAYS:
        try:
            parsed[weekday] = parse_day_hours(week.get(weekday, ""))
        except ValueError:
            errors[f"day{weekday}"] = _("Write hours like 09:00-12:00, 13:00-18:00 (00:00-24:00 for the whole day).")
    raise_first(errors)
    return parsed


def _check_users(wanted: set[int]) -> set[int]:
    """Refuse member or lead ids that name no user."""
    from erp_core.auth.models import User

    known = set(db.session.scalars(select(User.id).where(User.id.in_(wanted)))) if wanted else set()
    if wanted - known:
        raise DomainError(_("Unknown user."), field="members")
    return wanted


def _audit_team(team: Team, before: dict | None) -> None:
    """Audit a new team, or what changed in an existing one."""
    after = _team_snapshot(team)
    if before is None:
        audit.record("support_team", team.id, "created", after=after)
        return
    b, a = audit.diff(before, after)
    if a:
        audit.record("support_team", team.id, "changed", before=b, after=a)


def _team_snapshot(team: Team) -> dict:
    return {"name": team.name, "timezone": team.timezone, "active": team.active,
            "hours": "; ".join(f"{d}: {format_day_hours(team, d)}" for d in WEEKDAYS if format_day_hours(team, d)),
            "members": sorted(m.user_id for m in team.members),
            "leads": sorted(m.user_id for m in team.members if m.is_lead)}


def active_teams(with_members: bool = False) -> list[Team]:
    """Active teams with their hours (and, when asked, their members and users) in 2-3 queries."""
    stmt = select(Team).where(Team.active.is_(True)).order_by(Team.name)
    if with_members:
        stmt = stmt.options(selectinload(Team.members).joinedload(TeamMember.user))
    return list(db.session.scalars(stmt))


def all_teams(with_members: bool = False) -> list[Team]:
    """Every team, active or not, by name (with members and users when asked)."""
    stmt = select(Team).order_by(Team.name)
    if with_members:
        stmt = stmt.options(selectinload(Team.members).joinedload(TeamMember.user))
    return list(db.session.scalars(stmt))


def teams_of(user_id: int) -> list[int]:
    """Ids of the teams a user belongs to."""
    return list(db.session.scalars(select(TeamMember.team_id).where(TeamMember.user_id == user_id)))


def is_lead(user_id: int, team_id: int | None = None) -> bool:
    """Whether the user leads the given team (or any team when none is given)."""
    stmt = select(TeamMember.team_id).where(TeamMember.user_id == user_id, TeamMember.is_lead.is_(True))
    if team_id is not None:
        stmt = stmt.where(TeamMember.team_id == team_id)
    return db.session.scalar(stmt.limit(1)) is not None


def on_duty(now: datetime | None = None, teams: list[Team] | None = None) -> list[Team]:
    """Active teams (or those of ``teams``) working at ``now``."""
    now = now or utcnow()
    return [t for t in (active_teams() if teams is None else teams) if hours_math.on_duty(t.weekly(), now)]


def route_team(now: datetime | None = None) -> Team | None:
    """The team a new ticket goes to: one on duty now with the fewest open tickets; else the
    team whose hours start soonest; else none."""
    now = now or utcnow()
    teams = active_teams()
    if not teams:
        return None
    working = [t for t in teams if hours_math.on_duty(t.weekly(), now)]
    if working:
        loads = dict(db.session.execute(
            select(Ticket.team_id, func.count()).where(Ticket.team_id.in_([t.id for t in working]),
                                                       Ticket.status.in_(states.ACTIVE))
            .group_by(Ticket.team_id)).all())
        return min(working, key=lambda t: (loads.get(t.id, 0), t.name))
    upcoming = [(hours_math.next_start(t.weekly(), now), t.name, t) for t in teams]
    upcoming = [u for u in upcoming if u[0] is not None]
    return min(upcoming)[2] if upcoming else teams[0]
