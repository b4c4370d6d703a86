"""The ``invoicing`` object of customers and orders in the API (buyers' invoicing details, 开票信息)."""

from __future__ import annotations

import marshmallow as ma

from erp_core.api.schemas import MAX_ID, NO_NUL, PHONE, ApiSchema, WholeNumber, choice_field, in_range, text_field

from ..invoicing_details import INVOICE_TYPES, LIMITS

_TYPES = {"enum": list(INVOICE_TYPES),
          "description": "none: no invoice; ordinary: 普通发票 (needs title); special: 增值税专用发票 (needs every field)"}


class InvoicingSchema(ma.Schema):
    title = ma.fields.String(required=True, metadata={"description": "Invoice title (抬头), the buyer's name"})
    taxpayer_id = ma.fields.String(required=True, metadata={
        "description": "Unified social credit code (统一社会信用代码), 18 characters, or empty"})
    address = ma.fields.String(required=True, metadata={"description": "Registered address"})
    phone = ma.fields.String(required=True, metadata={"description": "Registered phone"})
    bank = ma.fields.String(required=True, metadata={"description": "Bank name"})
    account = ma.fields.String(required=True, metadata={"description": "Bank account number"})
    invoice_type = ma.fields.String(required=True, metadata=_TYPES)


class InvoicingInputSchema(ApiSchema):
    """Sent whole on create and on PUT; on a customer's PATCH the fields left out stay as they are.
    The taxpayer ID is checked with its check character; what each invoice type needs is checked
    by the service (422 ``invoicing_invalid`` naming the fields ``invoicing.<field>``)."""

    title = text_field(LIMITS["title"], NO_NUL)
    taxpayer_id = text_field(40, NO_NUL, metadata={"description": "18 characters; spaces and case are forgiven"})
    address = text_field(LIMITS["address"], NO_NUL)
    phone = text_field(LIMITS["phone"], PHONE)
    bank = text_field(LIMITS["bank"], NO_NUL)
    account = text_field(LIMITS["account"], NO_NUL)
    invoice_type = choice_field(INVOICE_TYPES, metadata=_TYPES)


# The ``invoicing`` object as an order's answer documents it (a Method field, which has no schema of its own).
INVOICING_OBJECT = {"type": "object", "description": "The buyer's invoicing details (开票信息), the order's own copy",
                    "required": [*(name for name in InvoicingSchema._declared_fields)],
                    "properties": {name: {"type": "string", **({"enum": list(INVOICE_TYPES)}
                                                               if name == "invoice_type" else {})}
                                   for name in InvoicingSchema._declared_fields}}


class OrderInvoicingSchema(InvoicingSchema):
    order_id = WholeNumber(required=True)
    version = WholeNumber(required=True, metadata={"description": "The order's version after the change"})


class OrderInvoicingPutSchema(InvoicingInputSchema):
    version = WholeNumber(validate=in_range(1, MAX_ID), metadata={
        "description": "Refuse (409 stale) unless the order is at this version"})
