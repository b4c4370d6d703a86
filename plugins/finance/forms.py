"""Forms of finance pages. Amounts stay text here; services parse them in the order's currency."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _pl
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from erp_core.forms import choices
from erp_core.i18n import select_timezone


class PaymentForm(FlaskForm):
    """Money received by hand (cash, bank transfer)."""

    method = SelectField(_pl("finance", "Method"), validators=[InputRequired()], validate_choice=True)
    amount = StringField(_pl("finance", "Amount"), validators=[InputRequired(_l("Type an amount."))],
                         render_kw={"inputmode": "decimal", "autocomplete": "off"})
    paid_at = StringField(_pl("finance", "Paid at"), validators=[Optional()], render_kw={"type": "datetime-local"},
                          description=_l("Leave empty for now."))
    reference = StringField(_pl("finance", "Reference"), validators=[Optional(), Length(max=120)],
                            description=_l("Bank transfer reference, receipt number..."))
    note = TextAreaField(_pl("finance", "Note"), validators=[Optional(), Length(max=1000)], render_kw={"rows": 2})
    as_credit = BooleanField(_l("Record the excess as customer credit"))
    next = HiddenField()

    def set_methods(self, adapters):
        self.method.choices = choices((a.code, str(a.label)) for a in adapters)

    def paid_at_utc(self) -> datetime | None:
        """The typed local time (in the user's zone) as an aware UTC datetime."""
        raw = (self.paid_at.data or "").strip()
        if not raw:
            return None
        try:
            local = datetime.fromisoformat(raw)
        except ValueError:
            raise ValidationError(_l("Type a date and time such as 2026-03-05 14:30.")) from None
        if local.tzinfo is None:
            local = local.replace(tzinfo=ZoneInfo(select_timezone()))
        return local.astimezone(UTC)


class OnlinePaymentForm(FlaskForm):
    """Send the customer (or yourself, for the demo) to an online provider's payment page."""

    method = SelectField(_pl("finance", "Provider"), validators=[InputRequired()], validate_choice=True)
    amount = StringField(_pl("finance", "Amount"), validators=[InputRequired(_l("Type an amount."))],
                         render_kw={"inputmode": "decimal", "autocomplete": "off"})
    as_credit = BooleanField(_l("Record the excess as customer credit"))
    next = HiddenField()

    def set_methods(self, adapters):
        self.method.choices = choices((a.code, str(a.label)) for a in adapters)


class RefundForm(FlaskForm):
    amount = StringField(_l("Amount to refund"), validators=[InputRequired(_l("Type an amount."))],
                         render_kw={"inputmode": "decimal", "autocomplete": "off"})
    reason = TextAreaField(_pl("finance", "Reason"), validators=[InputRequired(_l("Give a reason for the refund.")),
                                                     Length(max=1000)], render_kw={"rows": 2})
    reference = StringField(_pl("finance", "Reference"), validators=[Optional(), Length(max=120)],
                            description=_l("E.g. the bank transfer of the refund."))
    pay_now = BooleanField(_l("Pay it out now"), default=True,
                           description=_l("Untick to leave it in the refund queue for approval."))
    next = HiddenField()


class DecisionForm(FlaskForm):
    """Approve or reject a requested refund; rejecting needs a note."""

    note = TextAreaField(_pl("finance", "Note"), validators=[Optional(), Length(max=1000)], render_kw={"rows": 2})
    reference = StringField(_pl("finance", "Reference"), validators=[Optional(), Length(max=120)])
    next = HiddenField()


class FailForm(FlaskForm):
    note = TextAreaField(_l("Why is it given up?"), validators=[InputRequired(_l("Say why the payment is given up.")),
                                                                Length(max=1000)], render_kw={"rows": 2})
    next = HiddenField()


class ReviewForm(FlaskForm):
    note = TextAreaField(_l("What was checked?"), validators=[InputRequired(_l("Say what was checked.")),
                                                             Length(max=1000)], render_kw={"rows": 2})


class ReportFilterForm(FlaskForm):
    """The filters of a report page (a GET form: values live in the URL)."""

    class Meta:
        csrf = False

    start = StringField(_pl("finance", "From"), validators=[Optional()], render_kw={"type": "date"})
    end = StringField(_pl("finance", "To"), validators=[Optional()], render_kw={"type": "date"})
    grain = SelectField(_pl("finance", "Group by"), validators=[Optional()], validate_choice=False)
    currency = SelectField(_pl("finance", "Currency"), validators=[Optional()], validate_choice=False)
    warehouse = SelectField(_pl("finance", "Warehouse"), validators=[Optional()], validate_choice=False)
    method = SelectField(_pl("finance", "Payment method"), validators=[Optional()], validate_choice=False)

    @staticmethod
    def parse_day(raw: str | None) -> date | None:
        raw = (raw or "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            return None
