"""Schemathesis against the generated OpenAPI document: no server error, no response that
contradicts the schema (status codes, content types, bodies), for every operation.

Driven through Hypothesis directly (schemathesis' pytest plugin does not follow pytest 9).
"""

import schemathesis
from hypothesis import HealthCheck, given, settings

from erp_core.api.tokens import create_token
from erp_core.auth.models import User
from erp_core.extensions import db
from tests.helpers import make_user

ALPHA = "alpha=tests.core.fakeplugins.alpha"


def run_conformance(app, token: str, max_examples: int = 25) -> list[str]:
    """Exercise every operation of the app's OpenAPI document; return the failures found."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=max_examples, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def check(case):
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"})

        try:
            check()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    return failures


def test_api_conforms_to_its_schema(make_app):
    app = make_app(plugins=[ALPHA])
    user_id = make_user(app, roles=["admin"])
    with app.app_context():
        _row, token = create_token(db.session.get(User, user_id), "schemathesis")
        db.session.commit()
    assert run_conformance(app, token) == []


def test_the_whole_api_conforms_with_every_plugin_on(make_app):
    """Every built-in plugin on, an administrator's token (so writes reach the business rules):
    no operation answers with a server error or contradicts the document."""
    app = make_app()
    user_id = make_user(app, roles=["admin"])
    with app.app_context():
        _row, token = create_token(db.session.get(User, user_id), "schemathesis-all")
        db.session.commit()
    assert run_conformance(app, token, max_examples=15) == []
