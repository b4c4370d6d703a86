"""The orders API's schemas (built from erp_core.api.schemas, the one schema layer)."""

from __future__ import annotations

from decimal import Decimal

import marshmallow as ma
from flask_login import current_user

from erp_core.api.schemas import (
    COUNTRY,
    DECIMAL,
    EMAIL,
    MAX_ID,
    NO_NUL,
    NON_BLANK,
    PERCENT,
    PHONE,
    SKU,
    ApiSchema,
    PageQuerySchema,
    WholeNumber,
    count,
    currencies,
    id_field,
    in_range,
    one_of,
    sort_choices,
    text_field,
)
from erp_core.money import MAX_MINOR, format_plain

from .. import queries, services, states, tax
from ..invoicing_details import customer_invoicing_details, order_invoicing_details
from ..models import Customer
from .invoicing_schemas import INVOICING_OBJECT, InvoicingInputSchema, InvoicingSchema


def _text(limit: int, regex: str = NO_NUL, **kw):
    """Text of at most ``limit`` characters matching ``regex`` (by default: anything but NUL)."""
    return text_field(limit, regex, **kw)


# ----------------------------------------------------------------------------- schemas: customers


class AddressSchema(ma.Schema):
    id = WholeNumber(required=True)
    label = ma.fields.String(required=True)
    recipient = ma.fields.String(required=True)
    phone = ma.fields.String(required=True)
    line1 = ma.fields.String(required=True)
    line2 = ma.fields.String(required=True)
    city = ma.fields.String(required=True)
    region = ma.fields.String(required=True)
    postcode = ma.fields.String(required=True)
    country = ma.fields.String(required=True)
    is_default = ma.fields.Boolean(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": ["both", "shipping", "billing"],
                                                     "description": "What the address is used for"})


class ContactSchema(ma.Schema):
    id = WholeNumber(required=True)
    name = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    phone = ma.fields.String(required=True)
    email = ma.fields.String(required=True)


class AddressInputSchema(ApiSchema):
    label = _text(60)
    recipient = _text(200)
    phone = _text(40, PHONE)
    line1 = _text(300, NON_BLANK, required=True)
    line2 = _text(300)
    city = _text(120)
    region = _text(120)
    postcode = _text(20)
    country = _text(2, COUNTRY, metadata={"description": "Two-letter code, default CN"})
    is_default = ma.fields.Boolean(load_default=False)
    kind = ma.fields.String(validate=one_of(["both", "shipping", "billing"]), metadata={
        "description": "What the address is used for (default both)"})


class AddressPatchSchema(AddressInputSchema):
    line1 = _text(300, NON_BLANK)
    is_default = ma.fields.Boolean()


class CustomerSchema(ma.Schema):
    id = WholeNumber(required=True)
    name = ma.fields.String(required=True)
    phone = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    notes = ma.fields.String(required=True)
    language = ma.fields.String(required=True, metadata={
        "description": "Language of messages to the customer", "enum": ["zh_CN", "en"]})
    created_at = ma.fields.DateTime(required=True)
    addresses = ma.fields.List(ma.fields.Nested(AddressSchema), required=True)
    invoicing = ma.fields.Nested(InvoicingSchema, required=True)
    contacts = ma.fields.List(ma.fields.Nested(ContactSchema), required=True)
    tags = ma.fields.List(ma.fields.String(), required=True)
    owner_id = WholeNumber(allow_none=True, required=True, metadata={"description": "The owning salesperson (a user)"})
    credit_limit_minor = ma.fields.Integer(allow_none=True, required=True, metadata={
        "description": "Credit limit in minor units of the company's currency; null: no limit"})
    payment_terms = ma.fields.String(required=True, metadata={"enum": ["", "prepaid", "cod", "net", "month_end"]})
    payment_days = ma.fields.Integer(allow_none=True, required=True, metadata={"description": "Days of net terms"})


class CustomerCreateSchema(ApiSchema):
    name = _text(200, NON_BLANK, required=True)
    phone = _text(40, PHONE)
    email = _text(200, EMAIL)
    notes = _text(5000)
    language = ma.fields.String(validate=one_of(["zh_CN", "en"]), metadata={
        "description": "Language of messages to the customer; by default the company's"})
    address = ma.fields.Nested(AddressInputSchema, metadata={"description": "The first address (default)"})
    invoicing = ma.fields.Nested(InvoicingInputSchema, metadata={"description": "Invoicing details (开票信息)"})
    confirm_duplicate = ma.fields.Boolean(load_default=False, metadata={
        "description": "Create it even when a customer with the same phone or e-mail exists "
                       "(otherwise 409 possible_duplicate)"})


class CustomerPatchSchema(ApiSchema):
    name = _text(200, NON_BLANK)
    phone = _text(40, PHONE)
    email = _text(200, EMAIL)
    notes = _text(5000)
    language = ma.fields.String(validate=one_of(["zh_CN", "en"]), metadata={
        "description": "Language of messages to the customer"})
    invoicing = ma.fields.Nested(InvoicingInputSchema, metadata={
        "description": "Invoicing details (开票信息); fields left out stay as they are"})
    tags = ma.fields.List(_text(40), metadata={"description": "Replaces the customer's tags"})
    credit_limit = _text(30, metadata={"description": "In the company's currency, as typed; empty: no limit"})
    payment_terms = ma.fields.String(validate=one_of(["", "prepaid", "cod", "net", "month_end"]))
    payment_days = ma.fields.Integer(allow_none=True, metadata={"description": "Days of net terms (1 to 365)"})
    owner_id = WholeNumber(allow_none=True, metadata={
        "description": "The owning salesperson; needs orders.customers.manage"})


class CustomerListArgs(PageQuerySchema):
    q = _text(100, metadata={"description": "Name, e-mail or phone digits"})
    tag = _text(40, metadata={"description": "Only customers carrying this tag"})
    sort = ma.fields.String(validate=one_of(sort_choices(queries.CUSTOMER_SORTS)), load_default="name")


def customer_json(customer: Customer) -> dict:
    return {"id": customer.id, "name": customer.name, "phone": customer.phone or "", "email": customer.email or "",
            "notes": customer.notes or "", "language": services.customer_language(customer),
            "created_at": customer.created_at, "addresses": customer.addresses,
            "invoicing": customer_invoicing_details(customer).as_dict(), "contacts": customer.contacts,
            "tags": [t.label for t in customer.tags], "owner_id": customer.owner_id,
            "credit_limit_minor": customer.credit_limit_minor, "payment_terms": customer.payment_terms or "",
            "payment_days": customer.payment_days}


# ----------------------------------------------------------------------------- schemas: products


class ProductSchema(ma.Schema):
    id = WholeNumber(required=True)
    sku = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    spec = ma.fields.String(required=True)
    unit = ma.fields.String(required=True)
    currency = ma.fields.String(required=True)
    price = ma.fields.Method("_price", required=True, metadata={"type": "string", "example": "12.50"})
    price_minor = WholeNumber(required=True)
    tax_rate = ma.fields.Method("_tax_rate", required=True, allow_none=True, metadata={
        "type": "string", "nullable": True, "example": "13",
        "description": "The product's VAT rate: a percent as a decimal string, or \"exempt\"; null: the "
                       "company's default rate"})
    cost_minor = WholeNumber(required=True, allow_none=True,
                             metadata={"description": "Cost price in minor units (for margins); null: not known"})
    barcode = ma.fields.String(required=True, allow_none=True, metadata={
        "description": "EAN-13, UPC-A or EAN-8 digits; null: none", "example": "6901234567892"})
    active = ma.fields.Boolean(required=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)

    def _price(self, product) -> str:
        return format_plain(product.price_minor, product.currency)

    def _tax_rate(self, product) -> str | None:
        rate = tax.rate_by_id(product.tax_rate_id)
        return tax.api_rate_text(rate.percent, rate.exempt) if rate is not None else None


class ProductCreateSchema(ApiSchema):
    sku = _text(64, SKU, required=True, metadata={"description": "Letters, digits and . _ / - ; stored upper-case"})
    name = _text(200, NON_BLANK, required=True)
    price_minor = WholeNumber(required=True, validate=in_range(0, MAX_MINOR - 1),
                                    metadata={"description": "Price in minor units of the currency (1250 = 12.50 CNY)"})
    currency = ma.fields.String(validate=one_of(currencies()),
                                metadata={"description": "ISO code; default the company currency"})
    spec = _text(300)
    unit = _text(20)
    tax_rate = _text(10, allow_none=True, metadata={
        "description": "An active VAT rate: a percent as a decimal string (\"13\") or \"exempt\"; null or "
                       "left out: the company's default rate"})
    cost_minor = WholeNumber(allow_none=True, validate=in_range(0, MAX_MINOR - 1),
                             metadata={"description": "Cost price in minor units; null: not known"})
    barcode = _text(20, allow_none=True, metadata={
        "description": "EAN-13, UPC-A or EAN-8 (check digit verified, unique); null or empty: none",
        "example": "6901234567892"})
    active = ma.fields.Boolean(load_default=True)


class ProductPatchSchema(ProductCreateSchema):
    sku = _text(64, SKU)
    name = _text(200, NON_BLANK)
    price_minor = WholeNumber(validate=in_range(0, MAX_MINOR - 1))
    active = ma.fields.Boolean()


class ProductListArgs(PageQuerySchema):
    q = _text(100, metadata={"description": "Code, name or specification"})
    active = ma.fields.Boolean(metadata={"description": "true: on sale only; false: retired only"})
    sort = ma.fields.String(validate=one_of(sort_choices(queries.PRODUCT_SORTS)), load_default="sku")


# ----------------------------------------------------------------------------- schemas: orders


class OrderLineSchema(ma.Schema):
    id = WholeNumber(required=True)
    product_id = WholeNumber(required=True)
    sku = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    spec = ma.fields.String(required=True)
    unit = ma.fields.String(required=True)
    quantity = WholeNumber(required=True)
    cancelled_quantity = WholeNumber(required=True, metadata={
        "description": "Of quantity, what will never ship (the rest of the order was closed); the amounts are those of the rest"})
    unit_price_minor = WholeNumber(required=True)
    discount_percent = ma.fields.Method("_discount", required=True, metadata={"type": "string", "example": "5.00"})
    tax_rate = ma.fields.Method("_tax_rate", required=True, metadata={
        "type": "string", "example": "13",
        "description": "The line's VAT rate when entered: a percent as a decimal string, or \"exempt\""})
    discount_minor = WholeNumber(required=True, attribute="line_discount_minor", metadata={
        "description": "The line's fixed discount (after its percent), before tax"})
    order_discount_minor = WholeNumber(required=True, metadata={
        "description": "The line's share of the order's discount (spread in proportion, before tax)"})
    net_minor = WholeNumber(required=True, metadata={"description": "Amount without tax"})
    tax_minor = WholeNumber(required=True, metadata={"description": "Tax of the line (rounded half-up per line)"})
    gross_minor = WholeNumber(required=True, metadata={"description": "Amount with tax: what the customer pays"})
    line_total_minor = WholeNumber(required=True, metadata={"description": "Equals gross_minor"})

    def _discount(self, line) -> str:
        return str(Decimal(line.discount_percent or 0).quantize(Decimal("0.01")))

    def _tax_rate(self, line) -> str:
        return tax.api_rate_text(line.tax_rate_percent, line.tax_exempt)


HEADER = ("contact_name", "contact_phone", "contact_email", "ship_recipient", "ship_line1", "ship_line2",
          "ship_city", "ship_region", "ship_postcode", "ship_country", "notes")


class OrderSummarySchema(ma.Schema):
    id = WholeNumber(required=True)
    number = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    version = WholeNumber(required=True)
    customer_id = WholeNumber(required=True)
    customer_name = ma.fields.Function(lambda o: o.customer.name, required=True, metadata={"type": "string"})
    currency = ma.fields.String(required=True)
    subtotal_minor = WholeNumber(required=True, metadata={"description": "Price x quantity of the lines, before discounts"})
    discount_minor = WholeNumber(required=True, metadata={
        "description": "Every discount of the order: subtotal less what the lines come to (before tax)"})
    discount_percent = ma.fields.Method("_order_discount", required=True, metadata={
        "type": "string", "example": "5.00", "description": "The order-level discount as a percent (0: none)"})
    order_discount_amount_minor = WholeNumber(required=True, metadata={
        "description": "The order-level discount as a fixed amount, as sent in discount_minor (0: none)"})
    tax_minor = WholeNumber(required=True, metadata={"description": "Tax of the lines, summed"})
    total_minor = WholeNumber(required=True, metadata={"description": "What the customer pays, tax included"})
    prices_include_tax = ma.fields.Boolean(required=True, metadata={"description": "The unit prices include tax"})
    contact_name = ma.fields.String(required=True)
    contact_phone = ma.fields.String(required=True)
    contact_email = ma.fields.String(required=True)
    ship_recipient = ma.fields.String(required=True)
    ship_line1 = ma.fields.String(required=True)
    ship_line2 = ma.fields.String(required=True)
    ship_city = ma.fields.String(required=True)
    ship_region = ma.fields.String(required=True)
    ship_postcode = ma.fields.String(required=True)
    ship_country = ma.fields.String(required=True)
    notes = ma.fields.String(required=True)
    warehouse_id = WholeNumber(required=True, allow_none=True)
    channel = ma.fields.String(required=True, metadata={"description": "Sales channel code (setting orders.channels)"})
    external_ref = ma.fields.String(required=True, allow_none=True,
                                    metadata={"description": "The order's number in its channel (unique per channel)"})
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)
    confirmed_at = ma.fields.DateTime(required=True, allow_none=True)
    cancelled_at = ma.fields.DateTime(required=True, allow_none=True)

    def _order_discount(self, order) -> str:
        return str(Decimal(order.order_discount_percent or 0).quantize(Decimal("0.01")))


class OrderSchema(OrderSummarySchema):
    lines = ma.fields.List(ma.fields.Nested(OrderLineSchema), required=True)
    actions = ma.fields.Method("_actions", required=True, metadata={
        "type": "array", "items": {"type": "string"},
        "description": "Actions (transitions) the token's user may take now"})
    invoicing = ma.fields.Method("_invoicing", required=True, metadata=INVOICING_OBJECT)
    tags = ma.fields.Method("_tags", required=True, metadata={"type": "array", "items": {"type": "string"}})

    def _tags(self, order) -> list[str]:
        return services.tags_of([order.id]).get(order.id, [])

    def _actions(self, order) -> list[str]:
        return [a.name for a in services.available_actions(order, current_user)]

    def _invoicing(self, order) -> dict:
        return order_invoicing_details(order).as_dict()


def _contact_fields(required_line1: bool = False) -> dict:
    return {
        "discount_percent": _text(6, PERCENT, metadata={
            "description": "The order's discount in percent, spread over the lines before tax"}),
        "discount_minor": WholeNumber(validate=in_range(0, MAX_MINOR - 1), metadata={
            "description": "The order's discount as a fixed amount in minor units (instead of a percent)"}),
        "contact_name": _text(200), "contact_phone": _text(40), "contact_email": _text(200, EMAIL),
        "ship_recipient": _text(200), "ship_line1": _text(300, NON_BLANK, required=required_line1),
        "ship_line2": _text(300), "ship_city": _text(120), "ship_region": _text(120), "ship_postcode": _text(20),
        "ship_country": _text(2, COUNTRY, metadata={"description": "Two-letter code, default CN"}),
        "notes": _text(5000),
    }


class LineInputSchema(ApiSchema):
    product_id = id_field(required=True)
    quantity = WholeNumber(required=True, validate=in_range(1, services.MAX_QUANTITY))
    unit_price = _text(16, DECIMAL, metadata={"description": "Decimal string, e.g. 12.50; default the catalogue price"})
    discount = _text(6, PERCENT, metadata={"description": "Percent, 0-100, two decimals at most, e.g. 5"})
    discount_minor = WholeNumber(validate=in_range(0, MAX_MINOR - 1), metadata={
        "description": "A fixed discount of the line in minor units, after the percent"})


class LinePatchSchema(LineInputSchema):
    id = id_field(metadata={"description": "An existing line to keep (omit for a new line)"})


OrderCreateSchema = type("OrderCreateSchema", (ApiSchema,), {
    "customer_id": id_field(required=True),
    "currency": ma.fields.String(validate=one_of(currencies()),
                                 metadata={"description": "ISO code; default the company currency"}),
    "lines": ma.fields.List(ma.fields.Nested(LineInputSchema), required=True,
                            validate=count(1, services.MAX_LINES)),
    "channel": _text(24, metadata={"description": "Sales channel code; default the first of the setting (shop)"}),
    "external_ref": _text(100, metadata={"description": "The order's number in its channel; an order already "
                                                        "entered with it answers 409 duplicate_external_ref"}),
    **_contact_fields(required_line1=True),
})

OrderPatchSchema = type("OrderPatchSchema", (ApiSchema,), {
    "version": WholeNumber(required=True, validate=in_range(1, MAX_ID),
                                 metadata={"description": "The version the change is based on (409 stale otherwise)"}),
    "customer_id": id_field(metadata={"description": "Only while the order is a draft"}),
    "lines": ma.fields.List(ma.fields.Nested(LinePatchSchema), validate=count(1, services.MAX_LINES),
                            metadata={"description": "The full new set of lines; omitted: unchanged"}),
    **_contact_fields(),
})


class TransitionSchema(ApiSchema):
    action = ma.fields.String(required=True, validate=one_of(states.ACTIONS_BY_NAME))
    note = _text(1000, metadata={"description": "Reason (required to cancel)"})
    version = WholeNumber(validate=in_range(1, MAX_ID),
                                metadata={"description": "Refuse (409 stale) unless the order is at this version"})


class OrderTagSchema(ApiSchema):
    tag = _text(40, required=True, metadata={"description": "The tag to put on the order (spaces trimmed and squeezed)"})


class OrderListArgs(PageQuerySchema):
    q = _text(100, metadata={"description": "Number, customer, contact, phone digits, product code or name"})
    status = ma.fields.String(validate=one_of([*states.STATUSES, "open"]))
    date_from = ma.fields.Date(data_key="from", metadata={"description": "Entered on or after (company calendar)"})
    date_to = ma.fields.Date(data_key="to", metadata={"description": "Entered on or before (company calendar)"})
    customer_id = id_field()
    channel = _text(24, metadata={"description": "Only orders of this sales channel"})
    tag = _text(40, metadata={"description": "Only orders carrying this tag"})
    sort = ma.fields.String(validate=one_of(sort_choices(queries.ORDER_SORTS)), load_default="-created")



