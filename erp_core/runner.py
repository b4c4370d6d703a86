"""The background runner of every serving process (sites without Redis).

A daemon thread that polls the jobs table every ``JOB_POLL_INTERVAL`` seconds (and at once when
this process commits new jobs), claims due jobs one at a time with a conditional UPDATE and runs
each in a fresh app context; every ``SCHEDULER_TICK`` seconds it also ticks the scheduler (whose
claims keep each schedule once per interval across processes) and queues again the jobs whose
process died while running them (``JOB_LEASE``).

``erp run``, ``erp quickstart`` and every gunicorn worker (``erp_core.wsgi``) start one per
process with :func:`start_for_process` when ``JOB_RUNNER`` is ``"thread"`` (the default) and no
Redis is configured; ``erp worker`` runs the same loop in the foreground. Test apps use
``JOB_RUNNER = "inline"`` and start a runner only when a test asks for one.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from . import jobs, scheduler
from .extensions import db

log = logging.getLogger(__name__)

_process_runner: Runner | None = None
_process_lock = threading.Lock()
_fork_hook_registered = False


class Runner:
    """Runs queued jobs and ticks the scheduler until :meth:`stop` is called."""

    def __init__(self, app, *, poll: float | None = None, tick: float | None = None, schedules: bool = True):
        self.app = app
        self.poll = float(app.config.get("JOB_POLL_INTERVAL", 1.0) if poll is None else poll)
        self.tick = float(app.config.get("SCHEDULER_TICK", 30) if tick is None else tick)
        self.lease = int(app.config.get("JOB_LEASE", 900))
        self.schedules = schedules
        self.stop_event = threading.Event()
        self.wake_event = threading.Event()
        self.ticked = threading.Event()  # set after each scheduler tick (tests wait on it)
        self.thread: threading.Thread | None = None
        self.name = ""

    def start(self) -> Runner:
        """Start the daemon thread (returns self)."""
        jobs.add_wake_event(self.wake_event)
        self.thread = threading.Thread(target=self.run, name="erp-job-runner", daemon=True)
        self.thread.start()
        return self

    def stop(self, timeout: float = 30) -> None:
        """Ask the loop to end after the job it is running, and wait for it."""
        self.stop_event.set()
        self.wake_event.set()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(timeout)
        jobs.remove_wake_event(self.wake_event)

    def run(self) -> None:
        """The loop: tick when due, run every due job, wait for the poll interval or a wake-up."""
        self.name = jobs.worker_name()
        next_tick = 0.0
        while not self.stop_event.is_set():
            if time.monotonic() >= next_tick:
                self._tick()
                self.ticked.set()
                next_tick = time.monotonic() + self.tick
            self._drain()
            timeout = max(0.0, min(self.poll, next_tick - time.monotonic()))
            self.wake_event.wait(timeout)
            self.wake_event.clear()

    def _tick(self) -> None:
        with self.app.app_context():
            try:
                jobs.requeue_stale(self.lease)
                if self.schedules:
                    started = scheduler.run_due()
                    if started:
                        log.info("scheduled jobs started: %s", ", ".join(started))
            except Exception:
                db.session.rollback()
                log.exception("scheduler tick failed")

    def _drain(self) -> None:
        while not self.stop_event.is_set():
            try:
                if not jobs.run_pending(self.app, limit=1, worker=self.name):
                    return
            except Exception:  # the database went away: wait for the next poll
                log.exception("job runner could not read the jobs table")
                return


def wanted(app) -> bool:
    """True when this process should run jobs itself: no Redis and ``JOB_RUNNER = "thread"``."""
    return not app.config.get("REDIS_URL") and app.config.get("JOB_RUNNER", "thread") == "thread"


def start_for_process(app) -> Runner | None:
    """Start this process's runner once (``erp run``, ``erp quickstart``, each gunicorn worker).

    A process made by ``fork`` (gunicorn ``--preload``) gets a runner of its own: threads do not
    survive a fork, and the child opens its own database connections."""
    global _process_runner, _fork_hook_registered
    if not wanted(app):
        return None
    with _process_lock:
        if _process_runner is None:
            _process_runner = Runner(app).start()
            log.info("background job runner started (pid %s)", os.getpid())
        if not _fork_hook_registered and hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_after_fork)
            _fork_hook_registered = True
        return _process_runner


def _after_fork() -> None:
    global _process_runner, _process_lock
    _process_lock = threading.Lock()
    parent = _process_runner
    if parent is None:
        return
    jobs.remove_wake_event(parent.wake_event)
    _process_runner = None
    with parent.app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)  # the parent's connections stay the parent's
    start_for_process(parent.app)


def run_forever(app) -> None:
    """``erp worker`` without Redis: the runner's loop in the foreground."""
    runner = Runner(app)
    jobs.add_wake_event(runner.wake_event)
    try:
        runner.run()
    finally:
        jobs.remove_wake_event(runner.wake_event)
