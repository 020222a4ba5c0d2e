"""The API's toolkit, which the carrier's endpoints (``elearn.api.*``) and every package's ``api``
module build on: the blueprint class with its body parser, the carrier's blueprint ``bp``, the
CSRF / bearer-token guard and the documented refusals. ``elearn.api`` re-exports it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, request
from flask_babel import gettext as _
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import ValidationError
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import CombinedMultiDict

from elearn.api import schemas
from elearn.auth import authenticated_by_token, view_checks_bearer_itself
from elearn.extensions import csrf
from elearn.service.errors import Unauthenticated

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

    def _handle_invalid_json_error(self, error: Exception, req: Any, *args: Any, **kwargs: Any):
        raise ValidationError("Invalid JSON body.")


class ApiBlueprint(SmorestBlueprint):
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


def refuses(*codes: int) -> Callable[[F], F]:
    """Document the refusals (``schemas.Error``) an operation answers besides its success."""

    def decorate(func: F) -> F:
        for code in sorted(codes, reverse=True):
            func = bp.alt_response(code, schema=schemas.Error, description=REFUSALS[code])(func)
        return func

    return decorate
