"""Payment methods in the finance JSON API (``/api/v1/finance/payment-methods``): the ones to pay
with, and their configuration (switching a method on or off, its settings fields).

Configuration needs ``core.settings.manage``, as the site settings page where the same switches
and fields are; it goes through :func:`plugins.finance.services.configure_method` (checked like
the page, audited with secrets masked). Secret settings are write-only: answers say whether one
is stored, never its value. Registered on :data:`plugins.finance.rest_api.bp`.
"""

from __future__ import annotations

import marshmallow as ma
from flask import abort
from flask.views import MethodView
from flask_login import current_user

from erp_core import settings
from erp_core.api.schemas import ApiSchema, QuerySchema, length, pattern
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.security import requires

from . import services
from .rest_api import PaymentMethodSchema, bp

CONFIGURE = "core.settings.manage"


class MethodListArgs(QuerySchema):
    include_disabled = ma.fields.Boolean(load_default=False, metadata={
        "description": "Also the methods switched off (needs the core.settings.manage permission)"})


class PaymentMethodItemSchema(PaymentMethodSchema):
    enabled = ma.fields.Boolean(required=True)


class PaymentMethodItemListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PaymentMethodItemSchema), required=True)


class ChoiceSchema(ma.Schema):
    value = ma.fields.String(required=True)
    label = ma.fields.String(required=True)


class MethodSettingSchema(ma.Schema):
    name = ma.fields.String(required=True, metadata={"description": "What to send in settings to change it"})
    label = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": ["string", "text", "integer", "boolean", "choice",
                                                               "email_list", "timezone", "currency", "secret"]})
    help = ma.fields.String(required=True)
    required = ma.fields.Boolean(required=True)
    choices = ma.fields.List(ma.fields.Nested(ChoiceSchema), required=True)
    value = ma.fields.Raw(allow_none=True, required=True, metadata={
        "description": "The current value (text, whole number or boolean by kind); always null for secrets"})
    is_set = ma.fields.Boolean(required=True, metadata={"description": "A value is stored (for secrets)"})


class PaymentMethodSetupSchema(PaymentMethodItemSchema):
    settings = ma.fields.List(ma.fields.Nested(MethodSettingSchema), required=True)


class PaymentMethodPatchSchema(ApiSchema):
    enabled = ma.fields.Boolean(metadata={"description": "Accept payments by this method"})
    settings = ma.fields.Dict(
        keys=ma.fields.String(validate=[length(60), pattern(r"^[a-z0-9_]+$")]),
        values=ma.fields.Raw(metadata={"description": f"Text of at most {services.MAX_SETTING_LENGTH} characters, "
                                                      "a whole number or a boolean"}),
        metadata={"description": "Values by setting name (text, whole number or boolean by its kind); only "
                                 "those sent change, and a secret sent empty keeps the stored one"})


def _method_json(cls, classes: dict) -> dict:
    return {"code": cls.code, "label": str(cls.label), "online": cls.online,
            "requires_reference": cls.requires_reference, "refundable": cls.refundable,
            "enabled": services.method_enabled(cls.code, classes)}


def _setup_json(code: str) -> dict:
    classes = services.adapter_classes()
    body = _method_json(classes[code], classes)
    body["settings"] = []
    for name, field in services.method_settings(code).items():
        value = settings.get(field.key)
        body["settings"].append({
            "name": name, "label": str(field.label), "kind": field.kind, "help": str(field.help or ""),
            "required": field.required, "choices": [{"value": v, "label": str(lbl)} for v, lbl in field.choices],
            "value": None if field.kind == "secret" else value, "is_set": value not in (None, "")})
    return body


def _method(code: str) -> None:
    """404 (problem+json, translated) when no enabled plugin offers the method."""
    services.method_settings(code)


@bp.route("/payment-methods")
class PaymentMethods(MethodView):
    @requires("finance.view")
    @bp.arguments(MethodListArgs, location="query")
    @bp.response(200, PaymentMethodItemListSchema)
    def get(self, args):
        """The payment methods switched on in the settings.

        ``include_disabled=true`` lists the switched-off ones too; it needs the permission to
        change the site settings (403 without it).
        """
        if args["include_disabled"] and not current_user.can(CONFIGURE):
            abort(403)
        classes = services.adapter_classes()
        return {"items": [_method_json(cls, classes) for code, cls in classes.items()
                          if args["include_disabled"] or services.method_enabled(code, classes)]}


@bp.route("/payment-methods/<code>", endpoint="PaymentMethod")
class PaymentMethod(MethodView):
    @requires(CONFIGURE)
    @bp.response(200, PaymentMethodSetupSchema)
    @bp.alt_response(404, response="DEFAULT_ERROR", description="No such payment method")
    def get(self, code):
        """A payment method with its settings fields (secrets: only whether they are set)."""
        _method(code)
        return _setup_json(code)

    @requires(CONFIGURE)
    @bp.arguments(PaymentMethodPatchSchema)
    @bp.response(200, PaymentMethodSetupSchema)
    @bp.alt_response(404, response="DEFAULT_ERROR", description="No such payment method")
    def patch(self, data, code):
        """Switch a payment method on or off and change its settings.

        Each value is checked as on the settings page; one refused value refuses the whole
        request (422, nothing changed), with the message beside ``settings.<name>``.
        """
        _method(code)
        try:
            services.configure_method(code, data.get("enabled"), data.get("settings"))
        except DomainError as exc:
            db.session.rollback()
            errors = getattr(exc, "errors", None)
            if errors:
                exc.errors = {f"settings.{name}": messages for name, messages in errors.items()}
            raise
        db.session.commit()
        return _setup_json(code)
