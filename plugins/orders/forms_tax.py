"""Forms of the tax rates page: a rate, and the company's tax settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional


class TaxRateForm(FlaskForm):
    """Add or change a VAT rate (values checked again by ``services.taxrates``)."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)],
                       description=_l("As shown on orders and invoices, e.g. VAT 13%."))
    percent = StringField(_l("Rate (%)"), default="0", validators=[Optional(), Length(max=10)])
    exempt = BooleanField(_l("Exempt (免税): no tax, told apart from a 0% rate"))
    position = StringField(_l("Position in lists"), default="0", validators=[Optional(), Length(max=6)])
    active = BooleanField(_l("Active (can be chosen)"), default=True)


class TaxSettingsForm(FlaskForm):
    """Whether prices include tax, and the rate of products without one of their own."""

    prices_include_tax = BooleanField(_l("Prices include tax"),
                                      description=_l("As Chinese retail prices do. Orders already entered keep "
                                                     "how they were computed."))
    default_rate = SelectField(_l("Default tax rate"), validate_choice=False,
                               description=_l("The rate of products that have none of their own."))
