"""The JSON API (``/api/v1``): personal tokens, problem+json errors, idempotent creates,
pagination, and an OpenAPI 3 document generated from the code with flask-smorest.

Plugins contribute :class:`flask_smorest.Blueprint` objects through ``erp_api_blueprints``;
their endpoints (and their part of the OpenAPI document) vanish while the plugin is off.
"""
