"""The customer's quotation page, reached by an unguessable link: view, accept, decline.

The accept and decline POSTs are throttled by :mod:`erp_core.throttle` (kind ``quotation``) per
client address and per (address, quotation), as support's public order lookup is: every POST
counts, a refused one (429) does not count again. A site overrides ``QUOTATION_LINK_LIMITS``.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from erp_core import throttle
from erp_core.forms import attempt
from erp_core.security import public
from erp_core.web.errors import render_error

from . import services, states
from .display import quotation_context
from .forms import ActionForm, ReasonForm

bp = Blueprint("quotations_public", __name__, url_prefix="/q", template_folder="templates")

LINK_LIMITS = {
    "address_link": "10 per 10 minutes; 30 per day",
    "address": "30 per 10 minutes; 200 per day",
}
throttle.register("quotation", "QUOTATION_LINK_LIMITS", LINK_LIMITS)


def _throttled(quotation_id: int):
    """Count this POST; the 429 response (with ``Retry-After``) when over a limit, else None."""
    keys = {"address": request.remote_addr or "unknown", "link": str(quotation_id)}
    refusal = throttle.check("quotation", **keys)
    if refusal is None:
        throttle.hit("quotation", **keys)
        return None
    text = ngettext("You have sent this form many times in a short while. Please wait %(num)d minute and try again.",
                    "You have sent this form many times in a short while. Please wait %(num)d minutes and try again.",
                    refusal.minutes)
    response = make_response(render_error(429, text))
    response.headers["Retry-After"] = str(refusal.retry_after)
    return response


def _found(quotation_id: int, token: str):
    quotation = services.find_by_token(quotation_id, token)
    if quotation is None:
        abort(404)
    return quotation


@bp.route("/<int:quotation_id>/<token>")
@public
def view(quotation_id: int, token: str):
    quotation = _found(quotation_id, token)
    can_decide = quotation.status == states.SENT and quotation.valid_until >= services.today()
    return render_template("quotations/public.html", accept_form=ActionForm(), decline_form=ReasonForm(),
                           token=token, can_decide=can_decide, **quotation_context(quotation))


@bp.route("/<int:quotation_id>/<token>/accept", methods=["POST"])
@public
def accept(quotation_id: int, token: str):
    limited = _throttled(quotation_id)
    if limited is not None:
        return limited
    quotation = _found(quotation_id, token)
    form = ActionForm()
    if form.validate_on_submit():
        with attempt(form) as outcome:
            services.accept(quotation, by_customer=True)
        if outcome.ok:
            flash(_("Thank you! You accepted quotation %(number)s; we will confirm your order.",
                    number=quotation.number), "success")
    return redirect(url_for(".view", quotation_id=quotation_id, token=token))


@bp.route("/<int:quotation_id>/<token>/decline", methods=["POST"])
@public
def decline(quotation_id: int, token: str):
    limited = _throttled(quotation_id)
    if limited is not None:
        return limited
    quotation = _found(quotation_id, token)
    form = ReasonForm()
    if form.validate_on_submit():
        with attempt(form) as outcome:
            services.decline(quotation, form.reason.data or "", by_customer=True)
        if outcome.ok:
            flash(_("You declined quotation %(number)s. Thank you for letting us know.", number=quotation.number),
                  "info")
    elif request.method == "POST":
        flash(_("Nothing was saved; please correct the marked field."), "danger")
    return redirect(url_for(".view", quotation_id=quotation_id, token=token))
