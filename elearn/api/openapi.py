"""The OpenAPI 3 document, built from the API views' docstrings."""

from __future__ import annotations

from apispec import APISpec
from apispec.yaml_utils import load_operations_from_docstring
from flask import Flask, current_app, jsonify

from elearn.api import bp

COMPONENTS = {
    "Unit": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "type": {
                "type": "string",
                "enum": ["prefecture", "county", "school", "grade", "class"],
            },
            "parent_id": {"type": "integer", "nullable": True},
            "code": {"type": "string", "nullable": True},
            "school_kind": {"type": "string", "nullable": True},
            "is_rural": {"type": "boolean", "nullable": True},
            "grade_level": {"type": "integer", "nullable": True},
        },
    },
    "Metric": {
        "type": "object",
        "properties": {
            "numerator": {"type": "integer"},
            "denominator": {"type": "integer"},
            "rate": {"type": "number"},
            "target": {"type": "number"},
        },
    },
    "Notification": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string"},
            "title": {"type": "string"},
            "body": {"type": "string"},
            "link": {"type": "string", "nullable": True},
            "created_at": {"type": "string", "format": "date-time"},
            "read": {"type": "boolean"},
        },
    },
    "Error": {
        "type": "object",
        "properties": {"error": {"type": "integer"}, "message": {"type": "string"}},
    },
}

#: feature packages add their schemas here at init time
EXTRA_COMPONENTS: dict[str, dict] = {}


def _openapi_path(rule: str) -> str:
    import re

    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def build_spec(app: Flask) -> dict:
    spec = APISpec(
        title="elearn API",
        version="1",
        openapi_version="3.0.3",
        info={
            "description": "Drug-prevention education platform (146 model). Bearer tokens from /auth/token."
        },
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for name, schema in {**COMPONENTS, **EXTRA_COMPONENTS}.items():
        spec.components.schema(name, schema)
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        view = app.view_functions[rule.endpoint]
        operations = load_operations_from_docstring(view.__doc__ or "")
        methods = {m.lower() for m in (rule.methods or set())} - {"head", "options"}
        operations = {k: v for k, v in operations.items() if k in methods}
        for method in methods - set(operations):
            operations[method] = {
                "summary": (view.__doc__ or "").strip().splitlines()[0]
                if view.__doc__
                else rule.endpoint,
                "responses": {"200": {"description": "OK"}},
            }
        for method, operation in operations.items():
            operation.setdefault(
                "summary", (view.__doc__ or "").strip().splitlines()[0] if view.__doc__ else ""
            )
            operation.setdefault("operationId", f"{rule.endpoint}.{method}")
        spec.path(path=_openapi_path(rule.rule), operations=operations)
    document = spec.to_dict()
    document["security"] = [{"bearer": []}]
    return document


@bp.route("/openapi.json")
def openapi_document():
    """This document."""
    return jsonify(build_spec(current_app))


def init_app(app: Flask) -> None:
    """Nothing to bind; kept so every API module has the same shape."""
