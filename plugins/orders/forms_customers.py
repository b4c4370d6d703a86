"""Forms of a customer's contact people and sales terms (tags, owner, credit limit, payment terms)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from erp_core.forms import choices

from .models_customers import PAYMENT_TERM_LABELS


class ContactForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    role = StringField(_l("Job title"), validators=[Optional(), Length(max=100)],
                       description=_l("For example Buyer, Accountant, Warehouse."))
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=200)])

    def values(self) -> dict:
        return {name: getattr(self, name).data or "" for name in ("name", "role", "phone", "email")}


class SalesForm(FlaskForm):
    tags = StringField(_l("Tags"), validators=[Optional(), Length(max=1000)],
                       description=_l("Free labels separated by commas, for example VIP, wholesale."))
    credit_limit = StringField(_l("Credit limit"), validators=[Optional(), Length(max=30)],
                               description=_l("Empty: no limit. Confirming an order that takes the unpaid "
                                              "balance over it needs special permission."))
    payment_terms = SelectField(_l("Payment terms"), choices=lambda: choices(PAYMENT_TERM_LABELS.items()),
                                validate_choice=False)
    payment_days = StringField(_l("Net days"), validators=[Optional(), Length(max=3)],
                               description=_l("For net terms: days to pay after the invoice."))
    owner_id = SelectField(_l("Owner (salesperson)"), validate_choice=False)
