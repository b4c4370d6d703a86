"""Background jobs: ``enqueue(func, *args)`` runs after the caller's transaction commits.

Inline by default (in a fresh app context, right after commit); on RQ when ``REDIS_URL`` is
set, in which case ``erp worker`` runs them. A job is a module-level function given as the
function itself or as ``"package.module:function"``; its arguments must be JSON-like values
(ids, not ORM objects). A rolled-back transaction drops the jobs it queued.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable
from typing import Any

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import db

log = logging.getLogger(__name__)

_PENDING = "erp_pending_jobs"
_worker_app = None
_worker_pid = None


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


def enqueue(func: Callable | str, *args, retries: int = 0, **kwargs) -> None:
    """Queue ``func(*args, **kwargs)`` to run after the current transaction commits.

    ``retries`` (RQ only) retries a failing job with back-off (10 s, 1 min, 5 min, ...).
    """
    item = (job_path(func), args, kwargs, retries)
    session = db.session()
    if session.in_transaction():
        # Remember the (sub)transaction it was queued in: a savepoint rolled back drops it.
        owner = session.get_nested_transaction() or session.get_transaction()
        session.info.setdefault(_PENDING, []).append((owner, item))
    else:
        _dispatch(current_app._get_current_object(), [item])


# SQLAlchemy also sends after_commit / after_rollback when a savepoint (begin_nested) ends.
# Releasing one is not the commit: its jobs wait for the outermost commit. Rolling one back drops
# only the jobs queued inside it.


@event.listens_for(Session, "after_commit")
def _after_commit(session):
    pending = session.info.get(_PENDING)
    if not pending:
        return
    ending = session.get_nested_transaction()
    if ending is not None:
        session.info[_PENDING] = [(ending.parent if owner is ending else owner, item) for owner, item in pending]
        return
    session.info.pop(_PENDING, None)
    _dispatch(current_app._get_current_object(), [item for _owner, item in pending])


@event.listens_for(Session, "after_rollback")
def _after_rollback(session):
    ending = session.get_nested_transaction()
    if ending is None:
        session.info.pop(_PENDING, None)
        return
    pending = session.info.get(_PENDING)
    if pending:
        session.info[_PENDING] = [(owner, item) for owner, item in pending if owner is not ending]


def _dispatch(app, items) -> None:
    redis_url = app.config.get("REDIS_URL")
    if redis_url:
        queue = rq_queue(app)
        from rq import Retry

        intervals = [10, 60, 300, 900, 3600]
        for path, args, kwargs, retries in items:
            retry = Retry(max=retries, interval=intervals[:retries]) if retries else None
            queue.enqueue("erp_core.jobs.run_job", path, list(args), dict(kwargs), retry=retry)
        return
    for path, args, kwargs, _retries in items:
        _run_inline(app, path, args, kwargs)


def _run_inline(app, path, args, kwargs) -> None:
    # A new app context gives the job its own session, independent of the committing one.
    with app.app_context():
        try:
            resolve(path)(*args, **kwargs)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", path)


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
