"""Forms of the pricing pages: a price list, one of its prices, a customer group."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class PriceListForm(FlaskForm):
    """Add or change a price list (checked again by ``services.pricelists``)."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    currency = SelectField(_l("Currency"), validate_choice=False)
    valid_from = DateField(_l("Valid from"), validators=[Optional()])
    valid_to = DateField(_l("Valid until"), validators=[Optional()])
    active = BooleanField(_l("Active"), default=True)


class PriceItemForm(FlaskForm):
    """One price of a list: a product code, the smallest quantity, the unit price."""

    sku = StringField(_l("Product code"), validators=[DataRequired(), Length(max=64)])
    min_quantity = StringField(_l("From quantity"), default="1", validators=[DataRequired(), Length(max=10)])
    unit_price = StringField(_l("Unit price"), validators=[DataRequired(), Length(max=20)])


class GroupForm(FlaskForm):
    """Add or change a customer group."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    price_list_id = SelectField(_l("Price list"), validate_choice=False)
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])


class CustomerPricingForm(FlaskForm):
    """A customer's group and own price list."""

    group_id = SelectField(_l("Customer group"), validate_choice=False)
    price_list_id = SelectField(_l("Own price list"), validate_choice=False,
                                description=_l("Wins over the group's list."))
