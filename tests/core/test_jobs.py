"""Background jobs: run after commit, dropped on rollback, isolated failures, RQ on real Redis,
and schedules claimed once per interval however many processes tick."""

from __future__ import annotations

import logging
import os
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from erp_core import jobs, scheduler
from erp_core.extensions import db
from erp_core.models import ScheduleRun
from erp_core.security import public
from erp_core.testing import plugin_switched_off
from erp_core.timeutil import utcnow
from tests.core.fakeplugins.alpha import AlphaNote

ALPHA = "alpha=tests.core.fakeplugins.alpha"
REDIS_URL = os.environ.get("ERP_TEST_REDIS_URL") or None
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="set ERP_TEST_REDIS_URL to test against Redis")

RAN: list = []


# ----------------------------------------------------------------------------- job functions


def add_note(text):
    """A job: write a note (committed by the job runner)."""
    RAN.append(text)
    db.session.add(AlphaNote(text=text))


def rename_note(note_id, text):
    """A job that needs the data its caller committed."""
    note = db.session.get(AlphaNote, note_id)
    RAN.append((note_id, note.text if note else None))
    note.text = text


def explode(text):
    """A job that writes, then fails: its write must be rolled back."""
    db.session.add(AlphaNote(text=text))
    raise RuntimeError("job bug")


def note_connection(path):
    """A job that writes down which database connection object it ran on."""
    Path(path).write_text(str(id(db.session.connection().connection.dbapi_connection)))


class Namespace:
    @staticmethod
    def nested(text):
        RAN.append(("nested", text))


@pytest.fixture(autouse=True)
def _clear():
    RAN.clear()
    yield
    RAN.clear()


def _notes(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(select(AlphaNote.text)).all())


# ----------------------------------------------------------------------------- inline


def test_job_runs_only_after_commit_in_its_own_session(make_app):
    app = make_app(plugins=[ALPHA])
    with app.app_context():
        note = AlphaNote(text="draft")
        db.session.add(note)
        db.session.flush()
        jobs.enqueue(rename_note, note.id, "renamed by job")
        jobs.enqueue("tests.core.test_jobs:add_note", "second job")
        assert RAN == []  # nothing runs inside the transaction
        db.session.commit()
        assert RAN == [(note.id, "draft"), "second job"]  # in order, seeing the committed row
    assert _notes(app) == ["renamed by job", "second job"]


def test_job_queued_in_a_rolled_back_transaction_is_dropped(make_app):
    app = make_app(plugins=[ALPHA])
    with app.app_context():
        db.session.add(AlphaNote(text="never"))
        jobs.enqueue(add_note, "dropped")
        db.session.rollback()
        db.session.add(AlphaNote(text="kept"))
        db.session.commit()  # a later commit does not bring the dropped job back
    assert RAN == []
    assert _notes(app) == ["kept"]


def test_job_outside_a_transaction_runs_at_once(make_app):
    app = make_app(plugins=[ALPHA])
    with app.app_context():
        assert not db.session().in_transaction()
        jobs.enqueue(add_note, "now")
        assert RAN == ["now"]
    assert _notes(app) == ["now"]


def test_job_path_names_nested_functions():
    assert jobs.job_path(Namespace.nested) == "tests.core.test_jobs:Namespace.nested"
    jobs.resolve("tests.core.test_jobs:Namespace.nested")("x")
    assert RAN == [("nested", "x")]


def test_failing_inline_job_is_logged_and_the_request_still_succeeds(make_app, caplog):
    app = make_app(plugins=[ALPHA])

    @public
    def save():
        db.session.add(AlphaNote(text="saved by request"))
        jobs.enqueue(explode, "written by failing job")
        jobs.enqueue(add_note, "next job")
        db.session.commit()
        return "saved"

    app.add_url_rule("/test-save", "test_save", save, methods=["POST"])
    caplog.set_level(logging.ERROR, logger="erp_core.jobs")
    response = app.test_client().post("/test-save")
    assert response.status_code == 200 and response.get_data(as_text=True) == "saved"
    assert _notes(app) == ["next job", "saved by request"]  # the failing job's write is rolled back
    [record] = [r for r in caplog.records if r.name == "erp_core.jobs"]
    assert record.getMessage() == "job tests.core.test_jobs:explode failed"
    assert record.exc_info and "job bug" in str(record.exc_info[1])


# ----------------------------------------------------------------------------- RQ on real Redis


@pytest.fixture
def rq_app(make_app, monkeypatch):
    """An app whose jobs go to a queue of its own on the test Redis; the queue is removed after."""
    from redis import Redis
    from rq import Queue

    name = f"erp-test-{uuid.uuid4().hex[:10]}"
    app = make_app(plugins=[ALPHA], REDIS_URL=REDIS_URL, JOB_QUEUE=name)
    monkeypatch.setattr(jobs, "_worker_app", None)
    yield app
    connection = Redis.from_url(REDIS_URL)
    Queue(name, connection=connection).delete(delete_jobs=True)
    connection.close()


def _work(app):
    """Run the queue's jobs in this process, like `erp worker --burst` does in its own."""
    from rq import SimpleWorker

    jobs.set_worker_app(app)
    queue = jobs.rq_queue(app)
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    return queue


@pytest.mark.skipif(not hasattr(os, "fork"), reason="RQ work horses are forks (POSIX)")
def test_a_forked_work_horse_never_talks_on_the_workers_connections(make_app, monkeypatch, tmp_path):
    """RQ runs each job in a fork of ``erp worker``, whose scheduler thread keeps using its pool."""
    app = make_app(plugins=[ALPHA])
    monkeypatch.setattr(jobs, "_worker_app", None)
    jobs.set_worker_app(app)
    with app.app_context():
        parents = id(db.session.connection().connection.dbapi_connection)
        db.session.commit()  # back into the pool, where the fork finds it
    same_process = tmp_path / "same"
    jobs.run_job("tests.core.test_jobs:note_connection", [str(same_process)], {})
    assert same_process.read_text() == str(parents)  # in the worker itself the pool is reused

    in_horse = tmp_path / "horse"
    pid = os.fork()
    if pid == 0:  # the work horse
        code = 1
        try:
            jobs.run_job("tests.core.test_jobs:note_connection", [str(in_horse)], {})
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert in_horse.read_text() != str(parents)
    with app.app_context():
        assert db.session.execute(text("SELECT 1")).scalar() == 1  # the worker's connection still works


@needs_redis
def test_rq_job_is_queued_at_commit_and_run_by_the_worker(rq_app):
    queue = jobs.rq_queue(rq_app)
    with rq_app.app_context():
        db.session.add(AlphaNote(text="by request"))
        jobs.enqueue(add_note, "by worker")
        assert queue.count == 0  # not before commit
        db.session.commit()
    assert queue.count == 1 and RAN == []  # queued, not run inline
    [job] = queue.get_jobs()
    assert job.func_name == "erp_core.jobs.run_job"
    assert job.args == ("tests.core.test_jobs:add_note", ["by worker"], {})
    assert _notes(rq_app) == ["by request"]

    _work(rq_app)
    assert queue.count == 0 and queue.finished_job_registry.count == 1
    assert _notes(rq_app) == ["by request", "by worker"]


@needs_redis
def test_rq_job_of_a_rolled_back_transaction_never_reaches_redis(rq_app):
    queue = jobs.rq_queue(rq_app)
    with rq_app.app_context():
        db.session.add(AlphaNote(text="never"))
        jobs.enqueue(add_note, "dropped")
        db.session.rollback()
    assert queue.count == 0


@needs_redis
def test_failing_rq_job_is_rolled_back_and_retried_later(rq_app):
    queue = jobs.rq_queue(rq_app)
    with rq_app.app_context():
        jobs.enqueue(explode, "half done", retries=2)
    [job] = queue.get_jobs()
    assert job.retries_left == 2 and job.retry_intervals == [10, 60]
    _work(rq_app)
    job.refresh()
    assert job.get_status() == "scheduled" and job.retries_left == 1  # back in 10 s
    assert _notes(rq_app) == []  # its write was rolled back


@needs_redis
def test_due_schedule_is_queued_on_redis(rq_app):
    with rq_app.app_context():
        assert scheduler.run_due() == ["core.webhooks.retry", "core.mail.retry", "core.jobs.purge", "alpha.tick"]
    queue = _work(rq_app)
    assert queue.finished_job_registry.count == 4  # the core's webhook and mail retry scans and purge, alpha's tick
    assert _notes(rq_app) == ["tick"]


# ----------------------------------------------------------------------------- the scheduler


def test_concurrent_ticks_of_two_processes_claim_an_interval_once(make_app):
    """Four threads over two app objects (two processes) race for the same interval."""
    apps = [make_app(plugins=[ALPHA]), make_app(plugins=[ALPHA])]
    now = utcnow()
    barrier = threading.Barrier(4)
    results, errors = [], []

    def tick(app):
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results.append(scheduler.claim("race.tick", 60, now))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=tick, args=(apps[i % 2],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(results) == [False, False, False, True]
    with apps[0].app_context():
        row = db.session.get(ScheduleRun, "race.tick")
        assert row.runs == 1 and row.last_run_at == now


def test_schedules_of_a_switched_off_plugin_do_not_run(make_app):
    app = make_app(plugins=[ALPHA])
    with app.app_context():
        with plugin_switched_off(app, "alpha"):
            assert "alpha.tick" not in scheduler.run_due(utcnow())
        assert "alpha.tick" in scheduler.run_due(utcnow())
        assert "alpha.tick" not in scheduler.run_due(utcnow() + timedelta(seconds=59))
    assert _notes(app) == ["tick"]


def test_scheduler_loop_survives_a_failing_tick_and_stops_when_asked(make_app, monkeypatch, caplog):
    app = make_app(plugins=[ALPHA], SCHEDULER_TICK=0)
    stop = threading.Event()
    calls = []

    def run_due():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("tick bug")
        if len(calls) == 3:
            stop.set()
        return []

    monkeypatch.setattr(scheduler, "run_due", run_due)
    caplog.set_level(logging.ERROR, logger="erp_core.scheduler")
    worker = threading.Thread(target=scheduler.loop, args=(app, stop))
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive() and len(calls) == 3
    assert "scheduler tick failed" in caplog.text
