"""Carriers in the logistics JSON API (``/api/v1/logistics``): the ones to ship with, and their
configuration (adapters offered, creating, credentials, switching on and off).

Configuration needs ``logistics.carriers``, as the carriers admin page does; it goes through
:mod:`plugins.logistics.services.carrier_setup` (validated by the adapter, audited with secrets
masked). Secret credentials are write-only: answers say whether one is stored, never its value.
Registered on :data:`plugins.logistics.rest_api.bp`.
"""

from __future__ import annotations

import marshmallow as ma
from flask import abort, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from erp_core.api.idempotency import idempotent
from erp_core.api.pagination import paginate
from erp_core.api.schemas import (
    ApiSchema,
    PageQuerySchema,
    existing_id,
    length,
    page_schema,
    pattern,
    text_field,
)
from erp_core.errors import Conflict, DomainError
from erp_core.extensions import db
from erp_core.security import requires

from . import adapters as a
from . import services
from .models import Carrier
from .rest_api import CarrierSchema, _carrier_json, bp

CONFIGURE = "logistics.carriers"
CODE = r"^[a-z0-9][a-z0-9-]{1,39}$"
CREDENTIAL_LIMIT = 500


# ----------------------------------------------------------------------------- schemas


class CarrierListArgs(PageQuerySchema):
    include_disabled = ma.fields.Boolean(load_default=False, metadata={
        "description": "Also carriers switched off (needs the logistics.carriers permission)"})


class CredentialFieldSchema(ma.Schema):
    key = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    secret = ma.fields.Boolean(required=True, metadata={"description": "Write-only: never sent back"})
    required = ma.fields.Boolean(required=True)
    help = ma.fields.String(required=True)


class CarrierAdapterSchema(ma.Schema):
    key = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    supports = ma.fields.List(ma.fields.String(metadata={"enum": sorted(a.CAPABILITIES)}),
                              required=True)
    credential_fields = ma.fields.List(ma.fields.Nested(CredentialFieldSchema), required=True)


class CarrierAdapterListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CarrierAdapterSchema), required=True)


class CarrierListItemSchema(CarrierSchema):
    enabled = ma.fields.Boolean(required=True)


class CarrierSetupSchema(CarrierListItemSchema):
    credentials = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True, metadata={
        "description": "The values of the adapter's credential fields that are not secret"})
    secrets_set = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Boolean(), required=True, metadata={
        "description": "For each secret credential field, whether a value is stored"})
    webhook_url = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "Where the carrier pushes tracking events (adapters with webhooks); the signing secret "
                       "is shown only on the carrier's page"})
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


def _credentials_field(description: str, **kw):
    return ma.fields.Dict(keys=ma.fields.String(validate=[length(60), pattern(r"^[a-z0-9_]+$")]),
                          values=text_field(CREDENTIAL_LIMIT), metadata={"description": description}, **kw)


class CarrierInSchema(ApiSchema):
    code = text_field(40, CODE, required=True, metadata={
        "description": "Names the carrier's webhook URL: 2 to 40 lower-case letters, digits or dashes"})
    name = text_field(120, required=True)
    adapter = text_field(60, required=True, metadata={"description": "Key of one of the carrier-adapters"})
    credentials = _credentials_field("Values of the adapter's credential fields by key (see carrier-adapters)",
                                     load_default=dict)
    enabled = ma.fields.Boolean(load_default=True)


class CarrierPatchSchema(ApiSchema):
    name = text_field(120)
    credentials = _credentials_field("Values of the adapter's credential fields by key: only the keys sent change, "
                                     "and a secret sent empty keeps the stored one")
    enabled = ma.fields.Boolean()


# ----------------------------------------------------------------------------- helpers


def _adapter_json(cls) -> dict:
    return {"key": cls.key, "title": str(cls.title), "description": str(cls.description or ""),
            "supports": sorted(cls.supports),
            "credential_fields": [{"key": f.key, "label": str(f.label), "secret": f.secret, "required": f.required,
                                   "help": str(f.help or "")} for f in cls.credential_fields]}


def _setup_json(carrier: Carrier) -> dict:
    cls = services.adapter_classes().get(carrier.adapter)
    body = _carrier_json(carrier, services.try_adapter(carrier))
    stored = services.stored_credentials(carrier, cls) if cls is not None else {}
    fields = cls.credential_fields if cls else ()
    body.update(
        enabled=carrier.enabled, created_at=carrier.created_at, updated_at=carrier.updated_at,
        credentials={f.key: str(stored.get(f.key) or "") for f in fields if not f.secret},
        secrets_set={f.key: bool(stored.get(f.key)) for f in fields if f.secret},
        webhook_url=(url_for("logistics.webhook", code=carrier.code, _external=True)
                     if cls is not None and a.WEBHOOK in cls.supports else None))
    return body


def _known_credentials(cls, credentials: dict) -> None:
    """Refuse keys the adapter does not declare (a typo would otherwise be dropped silently)."""
    known = {f.key for f in cls.credential_fields}
    unknown = sorted(set(credentials) - known)
    if unknown:
        raise services.Invalid({f"credentials.{key}": [_("The adapter %(adapter)s has no credential %(key)s.",
                                                          adapter=cls.key, key=key)] for key in unknown})


def _api_errors(exc: DomainError) -> DomainError:
    """The services name credential fields as the form does (``cred_<key>``): rename them."""
    errors = getattr(exc, "errors", None)
    if errors:
        exc.errors = {("credentials." + key[5:] if key.startswith("cred_") else key): [str(m) for m in messages]
                      for key, messages in errors.items()}
    return exc


# ----------------------------------------------------------------------------- views


@bp.route("/carrier-adapters")
class CarrierAdapters(MethodView):
    @requires(CONFIGURE)
    @bp.response(200, CarrierAdapterListSchema)
    def get(self):
        """The carrier adapters installed plugins offer, with the credentials each needs."""
        return {"items": [_adapter_json(cls) for cls in services.adapter_classes().values()]}


@bp.route("/carriers")
class Carriers(MethodView):
    @requires("logistics.view")
    @bp.arguments(CarrierListArgs, location="query")
    @bp.response(200, page_schema(CarrierListItemSchema, "CarrierPage"))
    def get(self, args):
        """Carriers one can ship with, by name (credentials are never shown).

        ``include_disabled=true`` lists the switched-off ones too; it needs the permission to
        configure carriers (403 without it).
        """
        stmt = select(Carrier).order_by(Carrier.name, Carrier.id)
        if args["include_disabled"]:
            if not current_user.can(CONFIGURE):
                abort(403)
        else:
            stmt = stmt.where(Carrier.enabled.is_(True))
        body, headers = paginate(stmt, args)
        body["items"] = [{**_carrier_json(carrier, services.try_adapter(carrier)), "enabled": carrier.enabled}
                         for carrier in body["items"]]
        return body, 200, headers

    @requires(CONFIGURE)
    @idempotent
    @bp.arguments(CarrierInSchema)
    @bp.response(201, CarrierSetupSchema)
    def post(self, data):
        """Configure a carrier run by one of the carrier-adapters.

        The adapter checks the credentials; a used code, an unknown adapter or a missing or
        malformed credential is refused (422) and nothing is stored.
        """
        cls = services.adapter_classes().get(data["adapter"])
        if cls is not None:
            _known_credentials(cls, data["credentials"])
        try:
            carrier = services.create_carrier(data["name"], data["code"], data["adapter"], data["credentials"],
                                              data["enabled"])
        except DomainError as exc:
            raise _api_errors(exc) from None
        db.session.commit()
        return _setup_json(carrier), 201, {"Location": url_for("logistics_api.Carrier", carrier_id=carrier.id)}


@bp.route("/carriers/<int:carrier_id>", endpoint="Carrier")
class CarrierResource(MethodView):
    @requires(CONFIGURE)
    @bp.response(200, CarrierSetupSchema)
    @bp.alt_response(404, response="DEFAULT_ERROR", description="No such carrier")
    def get(self, carrier_id):
        """One carrier's configuration (secret credentials: only whether they are set)."""
        return _setup_json(services.get_carrier(existing_id(carrier_id, _("No such carrier."))))

    @requires(CONFIGURE)
    @bp.arguments(CarrierPatchSchema)
    @bp.response(200, CarrierSetupSchema)
    @bp.alt_response(404, response="DEFAULT_ERROR", description="No such carrier")
    @bp.alt_response(409, response="DEFAULT_ERROR", description="Its adapter is not installed or switched off")
    def patch(self, data, carrier_id):
        """Rename a carrier, change some of its credentials, switch it on or off.

        Credentials not sent keep their values, as does a secret sent empty; the adapter checks
        the result. Refused as a whole (422, nothing changed) when any part is wrong.
        """
        carrier = services.get_carrier(existing_id(carrier_id, _("No such carrier.")))
        if "name" in data or "credentials" in data:
            cls = services.adapter_classes().get(carrier.adapter)
            if cls is None:
                raise _unavailable(carrier)
            sent = data.get("credentials") or {}
            _known_credentials(cls, sent)
            stored = dict(carrier.credentials or {})  # the secret ones sealed: sent empty, they are kept
            credentials = {f.key: ("" if f.secret else str(stored.get(f.key) or "")) for f in cls.credential_fields}
            credentials.update(sent)
            try:
                services.update_carrier(carrier, data.get("name", carrier.name), credentials)
            except DomainError as exc:
                db.session.rollback()
                raise _api_errors(exc) from None
        if "enabled" in data:
            services.set_carrier_enabled(carrier, data["enabled"])
        db.session.commit()
        return _setup_json(carrier)


def _unavailable(carrier: Carrier) -> DomainError:
    return Conflict(_("Carrier %(name)s uses the adapter %(adapter)s, which is not installed or switched off.",
                      name=carrier.name, adapter=carrier.adapter))
