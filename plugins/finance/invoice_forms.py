"""Forms of the invoice pages: issue an invoice, issue a credit note, record a fapiao, the logo."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _pl
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DateField, HiddenField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from erp_core.forms import choices

INVOICE_TYPE_LABELS = {"none": _l("No fapiao"), "ordinary": _l("Ordinary fapiao (普通发票)"),
                       "special": _l("Special VAT fapiao (增值税专用发票)")}
LOGO_TYPES = ("png", "jpg", "jpeg", "gif", "webp")


class IssueForm(FlaskForm):
    """Issue the invoice of an order; the fapiao asked for defaults to the buyer's choice."""

    invoice_type = SelectField(_l("Fapiao requested"), validators=[InputRequired()], validate_choice=True,
                               choices=choices(INVOICE_TYPE_LABELS.items()))
    next = HiddenField()


class CreditForm(FlaskForm):
    """Issue the credit note of a refund paid out."""

    next = HiddenField()


class FapiaoForm(FlaskForm):
    """The fapiao issued in the tax authority's system, typed in by staff."""

    code = StringField(_l("Fapiao code"), validators=[Optional(), Length(max=20)],
                       description=_l("10 or 12 digits; empty for a fully digital fapiao."),
                       render_kw={"inputmode": "numeric", "autocomplete": "off"})
    number = StringField(_l("Fapiao number"), validators=[InputRequired(_l("Type the fapiao number.")), Length(max=20)],
                         render_kw={"inputmode": "numeric", "autocomplete": "off"})
    issued_on = DateField(_l("Fapiao date"), validators=[InputRequired(_l("Type the date of the fapiao."))])


class LogoForm(FlaskForm):
    """The company's logo printed on invoices (an image, stored as PNG)."""

    logo = FileField(_pl("finance", "Logo"), validators=[
        FileRequired(_l("Choose an image file.")),
        FileAllowed(LOGO_TYPES, _l("Only images (PNG, JPEG, GIF, WebP)."))])
