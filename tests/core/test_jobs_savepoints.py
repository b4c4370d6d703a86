"""Jobs and savepoints: releasing a savepoint is not the commit, rolling one back drops only its jobs.

SQLAlchemy sends after_commit/after_rollback for savepoints (``begin_nested``) too; before this
was handled, a released savepoint ran the transaction's jobs while it was still open (on SQLite
they then waited for its write lock) and a rolled-back savepoint dropped every job queued so far.
"""

import pytest

from erp_core import jobs
from erp_core.extensions import db

RAN: list = []


def remember(text):
    RAN.append(text)


@pytest.fixture
def jobs_app(make_app):
    RAN.clear()
    return make_app(plugins=[])


def _begin():
    db.session.execute(db.text("SELECT 1"))  # start the outer transaction


def test_a_released_savepoint_does_not_run_the_jobs(jobs_app):
    with jobs_app.app_context():
        _begin()
        jobs.enqueue(remember, "before")
        with db.session.begin_nested():
            jobs.enqueue(remember, "inside")
        with db.session.begin_nested():
            with db.session.begin_nested():
                jobs.enqueue(remember, "deeper")
        assert RAN == []
        db.session.commit()
        assert RAN == ["before", "inside", "deeper"]


def test_a_rolled_back_savepoint_drops_only_its_own_jobs(jobs_app):
    with jobs_app.app_context():
        _begin()
        jobs.enqueue(remember, "kept")
        savepoint = db.session.begin_nested()
        jobs.enqueue(remember, "dropped")
        with db.session.begin_nested():
            jobs.enqueue(remember, "dropped too")
        savepoint.rollback()
        with db.session.begin_nested():
            jobs.enqueue(remember, "later")
        db.session.commit()
        assert RAN == ["kept", "later"]


def test_the_outer_rollback_drops_everything(jobs_app):
    with jobs_app.app_context():
        _begin()
        jobs.enqueue(remember, "a")
        with db.session.begin_nested():
            jobs.enqueue(remember, "b")
        db.session.rollback()
        db.session.commit()
        assert RAN == []
