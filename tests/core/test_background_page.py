"""The "Background work" admin page and the dashboard's warning about schedules that stopped."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from erp_core import jobs, scheduler
from erp_core.extensions import db
from erp_core.models import AuditLog, Job, ScheduleRun
from erp_core.timeutil import utcnow
from tests.helpers import QueryCounter, login, make_user

ALPHA = "alpha=tests.core.fakeplugins.alpha"
PAGE = "/admin/jobs/"


def boom(text):
    """A job that always fails."""
    raise RuntimeError(f"receiver said no to {text}")


def fine(text):
    """A job that succeeds."""


@pytest.fixture
def site(make_app):
    return make_app(plugins=[ALPHA], JOB_RUNNER="off")


@pytest.fixture
def admin(site):
    client = site.test_client()
    login(client, site, make_user(site, roles=["admin"]))
    return client


def _queue(app, func, *args, retries=0) -> int:
    with app.app_context():
        db.session.execute(select(1))
        jobs.enqueue(func, *args, retries=retries)
        db.session.commit()
        return db.session.scalar(select(Job.id).order_by(Job.id.desc()))


def _job(app, job_id):
    with app.app_context():
        job = db.session.get(Job, job_id)
        if job is not None:
            db.session.expunge(job)
        return job


def test_staff_without_the_permission_are_refused(site):
    job_id = _queue(site, boom, "x")
    client = site.test_client()
    login(client, site, make_user(site, perms=["core.audit.view"]))
    assert client.get(PAGE).status_code == 403
    assert client.post(f"{PAGE}{job_id}/retry").status_code == 403
    assert client.post(f"{PAGE}{job_id}/discard").status_code == 403
    assert _job(site, job_id).status == "queued"
    assert site.test_client().get(PAGE).status_code == 302  # anonymous: to the sign-in page


def test_failed_jobs_show_their_error_and_can_be_retried(site, admin):
    job_id = _queue(site, boom, "<script>alert(1)</script>")
    jobs.run_pending(site)
    assert _job(site, job_id).status == "failed"
    page = admin.get(PAGE).get_data(as_text=True)  # failed jobs first when there are any
    assert "receiver said no to &lt;script&gt;" in page and "<script>alert(1)" not in page
    assert "tests.core.test_background_page:boom" in page and "Retry now" in page
    assert "Background work" in admin.get("/dashboard").get_data(as_text=True)  # in the admin menu

    response = admin.post(f"{PAGE}{job_id}/retry", data={"status": "failed"}, follow_redirects=True)
    assert "The job will run again shortly." in response.get_data(as_text=True)
    job = _job(site, job_id)
    assert (job.status, job.attempts, job.finished_at) == ("queued", 0, None)
    assert "receiver said no" in job.last_error  # the previous error stays visible until it succeeds
    with site.app_context():
        assert db.session.scalars(select(AuditLog.action).where(AuditLog.object_type == "job")).all() == ["retried"]


def test_discard_removes_a_waiting_job_but_not_a_running_or_done_one(site, admin):
    waiting = _queue(site, fine, "waiting")
    response = admin.post(f"{PAGE}{waiting}/discard", follow_redirects=True)
    assert "The job was discarded." in response.get_data(as_text=True)
    assert _job(site, waiting) is None

    running = _queue(site, fine, "running")
    with site.app_context():
        assert jobs.claim_next("elsewhere").id == running
    for action in ("discard", "retry"):
        page = admin.post(f"{PAGE}{running}/{action}", follow_redirects=True).get_data(as_text=True)
        assert "Only failed or waiting jobs can be" in page
    assert _job(site, running).status == "running"
    page = admin.post(f"{PAGE}{running + 100}/retry", follow_redirects=True).get_data(as_text=True)
    assert "This job no longer exists." in page
    page = admin.post(f"{PAGE}{running + 100}/discard", follow_redirects=True).get_data(as_text=True)
    assert "This job no longer exists." in page


def test_each_state_lists_its_jobs_paginated_without_a_query_per_row(site, admin):
    _queue(site, fine, "first")
    jobs.run_pending(site)
    with QueryCounter(_engine(site)) as few:
        page = admin.get(f"{PAGE}?status=done").get_data(as_text=True)
    assert "tests.core.test_background_page:fine" in page
    for number in range(30):
        _queue(site, fine, f"job {number}")
    jobs.run_pending(site)
    with QueryCounter(_engine(site)) as many:
        page = admin.get(f"{PAGE}?status=done&per_page=10").get_data(as_text=True)
    assert many.count == few.count
    assert len(re.findall(r'data-testid="job-\d+"', page)) == 10 and "page=2" in page
    assert ">31<" in page.replace(" ", "")  # the count badge of "Done"


def _engine(app):
    with app.app_context():
        return db.engine


def test_schedules_show_when_they_last_ran(site, admin):
    with site.app_context():
        scheduler.run_due()
    page = admin.get(PAGE).get_data(as_text=True)
    assert 'data-testid="schedule-core.webhooks.retry"' in page and 'data-testid="schedule-alpha.tick"' in page
    assert "1 minute" in page and "Never" not in page and "On time" in page
    # Titled by the plugin that declares it, in the reader's language; one without a title by its name.
    row = page.split('data-testid="schedule-core.webhooks.retry"')[1].split("</tr>")[0]
    assert "Retry failed webhook deliveries" in row and "core.webhooks.retry" not in row
    assert "alpha.tick" in page.split('data-testid="schedule-alpha.tick"')[1].split("</tr>")[0]
    admin.post("/language", data={"lang": "zh_CN"})
    chinese = admin.get(PAGE).get_data(as_text=True)
    row = chinese.split('data-testid="schedule-core.webhooks.retry"')[1].split("</tr>")[0]
    assert "重试发送失败的 Webhook" in row


def test_the_dashboard_warns_an_admin_when_schedules_stopped(site, admin):
    assert 'data-testid="schedules-overdue"' in admin.get("/dashboard").get_data(as_text=True)  # never ran
    with site.app_context():
        scheduler.run_due()
    assert 'data-testid="schedules-overdue"' not in admin.get("/dashboard").get_data(as_text=True)
    with site.app_context():
        # One interval and a half ago is still fine; two intervals ago is not.
        db.session.execute(update(ScheduleRun).where(ScheduleRun.name == "core.webhooks.retry")
                           .values(last_run_at=utcnow() - timedelta(seconds=90)))
        db.session.commit()
    assert 'data-testid="schedules-overdue"' not in admin.get("/dashboard").get_data(as_text=True)
    with site.app_context():
        db.session.execute(update(ScheduleRun).where(ScheduleRun.name == "core.webhooks.retry")
                           .values(last_run_at=utcnow() - timedelta(seconds=121)))
        db.session.commit()
    page = admin.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="schedules-overdue"' in page and "Retry failed webhook deliveries" in page
    assert "core.webhooks.retry" not in page.split('data-testid="schedules-overdue"')[1].split("</div>")[0]
    assert "alpha.tick" not in page.split('data-testid="schedules-overdue"')[1].split("</div>")[0]

    clerk = site.test_client()
    login(clerk, site, make_user(site, perms=["core.audit.view"]))
    assert 'data-testid="schedules-overdue"' not in clerk.get("/dashboard").get_data(as_text=True)


def test_finished_jobs_are_purged_after_the_kept_days(site):
    old, recent = _queue(site, fine, "old"), _queue(site, fine, "recent")
    failed = _queue(site, boom, "kept for a look")
    jobs.run_pending(site)
    with site.app_context():
        db.session.execute(update(Job).where(Job.id.in_([old, failed]))
                           .values(finished_at=utcnow() - timedelta(days=8)))
        db.session.commit()
        from erp_core.background import purge_finished

        assert purge_finished() == 1
        db.session.commit()
    assert _job(site, old) is None and _job(site, recent) is not None and _job(site, failed) is not None
