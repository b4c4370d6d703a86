"""Background jobs: ``enqueue(func, *args)`` runs ``func`` after the caller's transaction commits.

Without Redis a job is a row of ``core_job`` written in the caller's transaction (a rollback, or
a rolled-back savepoint, drops it; a crash after commit loses none). The runner of any process
(:mod:`erp_core.runner`) claims it with a conditional UPDATE, runs it in a fresh app context and
commits; a failing job is retried with back-off and ends as "failed" after ``JOB_MAX_ATTEMPTS``.
With ``JOB_RUNNER = "inline"`` (the test apps) the committing thread runs the due jobs itself
right after commit, through the same table.

With ``REDIS_URL`` set, jobs go to RQ at commit and ``erp worker`` runs them.

A job is a module-level function given as the function itself or as ``"package.module:function"``;
its arguments must be JSON values (ids, not ORM objects).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from .extensions import db
from .models import Job
from .timeutil import utcnow

log = logging.getLogger(__name__)

_PENDING = "erp_pending_jobs"  # RQ: (owner transaction, item) waiting for the outermost commit
_QUEUED = "erp_queued_jobs"  # table: this transaction wrote job rows
BACKOFF = (10, 60, 300, 900, 3600)
_worker_app = None
_worker_pid = None
_local = threading.local()
_wake_events: set[threading.Event] = set()


def job_path(func: Callable | str) -> str:
    """``"module:qualname"`` of a job function."""
    if isinstance(func, str):
        return func
    return f"{func.__module__}:{func.__qualname__}"


def resolve(path: str) -> Callable:
    """Import the function named by ``"module:qualname"``."""
    module_name, _, attr = path.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        target = getattr(target, part)
    return target


def enqueue(func: Callable | str, *args, retries: int | None = None, **kwargs) -> None:
    """Queue ``func(*args, **kwargs)`` to run after the current transaction commits.

    ``retries``: how many times a failing job is tried again with back-off (10 s, 1 min, 5 min,
    ...); by default ``JOB_MAX_ATTEMPTS - 1`` for the jobs table, none on RQ.
    """
    app = current_app._get_current_object()
    path = job_path(func)
    try:
        json.dumps([args, kwargs])
    except (TypeError, ValueError) as exc:
        raise TypeError(f"arguments of job {path} must be JSON values (ids, not objects): {exc}") from None
    session = db.session()
    if app.config.get("REDIS_URL"):
        item = (path, args, kwargs, retries or 0)
        if session.in_transaction():
            # Remember the (sub)transaction it was queued in: a savepoint rolled back drops it.
            owner = session.get_nested_transaction() or session.get_transaction()
            session.info.setdefault(_PENDING, []).append((owner, item))
        else:
            _to_rq(app, [item])
        return
    attempts = int(app.config.get("JOB_MAX_ATTEMPTS", 3)) if retries is None else retries + 1
    now = utcnow()
    values = {"path": path, "args": list(args), "kwargs": dict(kwargs), "status": "queued", "attempts": 0,
              "max_attempts": max(1, attempts), "run_after": now, "created_at": now}
    if session.in_transaction():
        # In the caller's transaction (and savepoint): its rollback takes the row with it.
        session.execute(insert(Job.__table__).values(**values))
        session.info[_QUEUED] = True
    else:
        with db.engine.begin() as connection:
            connection.execute(insert(Job.__table__).values(**values))
        jobs_committed(app)


# SQLAlchemy also sends after_commit / after_rollback when a savepoint (begin_nested) ends.
# Releasing one is not the commit: its jobs wait for the outermost commit. Rolling one back drops
# only the jobs queued inside it (for the jobs table, the database itself does it).


@event.listens_for(Session, "after_commit")
def _after_commit(session):
    ending = session.get_nested_transaction()
    pending = session.info.get(_PENDING)
    if ending is not None:
        if pending:
            session.info[_PENDING] = [(ending.parent if owner is ending else owner, item) for owner, item in pending]
        return
    queued = session.info.pop(_QUEUED, False)
    session.info.pop(_PENDING, None)
    if pending:
        _to_rq(current_app._get_current_object(), [item for _owner, item in pending])
    if queued:
        jobs_committed(current_app._get_current_object())


@event.listens_for(Session, "after_rollback")
def _after_rollback(session):
    ending = session.get_nested_transaction()
    if ending is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_QUEUED, None)
        return
    pending = session.info.get(_PENDING)
    if pending:
        session.info[_PENDING] = [(owner, item) for owner, item in pending if owner is not ending]


def wake_after_commit() -> None:
    """The current transaction made a job due (a retry): run it or wake the runner at commit."""
    db.session().info[_QUEUED] = True


def jobs_committed(app) -> None:
    """New job rows are committed: run them now (``inline``) or wake this process's runner."""
    if app.config.get("JOB_RUNNER") == "inline":
        run_pending(app)
    else:
        for wake in list(_wake_events):
            wake.set()


def add_wake_event(wake: threading.Event) -> None:
    """Let a runner be woken when this process commits new jobs."""
    _wake_events.add(wake)


def remove_wake_event(wake: threading.Event) -> None:
    """Forget a stopped runner's wake event."""
    _wake_events.discard(wake)


# ----------------------------------------------------------------------------- the jobs table


def worker_name() -> str:
    """Who claims: host, process and thread (shown on the admin page)."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"[:120]


def claim_next(worker: str, now=None) -> Job | None:
    """Take the oldest due queued job for ``worker`` (conditional UPDATE); commits; None when idle."""
    now = now or utcnow()
    candidates = db.session.scalars(select(Job.id).where(Job.status == "queued", Job.run_after <= now)
                                    .order_by(Job.id).limit(10)).all()
    for job_id in candidates:
        won = db.session.execute(
            update(Job).where(Job.id == job_id, Job.status == "queued", Job.run_after <= now)
            .values(status="running", claimed_by=worker, claimed_at=now, attempts=Job.attempts + 1)
            .execution_options(synchronize_session=False)).rowcount == 1
        if won:
            db.session.commit()
            return db.session.get(Job, job_id)
    db.session.commit()
    return None


def run_claimed(app, job_id: int, path: str, args: list, kwargs: dict, worker: str) -> bool:
    """Run one claimed job in a fresh app context; True when it succeeded.

    Success marks it "done" in the job's own transaction; a failure rolls its work back and
    queues it again after a back-off, or marks it "failed" after its last attempt."""
    with app.app_context():
        try:
            resolve(path)(*args, **kwargs)
            db.session.execute(update(Job).where(Job.id == job_id, Job.claimed_by == worker)
                               .values(status="done", finished_at=utcnow())
                               .execution_options(synchronize_session=False))
            db.session.commit()
            return True
        except Exception as exc:
            db.session.rollback()
            log.exception("job %s failed", path)
            _record_failure(job_id, worker, exc)
            return False


def _record_failure(job_id: int, worker: str, exc: Exception) -> None:
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    tail = "".join(traceback.format_tb(exc.__traceback__)[-3:])
    error = f"{text}\n{tail}"[:4000]
    try:
        job = db.session.get(Job, job_id)
        if job is None or job.claimed_by != worker or job.status != "running":
            return  # discarded meanwhile, or its lease ran out and another runner has it
        now = utcnow()
        job.last_error = error
        if job.attempts >= job.max_attempts:
            job.status, job.finished_at = "failed", now
        else:
            job.status = "queued"
            job.run_after = now + timedelta(seconds=BACKOFF[min(job.attempts, len(BACKOFF)) - 1])
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("could not record the failure of job %s", job_id)


def run_pending(app, limit: int | None = None, worker: str | None = None) -> int:
    """Run the due queued jobs one by one (also those they queue) until none is left or ``limit``
    have run; returns how many ran. Tests call it to drain the queue deterministically."""
    if getattr(_local, "draining", False):
        return 0  # a job's own commit inside the loop below: the loop picks its jobs up
    worker = worker or worker_name()
    ran = 0
    _local.draining = True
    try:
        while limit is None or ran < limit:
            with app.app_context():
                job = claim_next(worker)
                if job is None:
                    return ran
                work = (job.id, job.path, list(job.args or []), dict(job.kwargs or {}))
            run_claimed(app, *work, worker=worker)
            ran += 1
        return ran
    finally:
        _local.draining = False


def requeue_stale(lease_seconds: int, now=None) -> int:
    """Jobs still "running" after ``lease_seconds`` (their process died) are queued again, or
    "failed" when that was their last attempt; commits; returns how many were changed."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=lease_seconds)
    stale = (Job.status == "running", Job.claimed_at < cutoff)
    again = db.session.execute(update(Job).where(*stale, Job.attempts < Job.max_attempts)
                               .values(status="queued", claimed_by=None,
                                       last_error="the process running it stopped before it finished")
                               .execution_options(synchronize_session=False)).rowcount
    given_up = db.session.execute(update(Job).where(*stale, Job.attempts >= Job.max_attempts)
                                  .values(status="failed", finished_at=now,
                                          last_error="the process running it stopped before it finished")
                                  .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return again + given_up


# ----------------------------------------------------------------------------- RQ


def _to_rq(app, items) -> None:
    from rq import Retry

    queue = rq_queue(app)
    intervals = [10, 60, 300, 900, 3600]
    for path, args, kwargs, retries in items:
        retry = Retry(max=retries, interval=intervals[:retries]) if retries else None
        queue.enqueue("erp_core.jobs.run_job", path, list(args), dict(kwargs), retry=retry)


def rq_queue(app):
    """The RQ queue of this site (``REDIS_URL``, queue ``JOB_QUEUE``)."""
    from redis import Redis
    from rq import Queue

    return Queue(app.config.get("JOB_QUEUE", "erp"), connection=Redis.from_url(app.config["REDIS_URL"]))


def set_worker_app(app) -> None:
    """Tell :func:`run_job` which app to use (``erp worker`` and tests call this)."""
    global _worker_app, _worker_pid
    _worker_app = app
    _worker_pid = os.getpid()


def run_job(path: str, args: list, kwargs: dict):
    """Entry point of RQ jobs: run ``path`` inside the site's app context and commit."""
    global _worker_app, _worker_pid
    if _worker_app is None:
        from .app import create_app

        _worker_app = create_app()
        _worker_pid = os.getpid()
    with _worker_app.app_context():
        if _worker_pid != os.getpid():
            # An RQ work horse is a fork of the worker, whose pooled connections (sockets) the
            # parent keeps using: leave them to it and open our own (SQLAlchemy's advice for fork).
            for engine in db.engines.values():
                engine.dispose(close=False)
            _worker_pid = os.getpid()
        try:
            result = resolve(path)(*args, **kwargs)
            db.session.commit()
            return result
        except Exception:
            db.session.rollback()
            raise
