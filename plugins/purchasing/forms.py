"""Forms of the purchasing pages. Values are checked by the services; the forms only carry them."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, FieldList, Form, FormField, SelectField, StringField, TextAreaField

MAX_LINES = 200


class SupplierForm(FlaskForm):
    code = StringField(_l("Code"))
    name = StringField(_l("Name"))
    contact_name = StringField(_l("Contact person"))
    phone = StringField(_l("Phone"))
    email = StringField(_l("E-mail"), description=_l("Purchase orders are e-mailed here."))
    address = TextAreaField(_l("Address"), render_kw={"rows": 2})
    tax_id = StringField(_l("Taxpayer ID"))
    currency = StringField(_l("Currency"), description=_l("ISO code, e.g. CNY. The company currency when empty."))
    payment_terms = StringField(_l("Payment terms"), description=_l("For example: 30 days net."))
    notes = TextAreaField(_l("Notes"), render_kw={"rows": 3})
    active = BooleanField(_l("Active"), default=True)


class TermsForm(FlaskForm):
    sku = StringField(_l("Product code"), render_kw={"list": "purchasing-skus", "autocomplete": "off"})
    supplier_sku = StringField(_l("Supplier's code"))
    price = StringField(_l("Price"), render_kw={"inputmode": "decimal"})
    min_quantity = StringField(_l("Minimum order"), render_kw={"inputmode": "numeric"})
    pack_size = StringField(_l("Pack size"), render_kw={"inputmode": "numeric"})
    lead_time_days = StringField(_l("Lead time (days)"), render_kw={"inputmode": "numeric"})
    preferred = BooleanField(_l("Preferred supplier"))


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"))


class LineForm(Form):
    product = StringField(_l("Product code"), render_kw={"list": "purchasing-skus", "autocomplete": "off"})
    quantity = StringField(_l("Quantity"), render_kw={"inputmode": "numeric"})
    unit_price = StringField(_l("Unit price"), render_kw={"inputmode": "decimal"})
    expected_date = StringField(_l("Expected on"), render_kw={"type": "date"})


class PurchaseOrderForm(FlaskForm):
    supplier_id = SelectField(_l("Supplier"), validate_choice=False)
    warehouse_id = SelectField(_l("Receive into warehouse"), validate_choice=False)
    note = TextAreaField(_l("Note to the supplier"), render_kw={"rows": 2})
    lines = FieldList(FormField(LineForm), min_entries=5, max_entries=MAX_LINES)


class SendForm(FlaskForm):
    language = SelectField(_l("Language of the order"), validate_choice=False)


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"))


class ReorderRuleForm(FlaskForm):
    warehouse_id = SelectField(_l("Warehouse"), validate_choice=False)
    reorder_point = StringField(_l("Reorder point"), render_kw={"inputmode": "numeric"},
                                description=_l("Suggest an order when available plus on order falls below this."))
    target_level = StringField(_l("Target level"), render_kw={"inputmode": "numeric"},
                               description=_l("Order up to this level."))


class BillForm(FlaskForm):
    number = StringField(_l("Supplier's invoice number"))
    amount = StringField(_l("Amount"), render_kw={"inputmode": "decimal"})
    bill_date = StringField(_l("Invoice date"), render_kw={"type": "date"})
    due_date = StringField(_l("Payment due date"), render_kw={"type": "date"},
                           description=_l("The invoice date when empty."))


class PaymentForm(FlaskForm):
    amount = StringField(_l("Amount"), render_kw={"inputmode": "decimal"})
    paid_on = StringField(_l("Paid on"), render_kw={"type": "date"})
    method = SelectField(_l("Payment method"), validate_choice=False)
    reference = StringField(_l("Payment reference"), description=_l("For example the bank's transaction number."))
