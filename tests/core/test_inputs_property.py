"""Property-based: hostile text and numbers sent to every API operation that takes a body.

The operations are discovered from the OpenAPI document (every POST, PUT and PATCH), so a new
endpoint is covered without touching this file. Each body follows the operation's schema, with
its text fields holding lone surrogates, NUL and other control characters, bidi marks or very
long strings, and its numbers holding fractions, booleans, text and huge values; some bodies are
JSON nested thousands deep. Nothing may answer 5xx.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from erp_core.testing import api_token, bearer

HOSTILE_CHARS = ["\ud800", "\udfff", "\x00", "\x01", "\x1b", "\x7f", "\u202e", "\ufeff", "\u2028", "\U0010ffff",
                 "'", '"', "<", "%", "\\"]
hostile_text = st.one_of(
    st.lists(st.one_of(st.characters(), st.sampled_from(HOSTILE_CHARS)), max_size=12).map("".join),
    st.sampled_from(["", " ", "A" * 10_000, "长" * 3_000, "1.5", "-0", "9" * 40]),
)
hostile_number = st.one_of(st.integers(-(2**70), 2**70), st.floats(allow_nan=False, allow_infinity=False),
                           st.booleans(), st.sampled_from(["1.5", "12", "", None]), st.just(1999.99))


def _operations(app) -> list[tuple[str, str, dict]]:
    from erp_core.api.setup import filtered_spec

    with app.test_request_context():
        spec = filtered_spec()
    schemas = spec.get("components", {}).get("schemas", {})
    found = []
    for path, operations in sorted(spec["paths"].items()):
        for method, operation in sorted(operations.items()):
            if method not in ("post", "put", "patch") or not isinstance(operation, dict):
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            found.append((method, re.sub(r"\{[^}]+\}", "1", path), _resolve(body, schemas)))
    return found


def _resolve(schema: dict, schemas: dict, depth: int = 0) -> dict:
    if "$ref" in schema:
        schema = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
    if depth > 4:
        return {}
    if schema.get("type") == "array":
        return {"type": "array", "items": _resolve(schema.get("items", {}), schemas, depth + 1)}
    if "properties" in schema:
        return {"type": "object", "properties": {name: _resolve(sub, schemas, depth + 1)
                                                 for name, sub in schema["properties"].items()}}
    return schema


def _value(schema: dict):
    kind = schema.get("type")
    if kind == "object" and "properties" not in schema:  # a free mapping (settings by name, say)
        return st.dictionaries(hostile_text, st.one_of(hostile_text, hostile_number, st.booleans()), max_size=3)
    if kind == "object":
        return st.fixed_dictionaries({}, optional={name: _value(sub) for name, sub in schema["properties"].items()})
    if kind == "array":
        return st.lists(_value(schema.get("items", {})), max_size=3)
    if kind in ("integer", "number"):
        return hostile_number
    if kind == "boolean":
        return st.one_of(st.booleans(), hostile_text)
    return st.one_of(hostile_text, hostile_number)


@pytest.fixture
def hostile_api(make_app):
    app = make_app()
    return app, app.test_client(), bearer(api_token(app, roles=["admin"]), **{"Content-Type": "application/json"})


def test_the_openapi_document_offers_the_create_endpoints(hostile_api):
    operations = _operations(hostile_api[0])
    paths = {path for _method, path, _schema in operations}
    assert {"/api/v1/customers", "/api/v1/orders", "/api/v1/finance/payments", "/api/v1/tickets",
            "/api/v1/logistics/shipments", "/api/v1/stock-moves/receipts"} <= paths


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_no_hostile_body_gives_a_server_error(hostile_api, data):
    app, client, headers = hostile_api
    operations = _operations(app)
    method, path, schema = data.draw(st.sampled_from(operations), label="operation")
    if data.draw(st.integers(0, 9), label="deep") == 0:
        depth = data.draw(st.integers(65, 20_000), label="depth")
        body = "[" * depth + "]" * depth
    else:
        body = json.dumps(data.draw(_value(schema) if schema.get("type") == "object" else st.just({}), label="body"))
    response = client.open(path, method=method.upper(), data=body, headers=headers)
    assert response.status_code < 500, (method, path, body[:300], response.get_data(as_text=True)[:300])
