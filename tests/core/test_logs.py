"""Structured request logs with a request id; errors logged with context, never shown to users."""

import io
import json
import logging

import pytest

from erp_core.logs import ContextFilter, JsonFormatter
from tests.helpers import login, make_user


@pytest.fixture
def json_log():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("erp")
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


def test_each_request_is_logged_with_its_id(make_app, json_log):
    app = make_app(plugins=[])
    response = app.test_client().get("/login", headers={"X-Request-ID": "req-123"})
    assert response.headers["X-Request-ID"] == "req-123"
    [line] = [entry for entry in json_log() if entry.get("path") == "/login"]
    assert line["request_id"] == "req-123" and line["status"] == 200 and line["method"] == "GET"
    assert line["duration_ms"] >= 0


def test_a_crash_is_logged_with_context_and_the_user_sees_a_reference(make_app, json_log):
    app = make_app(plugins=[])

    def boom():
        raise RuntimeError("secret internals")

    from erp_core.security import login_only

    app.add_url_rule("/boom", "boom", login_only(boom))
    client = app.test_client()
    login(client, app, make_user(app))
    response = client.get("/boom", headers={"X-Request-ID": "crash-1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "secret internals" not in page and "Traceback" not in page and "crash-1" in page
    errors = [entry for entry in json_log() if entry["level"] == "ERROR"]
    assert errors and errors[0]["request_id"] == "crash-1" and "secret internals" in errors[0]["exception"]
    assert errors[0]["path"] == "/boom"


def test_invented_request_ids_are_replaced(make_app):
    app = make_app(plugins=[])
    response = app.test_client().get("/login", headers={"X-Request-ID": "x" * 300})
    assert len(response.headers["X-Request-ID"]) == 32
