"""The served OpenAPI document: valid, generated from the schemas, and honest about refusals."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

METHODS = {"get", "post", "put", "patch", "delete"}


def _document(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _operations(document: dict):
    """(path, method, operation), the operation's parameters with its path's."""
    for path, operations in document["paths"].items():
        shared = operations.get("parameters", [])
        for method, operation in operations.items():
            if method in METHODS:
                parameters = shared + operation.get("parameters", [])
                yield path, method, {**operation, "parameters": parameters}


def test_the_served_document_is_valid_openapi(client):
    """Strict clients and generators read it (the YAML in docstrings made it invalid)."""
    validate(_document(client))


def test_every_operation_names_its_path_parameters(client):
    for path, method, operation in _operations(_document(client)):
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path)), f"{method} {path}"


def test_every_operation_documents_the_refusals_it_answers(client):
    document = _document(client)
    refusal = {"$ref": "#/components/schemas/Error"}
    for path, method, operation in _operations(document):
        responses = operation["responses"]
        where = f"{method.upper()} {path}"
        if path != "/api/v1/auth/token":
            assert operation.get("security", document["security"]) == [{"bearer": []}], where
            assert responses["401"]["content"]["application/json"]["schema"] == refusal, where
        if "{" in path:
            assert "404" in responses, where
        if operation.get("requestBody") or any(
            p["in"] == "query" for p in operation.get("parameters", [])
        ):
            assert "422" in responses, where
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_constraints_the_server_enforces_are_declared(client):
    schemas = _document(client)["components"]["schemas"]
    unit_id = schemas["QuizCreate"]["properties"]["unit_id"]
    assert (unit_id["minimum"], unit_id["maximum"]) == (1, 2**31 - 1)
    assert schemas["QuizCreate"]["properties"]["items"]["minItems"] == 1
    assert schemas["MarkRead"]["properties"]["ids"]["maxItems"] == 1000
    assert schemas["CourseCreate"]["properties"]["title"]["maxLength"] == 200
    assert "teacher" in schemas["CourseCreate"]["properties"]["audience"]["enum"]
    assert schemas["QuizCreate"]["additionalProperties"] is False


def test_a_validation_error_is_one_shape_in_the_users_language(signed_in):
    client = signed_in("teacher1")
    client.set_cookie("lang", "zh_Hans_CN")
    response = client.get("/api/v1/coverage?unit=2147483648")
    body = response.get_json()
    assert response.status_code == 422
    assert body == {
        "error": 422,
        "message": "unit：请填写 1 到 2147483647 之间的数。",
        "errors": {"unit": ["请填写 1 到 2147483647 之间的数。"]},
    }
    client.set_cookie("lang", "en")
    english = client.get("/api/v1/coverage?unit=abc").get_json()
    assert english["errors"] == {"unit": ["Give a whole number."]}


def test_text_with_a_nul_character_is_refused_not_a_server_error(client):
    """PostgreSQL cannot store NUL: a username carrying one reached the database (500)."""
    response = client.post("/api/v1/auth/token", json={"username": "a\x00b", "password": "x"})
    assert response.status_code == 422 and "username" in response.get_json()["errors"]
