"""What the "Background work" admin page shows and does: jobs by state, retry and discard,
when each schedule last ran, and which schedules are overdue (the dashboard's warning)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from . import audit, jobs
from .errors import DomainError
from .extensions import db
from .models import Job, ScheduleRun
from .scheduler import schedules
from .timeutil import utcnow

STATUSES = ("queued", "running", "failed", "done")
OVERDUE_INTERVALS = 2


def status_counts() -> dict[str, int]:
    """How many jobs are in each state (one query)."""
    counts = dict.fromkeys(STATUSES, 0)
    counts.update(db.session.execute(select(Job.status, func.count()).group_by(Job.status)).all())
    return counts


def jobs_in(status: str):
    """The statement listing jobs in ``status``: finished ones newest first, waiting ones in queue order."""
    stmt = select(Job).where(Job.status == status)
    if status in ("done", "failed"):
        return stmt.order_by(Job.finished_at.desc(), Job.id.desc())
    return stmt.order_by(Job.id)


def schedule_states(now: datetime | None = None) -> list[dict]:
    """Each enabled schedule with its interval, when it last ran, how often, and whether it is
    overdue (not run for two of its intervals)."""
    now = now or utcnow()
    rows = {row.name: row for row in db.session.scalars(select(ScheduleRun))}
    states = []
    for schedule in schedules():
        row = rows.get(schedule.name)
        last = row.last_run_at if row else None
        overdue = last is None or last < now - timedelta(seconds=OVERDUE_INTERVALS * schedule.every_seconds)
        states.append({"name": schedule.name, "title": schedule.title or schedule.name,
                       "every_seconds": schedule.every_seconds, "job": schedule.job,
                       "last_run_at": last, "runs": row.runs if row else 0, "overdue": overdue})
    return states


def overdue_schedules(now: datetime | None = None) -> list:
    """Titles of the schedules that have not run for two of their intervals (the name of one
    declared without a title)."""
    return [state["title"] for state in schedule_states(now) if state["overdue"]]


def _job(job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None:
        raise DomainError(_("This job no longer exists."))
    return job


def retry(job_id: int) -> Job:
    """Run a failed (or waiting) job again as soon as a runner is free, with a fresh set of attempts."""
    job = _job(job_id)
    if job.status not in ("failed", "queued"):
        raise DomainError(_("Only failed or waiting jobs can be retried."))
    job.status, job.run_after, job.attempts, job.finished_at, job.claimed_by = "queued", utcnow(), 0, None, None
    audit.record("job", job.id, "retried", after={"path": job.path})
    jobs.wake_after_commit()
    return job


def discard(job_id: int) -> None:
    """Delete a failed or waiting job without running it."""
    job = _job(job_id)
    if job.status not in ("failed", "queued"):
        raise DomainError(_("Only failed or waiting jobs can be discarded."))
    audit.record("job", job.id, "discarded", before={"path": job.path, "args": job.args, "status": job.status})
    db.session.delete(job)


def purge_finished() -> int:
    """Schedule job: delete the jobs that finished successfully more than ``JOB_KEEP_DAYS`` ago."""
    cutoff = utcnow() - timedelta(days=int(current_app.config.get("JOB_KEEP_DAYS", 7)))
    return db.session.execute(delete(Job).where(Job.status == "done", Job.finished_at < cutoff)
                              .execution_options(synchronize_session=False)).rowcount
