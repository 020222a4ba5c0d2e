"""The JSON API under /api/v1, documented at /api/v1/openapi.json.

Every endpoint is a flask-smorest view: its marshmallow schemas (``elearn/api/schemas.py`` and
each package's ``api`` module) validate the request, render the answer and are the OpenAPI
document, which flask-smorest builds from them. A request the schemas refuse is one 422 shape
(``schemas.ValidationFailure``) in the user's language; every other refusal is ``schemas.Error``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

from flask import Flask, current_app, g, jsonify, request
from flask_babel import gettext as _
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import ValidationError
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.exceptions import UnprocessableEntity

from elearn import features, uow
from elearn.api import schemas
from elearn.auth import authenticated_by_token, refuse, view_checks_bearer_itself
from elearn.extensions import csrf
from elearn.factory import RowId
from elearn.models._types import INT_MAX
from elearn.service.errors import ServiceError, Unauthenticated
from elearn.web import error_response

F = TypeVar("F", bound=Callable[..., Any])


class Parser(FlaskParser):
    """webargs' parser, except that a body that is not JSON is a 422 like any other refusal
    (webargs: a 400; or, sent as another type, no body at all and every field missing)."""

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req) and req.get_data(cache=True):
            raise json.JSONDecodeError("not JSON", doc=" ", pos=0)
        return super()._raw_load_json(req)

    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, req: Any, schema: Any) -> Any:
        """A multipart form's fields and files together (one schema, one requestBody)."""
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)

    def _handle_invalid_json_error(self, error: Exception, req: Any, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        raise ValidationError("Invalid JSON body.")


class ApiBlueprint(SmorestBlueprint):  # type: ignore[misc]  # flask-smorest has no type hints
    """The blueprint every API module routes with (``elearn.api.register`` documents it)."""

    ARGUMENTS_PARSER = Parser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **SmorestBlueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }


bp = ApiBlueprint("api", __name__, url_prefix="/api/v1", description="accounts, org tree, inbox")

#: the statuses an operation documents besides its success: what each means to a client
REFUSALS = {
    400: "the request cannot be understood (the message says what is wrong)",
    401: "not signed in, or the bearer token is missing, expired or revoked",
    403: "signed in, but the caller may not do this",
    404: "no such object within the caller's reach",
    409: "the object's state does not allow this now (the message says why)",
    413: "the upload is larger than allowed",
    410: "gone: it could be had once, and was (the message says what to do)",
    415: "the file's type is not accepted",
    429: "too many requests: wait the Retry-After seconds",
    503: "a service it needs (the database, the storage) is briefly unavailable: try again",
}


#: endpoints that take credentials in the body: a stale token sent beside them is no reason to
#: refuse the request for a new one
CREDENTIAL_ENDPOINTS = frozenset({"api.issue_token"})


def protect_cookie_sessions() -> None:
    """CSRF for API calls that ride on the session cookie; 401 for a refused bearer token.

    Only a request that a valid bearer token authenticated skips the CSRF check: it carries no
    ambient credentials, so a forged cross-site request gains nothing. A request with any other
    ``Authorization`` header (a wrong, expired or revoked token, another scheme) gets 401, and
    never falls back to the cookie beside it (``elearn.auth`` ignores the cookie then). Pages
    calling the API with their session cookie send the CSRF token (``X-CSRFToken``) like any
    form. Feature APIs call this too.
    """
    if "Authorization" in request.headers:
        if request.endpoint in CREDENTIAL_ENDPOINTS or view_checks_bearer_itself():
            return  # the statement that acts checks the token itself, never the cookie
        if not authenticated_by_token():
            raise Unauthenticated(g.get("auth_error") or _("Send a valid access token."))
        return
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    if current_app.config["SESSION_COOKIE_NAME"] in request.cookies:
        csrf.protect()


bp.before_request(protect_cookie_sessions)


class ElearnApi(Api):  # type: ignore[misc]  # flask-smorest ships no type hints
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


def refuses(*codes: int) -> Callable[[F], F]:
    """Document the refusals (``schemas.Error``) an operation answers besides its success."""

    def decorate(func: F) -> F:
        for code in sorted(codes, reverse=True):
            func = bp.alt_response(code, schema=schemas.Error, description=REFUSALS[code])(func)
        return func

    return decorate


def _unprocessable(error: UnprocessableEntity):  # type: ignore[no-untyped-def]
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


def api_of(app: Flask) -> ElearnApi:
    """The app's Api (one per app: tests build several)."""
    return app.extensions["flask-smorest"]["apis"][""]["ext_obj"]  # type: ignore[no-any-return]


def _refused(error: ServiceError):  # type: ignore[no-untyped-def]
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
    from elearn.api import (  # noqa: F401 - routes register on import
        auth,
        coverage,
        notifications,
        rosters,
        units,
    )

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
    # feature packages' API blueprints come through the feature contract (``Feature.api``)
    app.extensions[features.API_REGISTRAR] = register
    register(app, bp)
