"""The "Background work" admin page: jobs by state, retry and discard, the schedules."""

from __future__ import annotations

import json
from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _

from .. import background
from ..forms import attempt
from ..security import requires
from ..ui import paginate

bp = Blueprint("jobs", __name__, url_prefix="/admin/jobs")


@bp.route("/")
@requires("core.jobs.manage")
def index():
    counts = background.status_counts()
    status = request.args.get("status")
    if status not in background.STATUSES:
        status = "failed" if counts["failed"] else "queued"
    page = paginate(background.jobs_in(status))
    # Arguments as the JSON they are stored as (escaped by the template, not \u-encoded).
    arguments = {job.id: json.dumps(job.args, ensure_ascii=False) + (
        " " + json.dumps(job.kwargs, ensure_ascii=False) if job.kwargs else "") for job in page.items}
    states = background.schedule_states()
    for state in states:
        state["interval"] = format_timedelta(timedelta(seconds=state["every_seconds"]), threshold=1)
    return render_template("admin/jobs.html", counts=counts, status=status, page=page, schedules=states,
                           arguments=arguments)


def _act(job_id: int, action, done_message: str, status: str | None):
    with attempt(on_error=lambda _form, exc: flash(str(exc), "warning")) as outcome:
        action(job_id)
    if outcome.ok:
        flash(done_message, "success")
    return redirect(url_for("jobs.index", status=status if status in background.STATUSES else None))


@bp.route("/<int:job_id>/retry", methods=["POST"])
@requires("core.jobs.manage")
def retry(job_id: int):
    return _act(job_id, background.retry, _("The job will run again shortly."), request.form.get("status"))


@bp.route("/<int:job_id>/discard", methods=["POST"])
@requires("core.jobs.manage")
def discard(job_id: int):
    return _act(job_id, background.discard, _("The job was discarded."), request.form.get("status"))
