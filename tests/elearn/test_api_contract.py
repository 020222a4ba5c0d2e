"""Every operation of the served OpenAPI document, fuzzed by schemathesis from the document
itself, as a teacher and as a student: no server error, no answer outside its schema, data the
schema refuses is refused, and every other check schemathesis has.

Bounded: ``MAX_EXAMPLES`` examples an operation, valid and invalid ones, so the run stays
within a few minutes. Whatever the examples create lives in the test's transaction and is
rolled back with it (tests/conftest.py).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.modes import GenerationMode

MAX_EXAMPLES = 12


def _config(token: str) -> SchemathesisConfig:
    """The caller's bearer token, and what positive data may be refused with.

    Schema-valid data may still be refused for what no schema can say: a rule across fields or
    rows (400: the window closes before it opens, the category has too few questions), a
    role's upload limit (413), a file type the service does not take (415). A 422 is only ever
    the schema's (or a service's naming a field the schema could not check): valid data must
    never get one."""
    return SchemathesisConfig.from_dict(
        {
            "auth": {"openapi": {"bearer": {"bearer": token}}},
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": [
                        "2xx",
                        "3xx",
                        "400",
                        "401",
                        "403",
                        "404",
                        "409",
                        "413",
                        "415",
                    ]  # fmt: skip
                }
            },
        }
    )


def _token(client, username: str) -> str:
    response = client.post(
        "/api/v1/auth/token", json={"username": username, "password": "demo1234"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["token"]


def _first_lines(error: BaseException) -> str:
    text = str(error)
    return "\n".join(line for line in text.splitlines() if line.strip())[:800]


@pytest.mark.parametrize("username", ["teacher1", "student1"])
def test_every_operation_keeps_its_contract(app, client, username, monkeypatch):
    # redeeming a guardian invite is limited to 10 tries an hour, fewer than this test sends
    # (tests/parents/test_family.py tests the limit)
    monkeypatch.setitem(app.config, "FAMILY_REDEEM_LIMIT", "1000 per hour")
    config = _config(_token(client, username))
    api_schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)
    failures: dict[str, str] = {}
    sent: dict[int, int] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 50
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            def run(case) -> None:
                response = case.call_and_validate()
                sent[response.status_code] = sent.get(response.status_code, 0) + 1

            try:
                run()
            except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - reported below
                failures[f"{operation.label} ({mode.value})"] = _first_lines(error)
    print(f"{username}: {len(operations)} operations, {sum(sent.values())} requests, {sent}")
    assert not failures, "\n\n".join(f"{name}:\n{text}" for name, text in failures.items())
