"""The order page's "close the rest" box and its post: cancel what is left to ship of a partly
shipped order, with a reason (services.backorders does the work)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import Length, Optional

from erp_core.errors import DomainError, ValidationProblems
from erp_core.extensions import db
from erp_core.security import requires

from . import services, states
from .models import Order
from .services import backorders
from .services._common import as_id
from .views import STATUS_CODE_INVALID, _order_page, bp


class CloseRestForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=backorders.REASON_LIMIT)])
    version = HiddenField()


@dataclass(frozen=True)
class CloseRestBox:
    """What the order page draws of "close the rest": the form and the quantities it cancels."""

    form: CloseRestForm
    rest: list[tuple[object, int]]  # (order line, quantity cancelled)


@bp.app_template_global("close_rest_box")
def close_rest_box(order: Order) -> CloseRestBox | None:
    """The box when the reader may close the rest of ``order`` now, else None."""
    if not (current_user.is_authenticated and current_user.can("orders.cancel")):
        return None
    if not backorders.can_close_rest(order):
        return None
    form = getattr(g, "close_rest_form", None) or CloseRestForm(formdata=None)
    form.version.data = str(order.version)
    rest = backorders.rest_by_line(order)
    return CloseRestBox(form, [(line, rest[line.id]) for line in order.lines if rest.get(line.id)])


@bp.route("/<int:order_id>/close-rest", methods=["POST"])
@requires("orders.cancel")
def close_rest(order_id: int):
    order = services.get_order(order_id)
    form = CloseRestForm()
    if not form.validate_on_submit() or as_id(form.version.data) is None:
        flash(_("The form is incomplete; reload the page and try again."), "danger")
        return redirect(url_for("orders.detail", order_id=order.id))
    try:
        cancelled = backorders.close_rest(order, form.reason.data, int(form.version.data))
        db.session.commit()
    except ValidationProblems as exc:
        db.session.rollback()
        for problem in exc.problems:
            flash(_("%(action)s refused: %(reason)s", action=_("Close the rest"), reason=problem), "danger")
    except DomainError as exc:
        db.session.rollback()
        if exc.field == "reason":
            db.session.refresh(order)
            form.reason.errors = [str(exc)]
            g.close_rest_form = form
            return _order_page(order, status=STATUS_CODE_INVALID)
        flash(str(exc), "danger")
    else:
        flash(_done_message(order, sum(c["quantity"] for c in cancelled)), "success")
    return redirect(url_for("orders.detail", order_id=order.id))


def _done_message(order: Order, quantity: int) -> str:
    """The success message: how much was cancelled and the order's status now."""
    return ngettext("Order %(number)s: %(num)d unshipped item cancelled; it is %(status)s now.",
                    "Order %(number)s: %(num)d unshipped items cancelled; it is %(status)s now.", quantity,
                    number=order.number, status=states.LABELS[order.status])
