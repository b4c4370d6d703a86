"""The form of buyers' invoicing details (开票信息): on the customer form (as a second form with
the prefix ``invoicing``, under the customer form's CSRF token) and on the order's own page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import Length, Optional

from erp_core.forms import choices

from .invoicing_details import FIELDS, INVOICE_TYPE_LABELS, INVOICE_TYPES, LABELS, NONE, InvoicingDetails


class InvoicingForm(FlaskForm):
    """Invoice type and the buyer's details; the service checks them (taxpayer ID, what a special
    VAT invoice needs)."""

    invoice_type = SelectField(LABELS["invoice_type"], default=NONE, validate_choice=False)
    title = StringField(LABELS["title"], validators=[Optional(), Length(max=200)],
                        description=_l("The buyer's name as the invoice shows it, e.g. the company's full name."))
    taxpayer_id = StringField(LABELS["taxpayer_id"], validators=[Optional(), Length(max=40)],
                              description=_l("Unified social credit code, 18 characters."))
    address = StringField(LABELS["address"], validators=[Optional(), Length(max=300)])
    phone = StringField(LABELS["phone"], validators=[Optional(), Length(max=40)])
    bank = StringField(LABELS["bank"], validators=[Optional(), Length(max=200)])
    account = StringField(LABELS["account"], validators=[Optional(), Length(max=40)])

    def __init__(self, *args, details: InvoicingDetails | None = None, **kwargs):
        if details is not None:
            kwargs.setdefault("data", details.as_dict())
        super().__init__(*args, **kwargs)
        self.invoice_type.choices = choices([(code, INVOICE_TYPE_LABELS[code]) for code in INVOICE_TYPES])

    def values(self) -> dict:
        """The typed details, as the services take them."""
        return {name: getattr(self, name).data or "" for name in (*FIELDS, "invoice_type")}

    def show_errors(self, errors: dict[str, list[str]]) -> None:
        """Put a service's ``InvoicingInvalid.errors`` beside their fields."""
        for name, messages in errors.items():
            field = getattr(self, name, None)
            if field is not None:
                field.errors = list(field.errors) + list(messages)


class OrderInvoicingForm(InvoicingForm):
    """The order's copy of the details, with the version its page was drawn from."""

    version = HiddenField()


def customer_invoicing_form(details: InvoicingDetails | None = None) -> InvoicingForm:
    """The details' part of the customer form: prefix ``invoicing-``, no CSRF token of its own
    (the customer form posts one)."""
    return InvoicingForm(prefix="invoicing", meta={"csrf": False}, details=details)
