"""Forms of the orders pages. Order lines are parsed from the posted rows (see
:func:`parse_lines`) because the entry page adds and removes them in the browser."""

from __future__ import annotations

import re

from babel.numbers import get_currency_name
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from erp_core import settings
from erp_core.forms import CountryField, choices
from erp_core.money import currency_exponent, is_currency

from .models_customers import ADDRESS_KIND_LABELS
from .services import LineInput
from .services._common import as_id

# Offered in the currency menus; any other ISO code can still be imported or typed in the catalogue.
COMMON_CURRENCIES = ("CNY", "HKD", "TWD", "USD", "EUR", "GBP", "JPY", "KRW", "SGD", "AUD", "CAD", "CHF", "KWD",
                     "BHD")


def currency_choices(current: str | None = None):
    codes = list(dict.fromkeys([settings.company_currency(), *COMMON_CURRENCIES]))
    if current and current not in codes and is_currency(current):
        codes.append(current)
    locale = str(get_locale() or "en")
    return choices([(code, f"{code} · {get_currency_name(code, locale=locale)}") for code in codes])


def currency_decimals(codes) -> dict[str, int]:
    return {code: currency_exponent(code) for code in codes}


class CustomerForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=200)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    language = SelectField(_l("Language of messages to the customer"), validate_choice=False,
                           description=_l("E-mails and text messages about orders are written in this language."))
    confirm_duplicate = BooleanField(_l("Yes, this is a different customer"))


def language_choices(form: CustomerForm, current: str | None) -> None:
    """Fill the language choices; a new customer starts with the company's language."""
    from erp_core.i18n import LANGUAGE_NAMES, company_locale, languages

    form.language.choices = [(code, LANGUAGE_NAMES.get(code, code)) for code in languages()]
    if not form.is_submitted():
        form.language.data = current or company_locale()


class AddressForm(FlaskForm):
    label = StringField(_l("Label"), validators=[Optional(), Length(max=60)],
                        description=_l("For example Home, Office, Warehouse."))
    recipient = StringField(_l("Recipient"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    line1 = StringField(_l("Street address"), validators=[DataRequired(), Length(max=300)])
    line2 = StringField(_l("Address line 2"), validators=[Optional(), Length(max=300)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=120)])
    region = StringField(_l("Province / region"), validators=[Optional(), Length(max=120)])
    postcode = StringField(_l("Postcode"), validators=[Optional(), Length(max=20)])
    country = CountryField(_l("Country"), default="CN", validators=[Optional(), Length(max=2)])
    is_default = BooleanField(_l("Default address"))
    kind = SelectField(_l("Used for"), default="both", choices=lambda: choices(ADDRESS_KIND_LABELS.items()),
                       description=_l("Orders are billed to the billing address and shipped to a shipping one."))

    def values(self) -> dict:
        return {name: getattr(self, name).data or "" for name in
                ("label", "recipient", "phone", "line1", "line2", "city", "region", "postcode", "country", "kind")}


class NewCustomerForm(CustomerForm, AddressForm):
    """A customer with a first address (optional)."""

    line1 = StringField(_l("Street address"), validators=[Optional(), Length(max=300)])
    is_default = None


class ProductForm(FlaskForm):
    sku = StringField(_l("Code (SKU)"), validators=[DataRequired(), Length(max=64)])
    barcode = StringField(_l("Barcode"), validators=[Optional(), Length(max=20)],
                          description=_l("EAN-13, UPC-A or EAN-8, as printed under the bars (optional)."))
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    spec = StringField(_l("Specification"), validators=[Optional(), Length(max=300)],
                       description=_l("Size, colour, model... shown on the order and the packing slip."))
    unit = StringField(_l("Unit"), default="pcs", validators=[Optional(), Length(max=20)])
    price = StringField(_l("Price"), validators=[DataRequired(), Length(max=30)])
    currency = SelectField(_l("Currency"))
    tax_rate = SelectField(_l("Tax rate"), validate_choice=False)  # checked by the service
    cost = StringField(_l("Cost price"), validators=[Optional(), Length(max=30)],
                       description=_l("What the product costs you, for margin reports (optional)."))
    active = BooleanField(_l("Sold (active)"), default=True)


class OrderForm(FlaskForm):
    """The header of the order entry and edit forms."""

    customer_id = HiddenField()
    contact_id = HiddenField()  # a contact person of the customer picked in the browser
    customer_label = StringField(_l("Customer"), validators=[Optional(), Length(max=200)])
    new_customer_name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    new_customer_phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    new_customer_email = StringField(_l("E-mail"), validators=[Optional(), Length(max=200)])
    new_customer_confirm = BooleanField(_l("Yes, this is a different customer"))
    contact_name = StringField(_l("Contact name"), validators=[Optional(), Length(max=200)])
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=40)])
    contact_email = StringField(_l("Contact e-mail"), validators=[Optional(), Length(max=200)])
    ship_recipient = StringField(_l("Recipient"), validators=[Optional(), Length(max=200)])
    ship_line1 = StringField(_l("Street address"), validators=[Optional(), Length(max=300)])
    ship_line2 = StringField(_l("Address line 2"), validators=[Optional(), Length(max=300)])
    ship_city = StringField(_l("City"), validators=[Optional(), Length(max=120)])
    ship_region = StringField(_l("Province / region"), validators=[Optional(), Length(max=120)])
    ship_postcode = StringField(_l("Postcode"), validators=[Optional(), Length(max=20)])
    ship_country = CountryField(_l("Country"), default="CN", validators=[Optional(), Length(max=2)])
    currency = SelectField(_l("Currency"))
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    version = HiddenField()
    entry_key = HiddenField()
    channel = SelectField(_l("Channel"), validate_choice=False)  # checked by the service
    external_ref = StringField(_l("External reference"), validators=[Optional(), Length(max=100)])

    HEADER = ("contact_name", "contact_phone", "contact_email", "ship_recipient", "ship_line1", "ship_line2",
              "ship_city", "ship_region", "ship_postcode", "ship_country", "notes")

    def header_values(self) -> dict:
        return {name: getattr(self, name).data or "" for name in self.HEADER}

    def new_customer(self) -> dict:
        return {"name": self.new_customer_name.data or "", "phone": self.new_customer_phone.data or "",
                "email": self.new_customer_email.data or "", "confirmed": bool(self.new_customer_confirm.data)}


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a CSV file."))])


class ActionForm(FlaskForm):
    note = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=1000)])
    version = HiddenField()


_LINE_KEY = re.compile(r"^lines-(\d{1,5})-(product_id|sku|quantity|unit_price|discount|discount_amount|line_id|label|tax_rate)$")


def parse_lines(form_data) -> list[dict]:
    """The posted rows ``lines-<n>-<field>`` in the order of ``n`` (gaps left by removed rows are
    closed), blank rows dropped. Each row is a dict of the raw strings, kept to redraw the form."""
    rows: dict[int, dict] = {}
    for key in form_data:
        match = _LINE_KEY.match(key)
        if match:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = (form_data.get(key) or "").strip()[:200]
    result = []
    for index in sorted(rows):
        row = rows[index]
        if to_line_input(row).is_blank():
            continue
        result.append(row)
    return result


def to_line_input(row: dict) -> LineInput:
    """A posted row as the service takes it. Without a picked product (no JavaScript, or the
    text was typed again) the first word of the product box is taken as the product code."""
    raw_line_id = row.get("line_id") or ""
    sku = row.get("sku") or None
    if not row.get("product_id") and not sku and (row.get("label") or "").split():
        sku = row["label"].split()[0]
    return LineInput(product_id=row.get("product_id") or None, quantity=row.get("quantity") or "",
                     unit_price=row.get("unit_price") or "", discount=row.get("discount") or "",
                     discount_amount=row.get("discount_amount") or "",
                     line_id=as_id(raw_line_id), sku=sku)
