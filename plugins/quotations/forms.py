"""Forms of the quotation pages (CSRF on every one)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FieldList, FormField, HiddenField, StringField, TextAreaField
from wtforms.validators import Length, Optional


class LineForm(FlaskForm):
    """One row of the lines table (no CSRF of its own: the outer form has it)."""

    class Meta:
        csrf = False

    product = StringField(_l("Product code"), validators=[Optional(), Length(max=64)])
    quantity = StringField(_l("Quantity"), validators=[Optional(), Length(max=12)])
    unit_price = StringField(_l("Unit price"), validators=[Optional(), Length(max=24)])
    discount = StringField(_l("Discount (%)"), validators=[Optional(), Length(max=8)])


class QuotationForm(FlaskForm):
    """A draft quotation: customer, contact, address, currency, validity, notes, lines."""

    customer_id = HiddenField(_l("Customer"), validators=[Optional(), Length(max=12)])  # set by the search
    currency = StringField(_l("Currency"), validators=[Optional(), Length(max=3)])
    valid_until = DateField(_l("Valid until"), validators=[Optional()])
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=200)])
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=40)])
    contact_email = StringField(_l("Contact e-mail"), validators=[Optional(), Length(max=200)])
    ship_recipient = StringField(_l("Recipient"), validators=[Optional(), Length(max=200)])
    ship_line1 = StringField(_l("Street and number"), validators=[Optional(), Length(max=300)])
    ship_line2 = StringField(_l("Address line 2"), validators=[Optional(), Length(max=300)])
    ship_city = StringField(_l("City"), validators=[Optional(), Length(max=120)])
    ship_region = StringField(_l("Province / region"), validators=[Optional(), Length(max=120)])
    ship_postcode = StringField(_l("Postcode"), validators=[Optional(), Length(max=20)])
    ship_country = StringField(_l("Country"), validators=[Optional(), Length(max=2)], default="CN")
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    lines = FieldList(FormField(LineForm), min_entries=5, max_entries=200)


class ReasonForm(FlaskForm):
    """A decision with an optional (decline) or required (cancel) reason."""

    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=1000)])


class ActionForm(FlaskForm):
    """A button: only the CSRF token."""
