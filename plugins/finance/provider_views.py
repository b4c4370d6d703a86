"""Finance pages that face the payment providers: their notifications, the demo gateway's page,
the payment-method page with its "test the connection" buttons, and QR codes of payments."""

from __future__ import annotations

import secrets

from flask import Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from erp_core.errors import DomainError
from erp_core.extensions import csrf, db
from erp_core.security import public, requires, safe_next

from . import qr, review, services, states
from .adapters import AdapterError, CallbackRejected, PaymentAdapter
from .models import Payment
from .views import _money, bp

SETTINGS_PERMISSION = "core.settings.manage"


@bp.route("/payment-status/<token>")
@public
def payment_status(token: str):
    """Whether the payment a QR code page shows is still pending (polled by finance/pay.js). The
    token is signed, so it names one payment and cannot be guessed."""
    payment_id = qr.payment_id_from_token(token)
    payment = db.session.get(Payment, payment_id) if payment_id is not None else None
    if payment is None:
        abort(404)
    return jsonify({"status": payment.status})


# ----------------------------------------------------------------------------- notifications


def _answer(adapter: PaymentAdapter, outcome: str, detail: str = "", payment_ref: str = "",
            recorded: bool = False) -> Response:
    answer = adapter.callback_answer(outcome, detail, payment_ref, recorded)
    return Response(answer.body, status=answer.status, content_type=answer.content_type)


def _answering_adapter(method: str) -> PaymentAdapter:
    """The adapter that shapes the answer (the default one for an unknown method)."""
    try:
        return services.get_adapter(method, must_be_enabled=False)
    except DomainError:
        return PaymentAdapter()


@bp.route("/callback/<method>", methods=["POST"])
@public
@csrf.exempt
def callback(method: str):
    """A payment provider's server-to-server notification. Authenticated by its signature, not
    by a session or a CSRF token; answered as the provider expects (the adapter's
    ``callback_answer``)."""
    adapter = _answering_adapter(method)
    try:
        outcome = services.handle_callback(method, request.get_data(cache=False), request.headers)
        db.session.commit()
    except review.TransactionTaken as exc:
        db.session.rollback()
        current_app.logger.warning("payment callback for %s refused: %s", method, exc)
        return _answer(adapter, "conflict", str(exc))
    except CallbackRejected as exc:
        db.session.rollback()
        current_app.logger.warning("payment callback for %s rejected: %s", method, exc)
        return _answer(adapter, "rejected", str(exc))
    return _answer(adapter, "ok", "", outcome.payment.merchant_ref, outcome.recorded)


# ----------------------------------------------------------------------------- payment methods


class _TestForm(FlaskForm):
    """The CSRF token of a "test the connection" button."""


@bp.route("/methods")
@requires(SETTINGS_PERMISSION)
def methods():
    """Every payment method: switched on, configured, what it supports, a connection test."""
    rows = []
    classes = services.adapter_classes()
    for code, cls in classes.items():
        rows.append({"cls": cls, "enabled": services.method_enabled(code, classes),
                     "configured": services.method_configured(cls)})
    return render_template("finance/methods.html", rows=rows, form=_TestForm())


@bp.route("/methods/<code>/test", methods=["POST"])
@requires(SETTINGS_PERMISSION)
def test_method(code: str):
    """Make one harmless signed request to the provider and show its answer."""
    cls = services.adapter_classes().get(code)
    if cls is None or not cls.supports_test_connection:
        abort(404)
    if not _TestForm().validate_on_submit():
        flash(_("The form had expired. Please try again."), "danger")
        return redirect(url_for("finance.methods"))
    if not services.method_configured(cls):
        flash(_("%(method)s is not configured yet: fill in its settings.", method=cls.label), "warning")
        return redirect(url_for("finance.methods"))
    adapter = services.get_adapter(code, must_be_enabled=False)
    db.session.commit()  # hold no transaction while the provider answers
    try:
        answer = adapter.test_connection()
    except AdapterError as exc:
        flash(_("%(method)s refused the connection test: %(answer)s", method=cls.label, answer=str(exc)), "danger")
    except OSError as exc:
        flash(_("%(method)s could not be reached: %(answer)s", method=cls.label, answer=str(exc)), "danger")
    else:
        flash(_("%(method)s answered: %(answer)s", method=cls.label, answer=answer), "success")
    return redirect(url_for("finance.methods"))


# ----------------------------------------------------------------------------- demo gateway


def _demo_gateway():
    try:
        return services.get_adapter("demo_gateway")
    except DomainError:
        abort(404)


@bp.route("/demo-gateway/pay", methods=["GET", "POST"])
@public
def demo_gateway():
    """The simulated provider's payment page (demo gateway). Its link is signed by the gateway,
    so the amount shown cannot be tampered with; paying posts a signed callback."""
    adapter = _demo_gateway()
    values = request.values
    try:
        fields = adapter.verify_page(values)
    except CallbackRejected as exc:
        return render_template("finance/demo_gateway.html", error=str(exc), fields=None), 400
    back = safe_next(fields["return"], url_for("web.home"))
    if request.method == "POST":
        # (CSRFProtect has checked the form's token before this view runs.)
        payment = services.payment_from_ref(fields["ref"])
        if payment is None:
            abort(404)
        outcome_status = "paid" if request.form.get("action") == "pay" else "failed"
        body, headers = adapter.sign_test_callback(services.callback_request(payment),
                                                   "DG-" + secrets.token_hex(8).upper(), outcome_status)
        try:
            outcome = services.handle_callback(adapter.code, body, headers)
            db.session.commit()
        except CallbackRejected as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(back)
        if outcome.payment.status == states.PAID:
            flash(_("The demo gateway confirmed payment %(ref)s.", ref=outcome.payment.merchant_ref), "success")
        else:
            flash(_("The payment %(ref)s was declined at the demo gateway.", ref=outcome.payment.merchant_ref),
                  "warning")
        return redirect(back)
    return render_template("finance/demo_gateway.html", fields=fields, error=None,
                           amount=_money(int(fields["amount"]), fields["currency"]) if fields["amount"].isdigit()
                           else "")
