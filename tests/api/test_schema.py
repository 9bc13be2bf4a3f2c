"""Our own OpenAPI schema (/api/v1/schema/, drf-spectacular) checked by schemathesis: a few generated requests per
operation, sent through the WSGI application with a key of every scope; no 500, no answer outside the schema."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi import checks

from tests.api.conftest import new_key

CHECKS = [
    schemathesis.checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture
def api_schema(db):
    """The schema, served by the WSGI application in this thread (inside the test's transaction, as the test client)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield load_schema()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def load_schema():
    config = schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}}})
    return schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application(), config=config)


@pytest.fixture
def every_scope(admin_user, issuer, unit, signer, sent):
    """A key of every scope acting as an administrator, with a dispatch and the directory to find."""
    _key, secret = new_key(admin_user)
    return {"Authorization": f"Bearer {secret}"}


def test_the_api_answers_within_its_own_schema(api_schema, every_scope):
    """Each operation's strategy, run by Hypothesis here (schemathesis' pytest loader does not run on pytest 9)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        exercise(operation, every_scope)


def exercise(operation, headers: dict) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
    def run(case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()
