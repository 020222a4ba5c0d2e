"""Errors a use case raises for the boundary (page, API, task) to turn into a 4xx."""

from __future__ import annotations


class ServiceError(Exception):
    """A refusal with a message the user can act on (already translated)."""

    status = 400

    def __init__(self, message: str, *, status: int | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status


class Unauthenticated(ServiceError):
    """The caller's credentials were refused (an expired or revoked token, say)."""

    status = 401


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403
