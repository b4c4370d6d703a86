"""Staff pages of support: queues and tickets, returns, CSAT report, coverage, teams, canned
replies, and the order panel's link buttons. Thin: parse, call a service, commit or roll back
and show the message, redirect."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from werkzeug.routing import BuildError

from erp_core import audit, settings
from erp_core.auth.models import User
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.forms import attempt, show_domain_error
from erp_core.i18n import render_system_text
from erp_core.security import has_permission, requires, safe_next
from erp_core.timeutil import to_zone, utcnow
from erp_core.ui import apply_sort, paginate
from erp_core.web.templating import record_panels
from plugins.orders.public import Order, source_labels

from . import hours as hours_math
from . import public, returns, services, states, surveys, uploads
from .forms import (
    AssignForm,
    CannedForm,
    DecisionForm,
    DetailsForm,
    MessageForm,
    NoteForm,
    ReceiveForm,
    RefundForm,
    StaffReturnForm,
    StatusForm,
    TeamForm,
    TicketForm,
)
from .models import Attachment, CannedReply, ReturnRequest, Survey, Team, TeamMember, Ticket
from .scope import require_visible, return_scope

bp = Blueprint("support", __name__, url_prefix="/support", template_folder="templates", static_folder="static")

UNPROCESSABLE = 422


def order_url(order_id: int | None) -> str | None:
    """The staff page of an order, when the orders pages are there."""
    if not order_id:
        return None
    try:
        return url_for("orders.detail", order_id=order_id)
    except BuildError:
        return None


@bp.app_template_global("support_order_url")
def _order_url_global(order_id):
    return order_url(order_id)


def _refused(form, exc: DomainError) -> None:
    """``attempt``'s display for the long ticket and return pages: beside the field *and* flashed."""
    show_domain_error(form, exc)
    if form is not None and exc.field and getattr(form, exc.field, None) is not None:
        flash(str(exc), "danger")


def _agents() -> list[User]:
    members = select(TeamMember.user_id)
    agents = list(db.session.scalars(select(User).where(User.active.is_(True), User.id.in_(members))
                                     .order_by(User.username)))
    if not agents:
        agents = list(db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.username).limit(200)))
    if current_user.is_authenticated and all(u.id != current_user.id for u in agents):
        agents.append(current_user._get_current_object())
    return agents


def _all_teams() -> list[Team]:
    return services.all_teams()


# ----------------------------------------------------------------------------- queues


@bp.route("/")
@requires("support.tickets.view")
def queue():
    args = request.args
    default_queue = "mine" if db.session.scalar(select(Ticket.id).where(Ticket.assignee_id == current_user.id)
                                                .limit(1)) else "all"
    filters = services.TicketFilters(queue=args.get("queue", default_queue), status=args.get("status", ""),
                                     priority=args.get("priority", ""), category=args.get("category", ""),
                                     channel=args.get("channel", ""), team_id=args.get("team", ""),
                                     q=args.get("q", ""), order_id=args.get("order", ""))
    now = utcnow()
    stmt = services.ticket_query(filters, current_user.id, now)
    stmt, sort, desc = apply_sort(stmt, services.SORT_COLUMNS, "-id")
    page = paginate(stmt)
    return render_template("support/queue.html", page=page, filters=filters, sort=sort, desc=desc, now=now,
                           counts=services.queue_counts(current_user.id, now), teams=_all_teams(),
                           queues=services.QUEUES, states=states, is_overdue=services.is_overdue)


# ----------------------------------------------------------------------------- a ticket


@bp.route("/tickets/new", methods=["GET", "POST"])
@requires("support.tickets.reply")
def ticket_new():
    form = TicketForm(teams=services.active_teams(), agents=_agents())
    order = None
    if request.method == "GET" and request.args.get("order_id", "").isdigit():
        order = db.session.get(Order, int(request.args["order_id"]))
        if order is not None:
            form.order_number.data = order.number
            form.contact_name.data = order.contact_name
            form.contact_email.data = order.contact_email
            form.contact_phone.data = order.contact_phone
            form.subject.data = _("About order %(number)s", number=order.number)
    if form.validate_on_submit():
        order_id = None
        number = (form.order_number.data or "").strip().upper()
        if number:
            order_id = db.session.scalar(select(Order.id).where(func.upper(Order.number) == number))
            if order_id is None:
                form.order_number.errors = [_("No order has the number %(number)s.", number=number)]
        if not form.order_number.errors:
            with attempt(form, on_error=_refused) as outcome:
                ticket = services.open_ticket(services.TicketInput(
                    subject=form.subject.data, body=form.body.data, category=form.category.data,
                    priority=form.priority.data, channel=form.channel.data, order_id=order_id,
                    contact_name=form.contact_name.data, contact_email=form.contact_email.data,
                    contact_phone=form.contact_phone.data, team_id=form.team_id.data,
                    assignee_id=form.assignee_id.data, attachments=form.attachments.data))
            if outcome.ok:
                flash(_("Ticket %(number)s is open.", number=ticket.number), "success")
                return redirect(url_for("support.ticket", ticket_id=ticket.id))
    status = UNPROCESSABLE if request.method == "POST" else 200
    return render_template("support/ticket_new.html", form=form, order=order), status


def _ticket_page(ticket: Ticket, message_form=None, status: int = 200):
    if message_form is None:
        message_form = MessageForm(formdata=None)
        canned_id = request.args.get("canned", "")
        if canned_id.isdigit():
            canned = db.session.get(CannedReply, int(canned_id))
            if canned is not None and canned.active:
                message_form.body.data = services.render_canned(canned, ticket)
    message_form.version.data = str(ticket.version)
    assign_form = AssignForm(formdata=None, teams=_all_teams(), agents=_agents(), version=str(ticket.version),
                             team_id=str(ticket.team_id or ""), assignee_id=str(ticket.assignee_id or ""))
    details_form = DetailsForm(formdata=None, version=str(ticket.version), subject=render_system_text(ticket.subject),
                               category=ticket.category, priority=ticket.priority)
    canned = list(db.session.scalars(select(CannedReply).where(CannedReply.active.is_(True))
                                     .order_by(CannedReply.title)))
    survey = db.session.scalar(select(Survey).where(Survey.ticket_id == ticket.id))
    attachments: dict = {}
    for attachment in db.session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id)
                                         .order_by(Attachment.id)):
        attachments.setdefault(attachment.message_id, []).append(attachment)
    return render_template(
        "support/ticket.html", ticket=ticket, messages=ticket.messages, attachments=attachments,
        message_form=message_form, assign_form=assign_form, details_form=details_form, canned=canned,
        survey=survey, public_link=services.ticket_public_url(ticket), now=utcnow(), states=states,
        overdue=services.is_overdue(ticket), timeline=audit.timeline("ticket", ticket.id),
        can_assign=_may_assign(ticket), order_link=order_url(ticket.order_id),
        asked_by=source_labels([(ticket.source_type, ticket.source_id)]).get((ticket.source_type, str(ticket.source_id))),
        panels=record_panels("erp_ticket_panels", ticket=ticket)), status


@bp.route("/tickets/<int:ticket_id>")
@requires("support.tickets.view")
def ticket(ticket_id: int):
    return _ticket_page(require_visible(services.get_ticket(ticket_id)))


@bp.route("/tickets/<int:ticket_id>/messages", methods=["POST"])
@requires("support.tickets.reply")
def ticket_message(ticket_id: int):
    ticket = require_visible(services.get_ticket(ticket_id))
    form = MessageForm()
    if not form.validate_on_submit():
        return _ticket_page(ticket, form, UNPROCESSABLE)
    with attempt(form, on_error=_refused) as outcome:
        message = services.add_message(ticket, form.kind.data, form.body.data, attachments=form.attachments.data,
                                       then_status=form.then_status.data or None, expected_version=form.version.data)
    if not outcome.ok:
        ticket = require_visible(services.get_ticket(ticket_id))
        return _ticket_page(ticket, form, UNPROCESSABLE)
    if message.kind == "reply":
        flash(_("Reply sent to the customer by e-mail.") if message.emailed else
              _("Reply saved; the customer sees it on their page (no e-mail was sent)."), "success")
    else:
        flash(_("Note added."), "success")
    return redirect(url_for("support.ticket", ticket_id=ticket.id))


@bp.route("/tickets/<int:ticket_id>/status", methods=["POST"])
@requires("support.tickets.reply")
def ticket_status(ticket_id: int):
    ticket = require_visible(services.get_ticket(ticket_id))
    form = StatusForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            services.change_status(ticket, form.status.data, form.note.data, expected_version=form.version.data)
        if outcome.ok:
            flash(_("Ticket %(number)s is now %(status)s.", number=ticket.number,
                    status=states.TICKET_LABELS[ticket.status]), "success")
    else:
        flash(_("The form had expired. Please try again."), "danger")
    return redirect(url_for("support.ticket", ticket_id=ticket_id))


def _may_assign(ticket: Ticket) -> bool:
    return has_permission("support.tickets.assign") or services.is_lead(current_user.id, ticket.team_id)


@bp.route("/tickets/<int:ticket_id>/assign", methods=["POST"])
@requires("support.tickets.reply")
def ticket_assign(ticket_id: int):
    ticket = require_visible(services.get_ticket(ticket_id))
    form = AssignForm(teams=_all_teams(), agents=_agents())
    if request.form.get("take"):
        team_id, assignee_id = str(ticket.team_id or ""), str(current_user.id)
    else:
        team_id, assignee_id = request.form.get("team_id", ""), request.form.get("assignee_id", "")
        if not _may_assign(ticket) and not services.is_lead(current_user.id, int(team_id) if team_id.isdigit() else -1):
            abort(403)
    if form.validate_on_submit() or request.form.get("take"):
        with attempt() as outcome:
            services.assign(ticket, team_id, assignee_id, expected_version=request.form.get("version"))
        if outcome.ok:
            flash(_("Ticket %(number)s is assigned.", number=ticket.number), "success")
    else:
        flash(_("The form had expired. Please try again."), "danger")
    return redirect(url_for("support.ticket", ticket_id=ticket_id))


@bp.route("/tickets/<int:ticket_id>/details", methods=["POST"])
@requires("support.tickets.reply")
def ticket_details(ticket_id: int):
    ticket = require_visible(services.get_ticket(ticket_id))
    form = DetailsForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            services.update_details(ticket, form.subject.data, form.category.data, form.priority.data,
                                    expected_version=form.version.data)
        if outcome.ok:
            flash(_("Ticket %(number)s is saved.", number=ticket.number), "success")
    else:
        flash(_("Give the request a subject."), "danger")
    return redirect(url_for("support.ticket", ticket_id=ticket_id))


def _send_attachment(attachment: Attachment):
    path = uploads.path_of(attachment.stored_name)
    if path is None or not path.exists():
        abort(404)
    inline = attachment.content_type in uploads.IMAGE_TYPES or attachment.content_type == "application/pdf"
    response = send_file(path, mimetype=attachment.content_type, as_attachment=not inline,
                         download_name=attachment.filename, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/attachments/<int:attachment_id>")
@requires("support.tickets.view")
def attachment(attachment_id: int):
    item = db.session.get(Attachment, attachment_id)
    if item is None or item.ticket_id is None:
        abort(404)
    return _send_attachment(item)


# ----------------------------------------------------------------------------- returns


@bp.route("/returns")
@requires("support.returns.view")
def returns_list():
    args = request.args
    stmt = select(ReturnRequest).where(return_scope())
    status = args.get("status", "")
    if status == "open":
        stmt = stmt.where(ReturnRequest.status.in_(states.RETURN_OPEN))
    elif status in states.RETURN_STATUSES:
        stmt = stmt.where(ReturnRequest.status == status)
    if args.get("kind") in states.RETURN_KINDS:
        stmt = stmt.where(ReturnRequest.kind == args["kind"])
    q = (args.get("q") or "").strip().upper()
    if q:
        stmt = stmt.where(or_(ReturnRequest.number == q,
                              ReturnRequest.order_id.in_(select(Order.id).where(func.upper(Order.number) == q))))
    columns = {"id": ReturnRequest.id, "created": ReturnRequest.created_at, "updated": ReturnRequest.updated_at}
    stmt, sort, desc = apply_sort(stmt, columns, "-id")
    page = paginate(stmt)
    return render_template("support/returns.html", page=page, sort=sort, desc=desc, status=status, states=states)


@bp.route("/returns/new", methods=["GET", "POST"])
@requires("support.returns.manage")
def return_new():
    raw = request.values.get("order_id", "")
    order = db.session.get(Order, int(raw)) if raw.isdigit() else None
    if order is None:
        abort(404)
    form = StaffReturnForm()
    status = 200
    if form.validate_on_submit():
        quantities = {k[4:]: v for k, v in request.form.items() if k.startswith("qty-")}
        with attempt(form, on_error=_refused) as outcome:
            request_ = returns.create_return(order, form.kind.data, form.reason_code.data, form.reason.data,
                                             quantities, source="staff", photos=form.photos.data)
        if outcome.ok:
            flash(_("Return %(number)s is recorded.", number=request_.number), "success")
            return redirect(url_for("support.return_detail", return_id=request_.id))
        status = UNPROCESSABLE
    elif request.method == "POST":
        status = UNPROCESSABLE
    return render_template("support/return_new.html", form=form, order=order, lines=returns.returnable_lines(order),
                           posted={k[4:]: v for k, v in request.form.items() if k.startswith("qty-")},
                           order_link=order_url(order.id)), status


@bp.route("/returns/<int:return_id>")
@requires("support.returns.view")
def return_detail(return_id: int):
    request_ = require_visible(returns.get_return(return_id))
    photos = list(db.session.scalars(select(Attachment).where(Attachment.return_id == request_.id)
                                     .order_by(Attachment.id)))
    version = str(request_.version)
    return render_template(
        "support/return.html", rr=request_, photos=photos, states=states, timeline=audit.timeline("return", request_.id),
        decision_form=DecisionForm(formdata=None, version=version), receive_form=ReceiveForm(formdata=None, version=version),
        refund_form=RefundForm(formdata=None, version=version), note_form=NoteForm(formdata=None, version=version),
        automatic={kind: returns.automatic(kind) for kind in returns.STEP_HOOKS}, order_link=order_url(request_.order_id),
        tracking_url=public.tracking_url(request_.order),
        panels=record_panels("erp_return_panels", return_request=request_))


@bp.route("/returns/<int:return_id>/photos/<int:attachment_id>")
@requires("support.returns.view")
def return_photo(return_id: int, attachment_id: int):
    item = db.session.get(Attachment, attachment_id)
    if item is None or item.return_id != return_id:
        abort(404)
    return _send_attachment(item)


def _return_step(return_id: int, form_class, action, done_message):
    request_ = require_visible(returns.get_return(return_id))
    form = form_class()
    if not form.validate_on_submit():
        flash(_("The form had expired. Please try again."), "danger")
        return redirect(url_for("support.return_detail", return_id=return_id))
    with attempt() as outcome:
        action(request_, form)
    if outcome.ok:
        flash(done_message(request_), "success")
    return redirect(url_for("support.return_detail", return_id=return_id))


@bp.route("/returns/<int:return_id>/decide", methods=["POST"])
@requires("support.returns.manage")
def return_decide(return_id: int):
    return _return_step(
        return_id, DecisionForm,
        lambda rr, f: returns.decide(rr, f.decision.data == "approve", f.message.data, f.version.data),
        lambda rr: _("Return %(number)s is %(status)s.", number=rr.number, status=states.RETURN_LABELS[rr.status]))


@bp.route("/returns/<int:return_id>/receive", methods=["POST"])
@requires("support.returns.receive")
def return_receive(return_id: int):
    return _return_step(
        return_id, ReceiveForm,
        lambda rr, f: returns.receive(rr, f.restock.data != "write_off", f.note.data, f.version.data),
        lambda rr: _("The goods of %(number)s are received.", number=rr.number))


@bp.route("/returns/<int:return_id>/refund", methods=["POST"])
@requires("support.returns.manage")
def return_refund(return_id: int):
    return _return_step(
        return_id, RefundForm, lambda rr, f: returns.refund(rr, f.amount.data, f.note.data, f.version.data),
        lambda rr: _("Return %(number)s is refunded.", number=rr.number))


@bp.route("/returns/<int:return_id>/exchange", methods=["POST"])
@requires("support.returns.manage")
def return_exchange(return_id: int):
    return _return_step(
        return_id, NoteForm, lambda rr, f: returns.exchange(rr, f.note.data, f.version.data),
        lambda rr: _("A replacement for %(number)s is on its way.", number=rr.number))


@bp.route("/returns/<int:return_id>/close", methods=["POST"])
@requires("support.returns.manage")
def return_close(return_id: int):
    return _return_step(
        return_id, NoteForm, lambda rr, f: returns.close(rr, f.note.data, f.version.data),
        lambda rr: _("Return %(number)s is closed.", number=rr.number))


# ----------------------------------------------------------------------------- tracking link


@bp.route("/orders/<int:order_id>/link/<any(renew, revoke):action>", methods=["POST"])
@requires("support.tracking.manage")
def tracking_link(order_id: int, action: str):
    order = db.session.get(Order, order_id)
    if order is None:
        abort(404)
    if action == "renew":
        public.rotate(order)
        message = _("A new customer link was made for %(number)s; the old one no longer works.", number=order.number)
    else:
        public.revoke(order)
        message = _("The customer link of %(number)s is switched off.", number=order.number)
    db.session.commit()
    flash(message, "success")
    return redirect(safe_next(request.form.get("next"), order_url(order.id) or url_for("support.queue")))


# ----------------------------------------------------------------------------- CSAT


def _parse_day(raw: str | None, fallback: date) -> date:
    try:
        return datetime.strptime((raw or "").strip(), "%Y-%m-%d").date()
    except ValueError:
        if raw:
            flash(_("Dates are written YYYY-MM-DD."), "warning")
        return fallback


@bp.route("/csat")
@requires("support.reports.view")
def csat():
    args = request.args
    tz = settings.company_timezone()
    today = to_zone(utcnow(), tz).date()
    end = _parse_day(args.get("to"), today)
    start = _parse_day(args.get("from"), end - timedelta(days=89))
    if start > end:
        start, end = end, start
    if (end - start).days > 800:
        start = end - timedelta(days=800)
        flash(_("Reports cover at most 800 days; the start was moved."), "warning")
    period = args.get("period") if args.get("period") in ("day", "week", "month") else "week"
    filters = surveys.ReportFilters(
        start=start, end=end, kind=args.get("kind", ""), period=period, category=args.get("category", ""),
        team_id=int(args["team"]) if args.get("team", "").isdigit() else None,
        agent_id=int(args["agent"]) if args.get("agent", "").isdigit() else None)
    periods = surveys.by_period(filters, tz)
    chart = {"labels": [p.label for p in periods], "csat": [p.csat for p in periods],
             "responses": [p.responses for p in periods], "csat_label": _("CSAT (%)"),
             "responses_label": _("Answers")}
    max_score = int(args["max_score"]) if args.get("max_score", "") in ("1", "2", "3", "4", "5") else None
    comments = paginate(surveys.comments_query(filters, tz, max_score).order_by(Survey.answered_at.desc()))
    return render_template(
        "support/csat.html", filters=filters, summary=surveys.summary(filters, tz), periods=periods,
        chart=chart, by_team=surveys.breakdown(filters, tz, "team"),
        by_agent=surveys.breakdown(filters, tz, "agent"), by_category=surveys.breakdown(filters, tz, "category"),
        comments=comments, teams=_all_teams(), agents=_agents(), states=states, max_score=max_score)


# ----------------------------------------------------------------------------- coverage


@bp.route("/coverage")
@requires("support.tickets.view")
def coverage():
    tz = settings.company_timezone()
    now = utcnow()
    today = to_zone(now, tz).date()
    teams = services.active_teams(with_members=True)
    days = services.week_coverage(today, tz, teams=teams)
    duty = services.on_duty(now, teams)
    gaps = services.coverage_gaps(now, now + timedelta(days=7), teams) if teams else []
    return render_template("support/coverage.html", days=days, on_duty=duty, gaps=gaps, tz=tz, now=now,
                           teams=teams, format_clock=hours_math.format_clock,
                           next_start={t.id: hours_math.next_start(t.weekly(), now) for t in teams})


# ----------------------------------------------------------------------------- teams


@bp.route("/teams")
@requires("support.teams.manage")
def teams():
    return render_template("support/teams.html", teams=services.all_teams(with_members=True),
                           format_day_hours=services.format_day_hours)


@bp.route("/teams/new", methods=["GET", "POST"])
@bp.route("/teams/<int:team_id>", methods=["GET", "POST"])
@requires("support.teams.manage")
def team_edit(team_id: int | None = None):
    team = db.session.get(Team, team_id) if team_id else None
    if team_id and team is None:
        abort(404)
    form = _team_form(team)
    status = 200
    if form.validate_on_submit():
        with attempt(form) as outcome:
            team = services.save_team(team, form.name.data, form.timezone.data, form.active.data,
                                      {d: f.data or "" for d, f in enumerate(form.day_fields())},
                                      _ids(form.members.data), _ids(form.leads.data))
        if outcome.ok:
            flash(_("Team %(name)s is saved.", name=team.name), "success")
            return redirect(url_for("support.teams"))
        status = UNPROCESSABLE
    elif request.method == "POST":
        status = UNPROCESSABLE
    return render_template("support/team_form.html", form=form, team=team), status


def _ids(values) -> list[int]:
    return [int(x) for x in values or [] if x.isdigit()]


def _team_form(team: Team | None) -> TeamForm:
    """The team form with the active users to choose from; on GET, filled from ``team`` (or defaults)."""
    form = TeamForm(obj=None)
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.username))
    form.members.choices = form.leads.choices = [(str(u.id), u.label) for u in users]
    if request.method != "GET":
        return form
    if team is not None:
        form.name.data, form.timezone.data, form.active.data = team.name, team.timezone, team.active
        for d, f in enumerate(form.day_fields()):
            f.data = services.format_day_hours(team, d)
        form.members.data = [str(m.user_id) for m in team.members]
        form.leads.data = [str(m.user_id) for m in team.members if m.is_lead]
    else:
        form.timezone.data = settings.company_timezone()
        for d, f in enumerate(form.day_fields()):
            f.data = "09:00-18:00" if d < 5 else ""
    return form


# ----------------------------------------------------------------------------- canned replies


@bp.route("/canned")
@requires("support.canned.manage")
def canned_list():
    replies = list(db.session.scalars(select(CannedReply).order_by(CannedReply.title)))
    return render_template("support/canned.html", replies=replies)


@bp.route("/canned/new", methods=["GET", "POST"])
@bp.route("/canned/<int:reply_id>", methods=["GET", "POST"])
@requires("support.canned.manage")
def canned_edit(reply_id: int | None = None):
    reply = db.session.get(CannedReply, reply_id) if reply_id else None
    if reply_id and reply is None:
        abort(404)
    form = CannedForm(obj=reply)
    status = 200
    if form.validate_on_submit():
        with attempt(form) as outcome:
            reply = services.save_canned(reply, form.title.data, form.body.data, form.active.data)
        if outcome.ok:
            flash(_("Canned reply %(title)s is saved.", title=reply.title), "success")
            return redirect(url_for("support.canned_list"))
        status = UNPROCESSABLE
    elif request.method == "POST":
        status = UNPROCESSABLE
    return render_template("support/canned_form.html", form=form, reply=reply), status
