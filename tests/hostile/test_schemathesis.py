"""Property-based fuzzing of the JSON API from its own OpenAPI schema (bounded run).

Every operation gets generated requests as an authenticated prefecture agent; no answer may be a 5xx
and every answer must match the schema (status code documented, content type, body shape).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

MAX_EXAMPLES = int(os.environ.get("COORD_FUZZ_EXAMPLES", "15"))
# Every operation is fuzzed on both engines; SQLite gets the full bound and PostgreSQL a third of it: the
# generated requests are refused or served by the same code, and what only PostgreSQL would refuse is
# probed on both engines: ids beyond 64 bits on every route (test_probed_input.py), NUL bytes
# (test_hostile_input.py).
EXAMPLES = {"sqlite": MAX_EXAMPLES, "postgres": max(3, MAX_EXAMPLES // 3)}


@pytest.mark.fuzz
def test_api_never_errors_and_follows_its_schema(db, app, make_user, api_as):
    import schemathesis
    from schemathesis.checks import not_a_server_error

    api = api_as("prefecture", "34")
    org = api.post("/api/organisations", json={"name": "Parquet", "kind": "parquet"}).json()
    api.post("/api/contacts", json={"organisation": org["id"], "first_name": "A", "last_name": "B", "email": "a@b.fr"})
    token = make_user("prefecture", "34").token
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    for operation in operations:

        @settings(max_examples=EXAMPLES[db.name], deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run_case(case) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}")
            try:
                case.validate_response(response, checks=[not_a_server_error])
            except Exception as exc:  # collected below with the request that caused it
                failures.append(f"{case.method} {case.formatted_path}: {str(exc)[:300]}")

        run_case()
    assert not failures, "\n".join(failures[:20])
