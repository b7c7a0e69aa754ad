"""Property-based fuzzing of the JSON API from its own OpenAPI document (schemathesis),
in-process over WSGI, authenticated as the admin (who reaches the most code) and as a
creator: no request may produce a 5xx, and every response must match its documented
status codes, content types and schema."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_openapi_document_is_3_1_and_complete(world):
    doc = world.client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    assert {"/api/v1/cameos", "/api/v1/licences/{licence_id}/sign", "/api/v1/offers/{offer_id}/licences"} <= set(
        doc["paths"]
    )
    create = doc["paths"]["/api/v1/cameos"]["post"]
    assert "application/problem+json" in create["responses"]["422"]["content"]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def _fuzz(world, who: str, max_examples: int):
    world.app.config["RATELIMIT_ENABLED"] = False
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", world.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 25
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=max_examples,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        def run(case):
            case.call_and_validate(headers=world.headers(who), checks=CHECKS)

        run()


def test_fuzz_as_admin(world):
    _fuzz(world, "gus", max_examples=20)


def test_fuzz_as_creator(world):
    _fuzz(world, "ava", max_examples=10)


def test_fuzz_as_brand(world):
    _fuzz(world, "dana", max_examples=10)
