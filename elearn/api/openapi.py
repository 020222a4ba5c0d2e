"""Operations of the API modules not yet moved to schemas, read from their docstrings' YAML.

A bridge while the packages move to flask-smorest one by one: each moved package drops out of
here, and this module goes with the last one.
"""

from __future__ import annotations

import re
from typing import Any

from apispec.yaml_utils import load_operations_from_docstring
from flask import Flask

#: feature packages not yet on schemas add their schemas here at init time
EXTRA_COMPONENTS: dict[str, dict] = {}


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def merge_legacy(app: Flask, document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with the docstring-documented operations and their components added."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in EXTRA_COMPONENTS.items():
        schemas.setdefault(name, schema)
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if not rule.rule.startswith("/api/v1/") or hasattr(view, "_apidoc"):
            continue
        operations = load_operations_from_docstring(view.__doc__ or "")
        methods = {m.lower() for m in (rule.methods or set())} - {"head", "options"}
        path = document["paths"].setdefault(_openapi_path(rule.rule), {})
        for method in methods:
            operation = operations.get(method) or {"responses": {"200": {"description": "OK"}}}
            operation.setdefault("summary", (view.__doc__ or rule.endpoint).strip().splitlines()[0])
            operation.setdefault("operationId", f"{rule.endpoint}.{method}")
            path.setdefault(method, operation)
    return document
