"""Wire the API into the app: flask-smorest, token sign-in, the filtered OpenAPI document."""

from __future__ import annotations

import copy

import marshmallow as ma
from flask import Blueprint, current_app, jsonify, render_template, request
from flask_smorest import Api

from ..security import public

API_PREFIX = "/api/v1"


class ProblemSchema(ma.Schema):
    """An error as ``application/problem+json`` (RFC 9457) with a stable machine code."""

    type = ma.fields.String(metadata={"description": "Always about:blank"})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(required=True, metadata={"description": "Message in the asked language"})
    code = ma.fields.String(required=True, metadata={"description": "Machine-readable error code"})
    errors = ma.fields.Dict(metadata={"description": "Field errors, when a request body or query is invalid"})


class ErpApi(Api):
    """flask-smorest's Api, with errors left to the ERP's own problem+json handler."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        pass  # erp_core.web.errors renders every error, as problem+json under /api/


def init_api(app, manager) -> ErpApi:
    """Create the Api, register the core's and every loaded plugin's API blueprints."""
    app.config.setdefault("API_TITLE", "ERP API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": "Orders, stock, shipments, payments and customer service. "
                               "Authenticate with `Authorization: Bearer <personal token>`."},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "servers": [{"url": "/"}],
    })
    api = ErpApi(app)
    from ..extensions import csrf

    owners, titles = {}, {}
    for owner, blueprints in manager.call_each("erp_api_blueprints", only_enabled=False):
        for bp in blueprints or []:
            csrf.exempt(bp)
            api.register_blueprint(bp)
            manager.blueprint_owner[bp.name] = owner
            owners[bp.name] = owner
            titles[bp.name] = tag_title(bp)
    app.extensions["erp_api"] = {"api": api, "owners": owners, "titles": titles}
    app.register_blueprint(docs_bp)
    manager.blueprint_owner[docs_bp.name] = "core"
    return api


def tag_title(bp) -> str:
    """The group name readers see in the API docs: the blueprint's ``api_title`` when it sets one,
    else its name without ``_api``, in words (``support_tickets_api`` -> ``Support tickets``)."""
    title = getattr(bp, "api_title", None)
    return str(title) if title else bp.name.removesuffix("_api").replace("_", " ").capitalize()


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX + "/") or request.path == API_PREFIX


def filtered_spec() -> dict:
    """The OpenAPI document without the paths (and tags) of disabled plugins."""
    ext = current_app.extensions["erp_api"]
    manager = current_app.extensions["erp_plugins"]
    spec = copy.deepcopy(ext["api"].spec.to_dict())
    disabled_tags = {name for name, owner in ext["owners"].items() if not manager.is_enabled(owner)}
    paths = {}
    for path, operations in spec.get("paths", {}).items():
        kept = {method: op for method, op in operations.items()
                if not (isinstance(op, dict) and set(op.get("tags", [])) & disabled_tags)}
        if any(isinstance(op, dict) for op in kept.values()):
            paths[path] = kept
    spec["paths"] = paths
    spec["tags"] = [t for t in spec.get("tags", []) if t["name"] not in disabled_tags]
    _retitle_tags(spec, ext.get("titles", {}))
    for response in spec.get("components", {}).get("responses", {}).values():
        content = response.get("content", {})
        if "application/json" in content:
            content.setdefault("application/problem+json", content["application/json"])
    return spec


def _retitle_tags(spec: dict, titles: dict[str, str]) -> None:
    """Name the groups as readers see them (blueprint names such as ``orders_api`` are code)."""
    for tag in spec.get("tags", []):
        tag["name"] = titles.get(tag["name"], tag["name"])
    for operations in spec.get("paths", {}).values():
        for op in operations.values():
            if isinstance(op, dict) and "tags" in op:
                op["tags"] = [titles.get(t, t) for t in op["tags"]]


docs_bp = Blueprint("api_docs", __name__, url_prefix=API_PREFIX)


@docs_bp.route("/openapi.json")
@public
def openapi_json():
    return jsonify(filtered_spec())


@docs_bp.route("/docs")
@public
def docs():
    return render_template("api/docs.html")
