"""Background work without Redis across processes: every gunicorn worker (``erp_core.wsgi``)
runs a job runner; queued jobs each run exactly once and the schedules once per interval,
however many processes poll the jobs table."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from erp_core import jobs, scheduler
from erp_core.extensions import db
from erp_core.models import Job, ScheduleRun
from tests.conftest import PG_URL
from tests.core.fakeplugins import alpha
from tests.scale.test_two_processes import ALPHA, ROOT, Server

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs ERP_TEST_DATABASE_URL (PostgreSQL)")
JOBS = 40


def test_gunicorn_workers_run_each_queued_job_once_and_each_schedule_once(make_app, pg_url):
    app = make_app(plugins=[ALPHA], JOB_RUNNER="off")
    with app.app_context():
        db.session.execute(select(1))
        for _ in range(JOBS):
            jobs.enqueue(alpha.queued_note)
        db.session.commit()
        schedules = [schedule.name for schedule in scheduler.schedules()]  # core's and alpha's
    assert "alpha.tick" in schedules and "core.mail.retry" in schedules
    env = {k: v for k, v in os.environ.items() if not k.startswith("ERP_")}
    env.update({"PYTHONPATH": str(ROOT), "ERP_DATABASE_URL": pg_url, "ERP_SECRET_KEY": "scale-secret",
                "ERP_PLUGINS": ALPHA, "ERP_LOAD_ENTRY_POINTS": "0", "ERP_JOB_POLL_INTERVAL": "0.2",
                "ERP_INSTANCE_PATH": str(Path(app.instance_path)), "ERP_LOG_LEVEL": "WARNING",
                "ALPHA_TICK_SECONDS": "3600"})
    servers = [Server(env, workers=2), Server(env, workers=2)]  # four runners
    try:
        deadline, pause = time.time() + 120, threading.Event()
        while time.time() < deadline:
            with app.app_context():
                left = db.session.scalar(select(func.count()).select_from(Job).where(Job.status != "done"))
                ticked = db.session.scalar(select(func.count()).select_from(ScheduleRun))
                db.session.rollback()
            if not left and ticked == len(schedules):
                break
            pause.wait(0.2)
    finally:
        for server in servers:
            server.stop()
    with app.app_context():
        notes = db.session.scalars(select(alpha.AlphaNote.text)).all()
        assert sorted(notes) == ["queued"] * JOBS + ["tick"]  # each job once, the schedule once
        statuses = db.session.scalars(select(Job.status)).all()
        assert set(statuses) == {"done"} and len(statuses) == JOBS + len(schedules)
        runs = {row.name: row.runs for row in db.session.scalars(select(ScheduleRun))}
        assert runs == dict.fromkeys(schedules, 1)
