"""Property-based fuzzing of the API from its own OpenAPI schema (schemathesis): whatever
comes in, valid or not, nothing answers 5xx and every answer matches the schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.config import Settings
from app.main import create_app
from core import limits

APP = create_app(Settings(warm_up=False))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture(autouse=True)
def small_budgets(monkeypatch):
    """Keep the fuzzing to about a minute: the schema allows n = 1024 at T = 1000 (refused
    by the work budget, which is not in the schema); here the budgets refuse sooner."""
    monkeypatch.setattr(limits, "SURFACE_WORK_MAX", 2_000_000)
    monkeypatch.setattr(limits, "TRAJECTORY_WORK_MAX", 400_000)


@schema.parametrize()
@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_survives_its_own_schema(case):
    if case.path == "/api/trajectories/stream":
        # A stream is text/event-stream: check only that it is not a 5xx and is declared.
        case.call_and_validate(checks=[not_a_server_error, status_code_conformance])
    else:
        case.call_and_validate(checks=CHECKS)
