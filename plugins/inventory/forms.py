"""Forms of the stock pages. Values are checked by the services; the forms only carry them."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, HiddenField, SelectField, StringField, TextAreaField

MAX_LINES = 200


class LineForm(Form):
    sku = StringField(_l("Product code"), render_kw={"list": "inventory-skus", "autocomplete": "off"})
    quantity = StringField(_l("Quantity"), render_kw={"inputmode": "numeric"})


class _Lines:
    """Forms with product lines named ``lines-<n>-sku`` / ``lines-<n>-quantity``."""

    def line_rows(self):
        return [(line.sku.data, line.quantity.data) for line in self.lines]


class ReceiptForm(_Lines, FlaskForm):
    warehouse_id = SelectField(_l("Warehouse"), validate_choice=False)
    supplier = StringField(_l("Supplier or delivery note"))
    note = TextAreaField(_l("Note"), render_kw={"rows": 2})
    token = HiddenField()
    lines = FieldList(FormField(LineForm), min_entries=5, max_entries=MAX_LINES)


class TransferForm(_Lines, FlaskForm):
    from_warehouse_id = SelectField(_l("From warehouse"), validate_choice=False)
    to_warehouse_id = SelectField(_l("To warehouse"), validate_choice=False)
    note = TextAreaField(_l("Note"), render_kw={"rows": 2})
    token = HiddenField()
    lines = FieldList(FormField(LineForm), min_entries=5, max_entries=MAX_LINES)


class StocktakeForm(FlaskForm):
    warehouse_id = SelectField(_l("Warehouse"), validate_choice=False)
    sku = StringField(_l("Product code"), render_kw={"list": "inventory-skus", "autocomplete": "off"})
    counted = StringField(_l("Counted quantity"), render_kw={"inputmode": "numeric"})
    reason = StringField(_l("Reason"), description=_l("For example: annual count, damaged, found."))
    seen = HiddenField()
    token = HiddenField()


class ExpectedForm(FlaskForm):
    sku = StringField(_l("Product code"), render_kw={"list": "inventory-skus", "autocomplete": "off"})
    warehouse_id = SelectField(_l("Warehouse"), validate_choice=False)
    quantity = StringField(_l("Quantity"), render_kw={"inputmode": "numeric"})
    supplier = StringField(_l("Supplier"))
    expected_date = StringField(_l("Expected on"), render_kw={"type": "date"})
    note = TextAreaField(_l("Note"), render_kw={"rows": 2})


class ReceiveExpectedForm(FlaskForm):
    quantity = StringField(_l("Quantity received"), render_kw={"inputmode": "numeric"})


class RuleForm(FlaskForm):
    low_threshold = StringField(_l("Low-stock threshold"), render_kw={"inputmode": "numeric"},
                                description=_l("Alert when available stock in a warehouse falls below this. 0: never."))
    reorder_quantity = StringField(_l("Reorder quantity"), render_kw={"inputmode": "numeric"},
                                   description=_l("How much you usually order at once."))


class WarehouseForm(FlaskForm):
    code = StringField(_l("Code"))
    name = StringField(_l("Name"))
    address = TextAreaField(_l("Address"), render_kw={"rows": 3})
