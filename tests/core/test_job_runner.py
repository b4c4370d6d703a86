"""The jobs table and its background runner (sites without Redis): a job is a row written in the
caller's transaction, claimed once however many runners poll, retried with back-off, given up as
"failed" after its last attempt, queued again when its process died; the runner ticks schedules
and never runs a job inside a request."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from erp_core import jobs, runner
from erp_core.config import ConfigError
from erp_core.extensions import db
from erp_core.models import Job, ScheduleRun
from erp_core.security import public
from erp_core.timeutil import utcnow
from tests.core.fakeplugins.alpha import AlphaNote

ALPHA = "alpha=tests.core.fakeplugins.alpha"
RAN: list = []
DONE = threading.Event()


def record(text):
    """A job that writes down that it ran, where, and sets DONE."""
    RAN.append((text, threading.current_thread().name))
    db.session.add(AlphaNote(text=text))
    DONE.set()


def fail_always(text):
    """A job that writes, then fails."""
    db.session.add(AlphaNote(text=text))
    raise ValueError(f"cannot do {text}")


@pytest.fixture(autouse=True)
def _clear():
    RAN.clear()
    DONE.clear()
    yield
    RAN.clear()


@pytest.fixture
def queued_app(make_app):
    """Jobs wait in the table until a test runs them (no runner, nothing inline)."""
    return make_app(plugins=[ALPHA], JOB_RUNNER="off")


def _jobs(app) -> list[Job]:
    with app.app_context():
        rows = db.session.scalars(select(Job).order_by(Job.id)).all()
        db.session.expunge_all()
        return rows


def _notes(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(select(AlphaNote.text)).all())


def test_a_job_is_a_row_of_the_callers_transaction(queued_app):
    with queued_app.app_context():
        db.session.add(AlphaNote(text="work"))
        jobs.enqueue(record, "kept", retries=4)
        [row] = db.session.scalars(select(Job)).all()  # visible inside the transaction
        assert (row.path, row.args, row.kwargs, row.status, row.max_attempts) == (
            "tests.core.test_job_runner:record", ["kept"], {}, "queued", 5)
        db.session.commit()
        db.session.add(AlphaNote(text="rolled back"))
        db.session.flush()
        jobs.enqueue(record, "dropped")
        db.session.rollback()
        jobs.enqueue(record, "outside a transaction: at once")  # committed on its own
    assert [job.args for job in _jobs(queued_app)] == [["kept"], ["outside a transaction: at once"]]
    assert RAN == []  # JOB_RUNNER "off": nothing runs by itself
    assert jobs.run_pending(queued_app) == 2
    job = _jobs(queued_app)[0]
    assert job.status == "done" and job.attempts == 1 and job.finished_at is not None
    assert _notes(queued_app) == ["kept", "outside a transaction: at once", "work"]


def test_job_arguments_must_be_json(queued_app):
    with queued_app.app_context():
        with pytest.raises(TypeError, match="must be JSON values"):
            jobs.enqueue(record, object())
        db.session.rollback()
    assert _jobs(queued_app) == []


def test_a_failing_job_is_retried_with_back_off_then_failed_with_its_error(queued_app, caplog):
    with queued_app.app_context():
        jobs.enqueue(fail_always, "half", retries=1)
        db.session.commit()
    before = utcnow()
    assert jobs.run_pending(queued_app) == 1
    [job] = _jobs(queued_app)
    assert job.status == "queued" and job.attempts == 1 and "ValueError: cannot do half" in job.last_error
    assert job.run_after >= before + timedelta(seconds=jobs.BACKOFF[0])  # not before its back-off
    assert jobs.run_pending(queued_app) == 0
    assert _notes(queued_app) == []  # its write was rolled back
    with queued_app.app_context():
        db.session.execute(update(Job).values(run_after=utcnow()))
        db.session.commit()
    assert jobs.run_pending(queued_app) == 1
    [job] = _jobs(queued_app)
    assert job.status == "failed" and job.attempts == 2 and job.finished_at is not None
    assert "cannot do half" in job.last_error
    assert "job tests.core.test_job_runner:fail_always failed" in caplog.text


def test_a_job_left_running_by_a_dead_process_is_queued_again(queued_app):
    with queued_app.app_context():
        jobs.enqueue(record, "again", retries=1)
        jobs.enqueue(record, "last try", retries=0)
        db.session.commit()
        for _ in range(2):
            assert jobs.claim_next("dead-process") is not None  # claimed, then the process died
        assert jobs.requeue_stale(900) == 0  # within the lease: left alone
        assert jobs.requeue_stale(900, now=utcnow() + timedelta(seconds=901)) == 2
    again, last = _jobs(queued_app)
    assert (again.status, again.claimed_by) == ("queued", None)
    assert last.status == "failed" and "stopped before it finished" in last.last_error
    assert jobs.run_pending(queued_app) == 1
    assert [text for text, _thread in RAN] == ["again"]


def test_concurrent_runners_of_two_processes_run_each_job_once(make_app):
    apps = [make_app(plugins=[ALPHA], JOB_RUNNER="off"), make_app(plugins=[ALPHA], JOB_RUNNER="off")]
    with apps[0].app_context():
        for number in range(24):
            jobs.enqueue(record, f"job {number:02}")
        db.session.commit()
    barrier = threading.Barrier(4)
    errors = []

    def drain(app):
        try:
            barrier.wait(timeout=10)
            jobs.run_pending(app)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=drain, args=(apps[i % 2],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(text for text, _thread in RAN) == [f"job {n:02}" for n in range(24)]  # each exactly once
    assert {job.status for job in _jobs(apps[0])} == {"done"}


def test_the_runner_thread_runs_committed_jobs_outside_the_request(make_app):
    app = make_app(plugins=[ALPHA], JOB_RUNNER="thread", JOB_POLL_INTERVAL=30.0, SCHEDULER_TICK=3600)

    @public
    def save():
        db.session.add(AlphaNote(text="by request"))
        jobs.enqueue(record, "by runner")
        db.session.commit()
        return threading.current_thread().name

    app.add_url_rule("/test-save", "test_save", save, methods=["POST"])
    background = runner.Runner(app).start()
    try:
        response = app.test_client().post("/test-save")
        assert response.status_code == 200
        assert DONE.wait(20), "the runner did not run the job"
    finally:
        background.stop()
    [(text, thread)] = RAN
    assert text == "by runner" and thread == "erp-job-runner" != response.get_data(as_text=True)
    assert {"by request", "by runner"} <= set(_notes(app))
    assert [job.status for job in _jobs(app) if job.path.endswith(":record")] == ["done"]


def test_a_commit_that_queued_jobs_wakes_the_runners_of_its_process(make_app):
    app = make_app(plugins=[ALPHA], JOB_RUNNER="thread")
    wake = threading.Event()
    jobs.add_wake_event(wake)
    try:
        with app.app_context():
            db.session.add(AlphaNote(text="no job"))
            db.session.commit()
            assert not wake.is_set()
            db.session.add(AlphaNote(text="with a job"))
            jobs.enqueue(record, "wakes")
            assert not wake.is_set()  # not before the commit
            db.session.commit()
            assert wake.is_set()
    finally:
        jobs.remove_wake_event(wake)
    assert RAN == []  # woken, not run here


def test_the_runner_ticks_the_scheduler(make_app):
    app = make_app(plugins=[ALPHA], JOB_RUNNER="thread", JOB_POLL_INTERVAL=30.0, SCHEDULER_TICK=3600)
    background = runner.Runner(app).start()
    try:
        assert background.ticked.wait(20), "the runner did not tick"
    finally:
        background.stop()
    with app.app_context():
        ran = {row.name: row.runs for row in db.session.scalars(select(ScheduleRun))}
        queued = db.session.scalars(select(Job.path).order_by(Job.id)).all()
    assert ran == {"core.webhooks.retry": 1, "core.mail.retry": 1, "core.jobs.purge": 1, "alpha.tick": 1}
    assert queued == ["erp_core.webhooks:retry_due", "erp_core.mail.sending:retry_due",
                      "erp_core.background:purge_finished", "tests.core.fakeplugins.alpha:tick"]
    jobs.run_pending(app)  # whatever the runner had not reached before it stopped
    assert _notes(app) == ["tick"]


def test_one_runner_per_process_and_none_with_redis_or_off(make_app, monkeypatch):
    monkeypatch.setattr(runner, "_process_runner", None)
    assert runner.start_for_process(make_app(plugins=[], JOB_RUNNER="off")) is None
    assert runner.start_for_process(make_app(plugins=[], REDIS_URL="redis://127.0.0.1:6379/9")) is None
    app = make_app(plugins=[], JOB_RUNNER="thread", SCHEDULER_TICK=3600)
    first = runner.start_for_process(app)
    try:
        assert first is not None and first.thread.is_alive()
        assert runner.start_for_process(app) is first
    finally:
        first.stop()
    assert not first.thread.is_alive()


def test_an_unknown_runner_setting_is_refused(make_app):
    with pytest.raises(ConfigError, match="JOB_RUNNER must be thread, off or inline"):
        make_app(plugins=[], JOB_RUNNER="threads")
