"""Periodic jobs that run once per interval across every process of the site.

Each process may tick; a schedule is *claimed* with one conditional UPDATE of its
``core_schedule_run`` row (``WHERE last_run_at <= now - interval``), so exactly one claimer wins
per interval, on SQLite and PostgreSQL alike. The winner queues the job.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from .contrib import Schedule
from .extensions import db
from .jobs import enqueue
from .models import ScheduleRun
from .timeutil import utcnow

log = logging.getLogger(__name__)


def schedules() -> list[Schedule]:
    """Schedules of the enabled plugins."""
    manager = current_app.extensions["erp_plugins"]
    found = []
    for _plugin, contributed in manager.call_each("erp_schedules"):
        found.extend(contributed or [])
    return found


def claim(name: str, every_seconds: int, now: datetime | None = None) -> bool:
    """Try to take this interval's run of ``name``; commits; True when this caller won."""
    now = now or utcnow()
    if db.session.get(ScheduleRun, name) is None:
        try:
            db.session.add(ScheduleRun(name=name, last_run_at=None, runs=0))
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
    cutoff = now - timedelta(seconds=every_seconds)
    result = db.session.execute(
        update(ScheduleRun)
        .where(ScheduleRun.name == name,
               or_(ScheduleRun.last_run_at.is_(None), ScheduleRun.last_run_at <= cutoff))
        .values(last_run_at=now, runs=ScheduleRun.runs + 1))
    won = result.rowcount == 1
    db.session.commit()
    return won


def run_due(now: datetime | None = None) -> list[str]:
    """Queue every schedule whose interval has passed; returns the names this process started."""
    started = []
    for schedule in schedules():
        if claim(schedule.name, schedule.every_seconds, now):
            enqueue(schedule.job)
            started.append(schedule.name)
    return started


def loop(app, stop_event=None) -> None:
    """Tick forever (``erp worker``): every ``SCHEDULER_TICK`` seconds run what is due."""
    tick = int(app.config.get("SCHEDULER_TICK", 30))
    while stop_event is None or not stop_event.is_set():
        with app.app_context():
            try:
                started = run_due()
                if started:
                    log.info("scheduled jobs started: %s", ", ".join(started))
            except Exception:
                db.session.rollback()
                log.exception("scheduler tick failed")
        if stop_event is not None:
            stop_event.wait(tick)
        else:
            time.sleep(tick)
