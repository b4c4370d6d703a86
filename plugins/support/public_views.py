"""The customer's pages (no account): contact form, order lookup, tracking page, return request,
the ticket conversation and the satisfaction survey. Links carry unguessable tokens; forms are
rate-limited in the database and carry a honeypot field instead of a captcha. The order lookup,
which can be used to guess, is throttled by :mod:`erp_core.throttle` per client address and per
(address, order number), never per order number alone, so a guesser cannot lock the customer out."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from erp_core import throttle
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.forms import attempt, show_domain_error
from erp_core.security import public
from erp_core.timeutil import utcnow
from erp_core.web.templating import render_contributions
from plugins.orders.public import states as order_states

from . import public as access
from . import returns, services, states, surveys
from .forms import ContactForm, CustomerReplyForm, LookupForm, ReturnRequestForm, SurveyForm
from .models import Survey, Ticket

bp = Blueprint("support_public", __name__, url_prefix="/help", template_folder="templates")

TOO_MANY = 429
UNPROCESSABLE = 422
ORDER_STEPS = (order_states.CONFIRMED, order_states.SHIPPED, order_states.DELIVERED)


def _client() -> str:
    return request.remote_addr or "unknown"


def _too_many(scope: str):
    """Count this post; a response (429) when the client went over the limit, else None."""
    allowed, retry_after = access.hit(scope, _client())
    db.session.commit()  # the hit counts even if the form is refused afterwards
    if allowed:
        return None
    return _too_many_response(retry_after)


def _too_many_response(retry_after: int):
    """The 429 page, saying how many minutes to wait, with a ``Retry-After`` header."""
    minutes = max(1, (retry_after + 59) // 60)
    response = current_app.make_response((render_template("support/public/too_many.html", minutes=minutes), TOO_MANY))
    response.headers["Retry-After"] = str(retry_after)
    return response


def _handle_post(form, scope: str, action, done_url, done_message, robot_url: str):
    """The POST of a public form: count it (429 over the limit), ignore robots quietly, validate,
    run ``action()`` and commit, or roll back and put the refusal beside its field.

    ``done_url`` and ``done_message`` are called with what ``action`` returned. Returns the
    response to send, or None when the form is to be shown again with its errors.
    """
    limited = _too_many(scope)
    if limited:
        return limited
    if form.is_robot():
        return redirect(robot_url)
    if not form.validate():
        return None
    with attempt(form, on_error=_field_error) as outcome:
        result = action()
    if not outcome.ok:
        return None
    flash(done_message(result), "success")
    return redirect(done_url(result))


def _order_or_404(order_id: int, token: str):
    order = access.find_order(order_id, token)
    if order is None:
        abort(404)
    return order


# ----------------------------------------------------------------------------- contact


@bp.route("/contact", methods=["GET", "POST"])
@public
def contact():
    order = None
    order_id, order_token = request.values.get("order", ""), request.values.get("key", "")
    if order_id.isdigit() and order_token:
        order = access.find_order(int(order_id), order_token)
    form = ContactForm()
    if request.method == "GET" and order is not None:
        form.name.data = order.contact_name
        form.email.data = order.contact_email
        form.phone.data = order.contact_phone
        form.order_number.data = order.number
        form.subject.data = _("About order %(number)s", number=order.number)
    status = 200
    if request.method == "POST":
        response = _handle_post(
            form, "contact", lambda: _open_from_form(form, order),
            lambda ticket: url_for("support_public.ticket", ticket_id=ticket.id, token=services.ticket_token(ticket)),
            lambda ticket: _("Thank you! Your request %(number)s was received. Keep this page's address to follow it.",
                             number=ticket.number),
            robot_url=url_for("web.home"))
        if response is not None:
            return response
        status = UNPROCESSABLE
    return render_template("support/public/contact.html", form=form, order=order, order_key=order_token,
                           contact=services.contact_details()), status


def _open_from_form(form: ContactForm, order) -> Ticket:
    number = (form.order_number.data or "").strip()
    body = form.message.data
    if order is None and number:
        order = access.lookup(number, form.email.data or "") or access.lookup(number, form.phone.data or "")
        if order is None:
            body = _("%(body)s\n\n(Order number given by the customer, not verified: %(number)s)",
                     body=body, number=number)
    ticket = services.open_ticket(services.TicketInput(
        subject=form.subject.data, body=body, category=form.category.data, channel="web",
        order_id=order.id if order is not None else None, contact_name=form.name.data,
        contact_email=form.email.data, contact_phone=form.phone.data, require_contact=True,
        attachments=form.attachments.data))
    _acknowledge(ticket)
    return ticket


_FIELD_MAP = {"contact_email": "email", "contact_phone": "phone", "body": "message", "attachments": "attachments"}


def _field_error(form, exc: DomainError) -> None:
    field = _FIELD_MAP.get(exc.field or "", exc.field)
    target = getattr(form, field, None) if field else None
    if target is not None:
        target.errors = list(target.errors) + [str(exc)]
    else:
        show_domain_error(None, exc)


def _acknowledge(ticket: Ticket) -> None:
    from erp_core.mail import queue_mail

    if ticket.contact_email:
        queue_mail(ticket.contact_email, _("[%(number)s] We received your request", number=ticket.number),
                   _("Thank you for writing to us. We will answer as soon as we can.\n\nFollow your request here: %(url)s",
                     url=services.ticket_public_url(ticket)))


# ----------------------------------------------------------------------------- order lookup and tracking


@bp.route("/track", methods=["GET", "POST"])
@public
def lookup():
    form = LookupForm()
    status = 200
    if request.method == "POST":
        keys = {"address": _client(), "order": (form.number.data or "").strip().upper()[:32] or None}
        refusal = throttle.check("lookup", **keys)
        if refusal is not None:
            return _too_many_response(refusal.retry_after)
        if form.is_robot():
            return redirect(url_for("web.home"))
        status = UNPROCESSABLE
        if form.validate():
            order = access.lookup(form.number.data, form.contact.data)
            if order is None:
                throttle.hit("lookup", **keys)  # only misses count: the customer may look again
                form.number.errors = list(form.number.errors) + [
                    _("We found no order with this number and phone or e-mail. Check both and try again.")]
            else:
                row = access.ensure_access(order)
                if row.nonce is None:
                    db.session.rollback()
                    form.number.errors = [_("Tracking is switched off for this order. Please contact us.")]
                else:
                    db.session.commit()
                    return redirect(url_for("support_public.track", order_id=order.id,
                                            token=access.tracking_token(order.id, row.nonce)))
    return render_template("support/public/lookup.html", form=form), status


@bp.route("/t/<int:order_id>/<token>")
@public
def track(order_id: int, token: str):
    order = _order_or_404(order_id, token)
    manager = current_app.extensions["erp_plugins"]
    panels = [p for group in manager.hook.erp_order_public_panels(order=order) for p in (group or [])]
    survey = db.session.scalar(select(Survey).where(Survey.order_key == order.id))
    # internal tickets (a low survey score's follow-up, a carrier problem) are staff's own work
    tickets = list(db.session.scalars(select(Ticket).where(Ticket.order_id == order.id, Ticket.channel != "internal")
                                      .order_by(Ticket.id.desc()).limit(20)))
    return render_template(
        "support/public/track.html", order=order, token=token, panels=render_contributions(panels),
        order_labels=order_states.LABELS, steps=ORDER_STEPS, step_index=_step_index(order.status),
        returns=returns.order_returns(order.id), can_return=returns.can_request(order), states=states,
        survey=survey if survey is not None and surveys.is_open(survey) else None,
        survey_url=surveys.url(survey) if survey is not None else None, tickets=tickets,
        ticket_url=services.ticket_public_url, contact=services.contact_details())


def _step_index(status: str) -> int:
    if status in (order_states.DELIVERED, order_states.COMPLETED):
        return 2
    if status in (order_states.SHIPPED, order_states.PARTIALLY_SHIPPED):
        return 1
    if status == order_states.CONFIRMED:
        return 0
    return -1


@bp.route("/t/<int:order_id>/<token>/return", methods=["GET", "POST"])
@public
def return_request(order_id: int, token: str):
    order = _order_or_404(order_id, token)
    form = ReturnRequestForm()
    status = 200
    if request.method == "POST":
        here = url_for("support_public.track", order_id=order.id, token=token)
        response = _handle_post(
            form, "return",
            lambda: returns.create_return(order, form.kind.data, form.reason_code.data, form.reason.data,
                                          {k[4:]: v for k, v in request.form.items() if k.startswith("qty-")},
                                          source="customer", photos=form.photos.data),
            lambda made: here,
            lambda made: _("Your return request %(number)s was received. We will answer soon.", number=made.number),
            robot_url=here)
        if response is not None:
            return response
        status = UNPROCESSABLE
    return render_template("support/public/return.html", form=form, order=order, token=token,
                           lines=returns.returnable_lines(order),
                           posted={k[4:]: v for k, v in request.form.items() if k.startswith("qty-")},
                           delivered=order.status in states.DELIVERED_ORDER_STATUSES), status


# ----------------------------------------------------------------------------- ticket conversation


@bp.route("/ticket/<int:ticket_id>/<token>", methods=["GET", "POST"])
@public
def ticket(ticket_id: int, token: str):
    item = services.find_ticket_by_token(ticket_id, token)
    if item is None or item.channel == "internal":
        abort(404)
    form = CustomerReplyForm()
    status = 200
    if request.method == "POST":
        here = url_for("support_public.ticket", ticket_id=item.id, token=token)
        response = _handle_post(
            form, "reply", lambda: services.add_message(item, "customer", form.body.data, attachments=form.attachments.data),
            lambda message: here, lambda message: _("Thank you, your message was added."), robot_url=here)
        if response is not None:
            return response
        status = UNPROCESSABLE
    survey = db.session.scalar(select(Survey).where(Survey.ticket_id == item.id))
    messages = [m for m in item.messages if m.kind != "note"]
    return render_template("support/public/ticket.html", ticket=item, messages=messages, form=form, states=states,
                           survey=survey if survey is not None and surveys.is_open(survey) else None,
                           survey_url=surveys.url(survey) if survey is not None else None,
                           contact=services.contact_details()), status


# ----------------------------------------------------------------------------- survey


@bp.route("/survey/<int:survey_id>/<token>", methods=["GET", "POST"])
@public
def survey(survey_id: int, token: str):
    item = surveys.find_by_token(survey_id, token)
    if item is None:
        abort(404)
    form = SurveyForm()
    status = 200
    if request.method == "POST":
        here = url_for("support_public.survey", survey_id=item.id, token=token)
        response = _handle_post(form, "survey", lambda: surveys.answer(item, form.score.data, form.comment.data),
                                lambda answered: here, lambda answered: _("Thank you for your answer!"), robot_url=here)
        if response is not None:
            return response
        status = UNPROCESSABLE
    return render_template("support/public/survey.html", survey=item, form=form, is_open=surveys.is_open(item),
                           now=utcnow()), status
