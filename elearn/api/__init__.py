"""The JSON API under /api/v1, documented at /api/v1/openapi.json.

Every endpoint is a flask-smorest view: its marshmallow schemas (``elearn/api/schemas.py`` and
each package's ``api`` module) validate the request, render the answer and are the OpenAPI
document, which flask-smorest builds from them. A request the schemas refuse is one 422 shape
(``schemas.ValidationFailure``) in the user's language; every other refusal is ``schemas.Error``.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Flask, jsonify, request
from flask_smorest import Api
from werkzeug.exceptions import UnprocessableEntity

from elearn import features, uow

# the carrier's endpoints register on ``bp`` when imported
from elearn.api import auth, coverage, notifications, rosters, schemas, units  # noqa: F401
from elearn.api.base import (
    CREDENTIAL_ENDPOINTS,
    REFUSALS,
    ApiBlueprint,
    Parser,
    bp,
    protect_cookie_sessions,
    refuses,
)
from elearn.auth import refuse
from elearn.converters import BigRowId, RowId
from elearn.extensions import csrf
from elearn.models._types import BIGINT_MAX, INT_MAX
from elearn.service.errors import ServiceError, Unauthenticated
from elearn.web import error_response

__all__ = [
    "CREDENTIAL_ENDPOINTS",
    "REFUSALS",
    "ApiBlueprint",
    "Parser",
    "api_of",
    "bp",
    "init_app",
    "protect_cookie_sessions",
    "refuses",
    "register",
]


class ElearnApi(Api):
    """flask-smorest's Api with the carrier's error bodies: ``elearn.web`` answers every HTTP
    error as ``{"error", "message"}``; only the schemas' 422 is ours to shape here."""

    ERROR_SCHEMA = schemas.Error

    def _register_error_handlers(self) -> None:
        self._app.register_error_handler(UnprocessableEntity, _unprocessable)

    def _register_responses(self) -> None:
        # every operation with a body or parameters refers to this 422: the one validation shape
        self.spec.components.response(
            HTTPStatus.UNPROCESSABLE_ENTITY.name,
            {
                "description": "the request does not fit the schema; messages by field",
                "content": {"application/json": {"schema": schemas.ValidationFailure}},
            },
        )
        self.spec.components.response(
            "DEFAULT_ERROR",
            {
                "description": "a refusal, with a message in the user's language",
                "content": {"application/json": {"schema": schemas.Error}},
            },
            lazy=True,
        )


def _unprocessable(error: UnprocessableEntity):
    uow.rollback()
    data: dict[str, Any] = getattr(error, "data", None) or {}
    if "messages" not in data:
        return error_response(422, getattr(error, "elearn_message", None) or error.description)
    body = schemas.validation_body(data["messages"])
    if request.path.startswith("/api/"):
        return jsonify(body), 422
    return error_response(422, body["message"])


def _component_name(schema: Any) -> str:
    """A schema's name in the document: its class's, without "Out" (``CourseOut`` is the
    ``Course`` clients have always known; the model class keeps the plain name in Python)."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__
    return name[: -len("Out")] if name.endswith("Out") and len(name) > 3 else name


def _row_id_schema(converter: Any) -> dict[str, Any]:
    return {"type": "integer", "minimum": 1, "maximum": INT_MAX}


def _big_row_id_schema(converter: Any) -> dict[str, Any]:
    return {"type": "integer", "format": "int64", "minimum": 1, "maximum": BIGINT_MAX}


def api_of(app: Flask) -> ElearnApi:
    """The app's Api (one per app: tests build several)."""
    return app.extensions["flask-smorest"]["apis"][""]["ext_obj"]


def _refused(error: ServiceError):
    """A service's refusal in the API: a 422 in the one validation shape (with the field the
    service named), anything else as ``elearn.web`` answers it."""
    uow.rollback()
    if isinstance(error, Unauthenticated):
        return refuse(error.message)
    if error.status == 422:
        body = schemas.validation_body({error.field or "_schema": [error.message]})
        return jsonify({**body, "message": error.message}), 422
    return error_response(error.status, error.message)


def register(app: Flask, blueprint: ApiBlueprint) -> None:
    """Register a feature's API blueprint: its routes, and its schemas in the document (with
    each app made: the blueprint itself is set up once, at its first app)."""
    if not blueprint._got_registered_once:
        blueprint.register_error_handler(ServiceError, _refused)
    csrf.exempt(blueprint)
    api_of(app).register_blueprint(blueprint)


def init_app(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "elearn API")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {
                "description": "Drug-prevention education platform (146 model). Send "
                "`Authorization: Bearer <token>` with a token from POST /api/v1/auth/token."
            },
            "security": [{"bearer": []}],
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        },
    )
    api = ElearnApi(
        app,
        spec_kwargs={"marshmallow_plugin": schemas.Plugin(schema_name_resolver=_component_name)},
    )
    api.register_converter(RowId, _row_id_schema)
    api.register_converter(BigRowId, _big_row_id_schema)
    # feature packages' API blueprints come through the feature contract (``Feature.api``)
    app.extensions[features.API_REGISTRAR] = register
    register(app, bp)
