"""Store errors as HTTP errors, in one place, all in flask-smorest's JSON shape.

Every error body is ``{"code", "status", "message", "errors"?}``. Handlers
*return* the response built by ``Api.handle_http_exception``: raising or
calling ``abort()`` inside an error handler would give the client a 500.
"""

from typing import Any, NoReturn

from flask import Flask
from flask_smorest import Api, abort
from werkzeug.exceptions import (
    BadRequest,
    Forbidden,
    HTTPException,
    InternalServerError,
    NotFound,
)
from werkzeug.exceptions import (
    Conflict as HTTPConflict,
)
from werkzeug.exceptions import (
    PreconditionFailed as HTTPPreconditionFailed,
)
from werkzeug.exceptions import (
    ServiceUnavailable as HTTPServiceUnavailable,
)

from lrs.exceptions import (
    Busy,
    Conflict,
    DoesNotExist,
    InvalidInput,
    PermissionDenied,
    PreconditionFailed,
    ServiceUnavailable,
    UserStateError,
)

RETRY_AFTER_SECONDS = 5

_LOCATIONS = {"query": "query parameter", "json": "body field", "headers": "header"}


def _describe(errors: Any, path: str = "") -> list[str]:
    """Flatten marshmallow's nested error messages into 'where: what' lines."""
    if isinstance(errors, dict):
        lines = []
        for name, value in errors.items():
            lines.extend(_describe(value, f"{path}.{name}" if path else str(name)))
        return lines
    if isinstance(errors, list) and all(isinstance(item, str) for item in errors):
        location, _, field = path.partition(".")
        where = _LOCATIONS.get(location, location)
        if field in ("", "_schema"):
            return (
                [f"request body: {' '.join(errors)}"] if location == "json" else [" ".join(errors)]
            )
        return [f"{where} {field!r}: {' '.join(errors)}"]
    return [f"{path}: {errors}"]


class LrsApi(Api):
    """flask-smorest's Api, whose error bodies always carry a ``message``."""

    def handle_http_exception(self, error: HTTPException) -> Any:
        """Build the JSON error body; name the invalid parameters in ``message``."""
        payload, status, headers = super().handle_http_exception(error)
        if "message" not in payload:
            described = _describe(payload.get("errors") or {})
            payload["message"] = "; ".join(described) if described else error.description
        return payload, status, headers


def refuse(status: int, message: str) -> NoReturn:
    """End the request with an error ``status`` and ``message`` (not in an error handler)."""
    abort(status, message=message)
    raise AssertionError("abort() raises")  # for type checkers: flask-smorest is untyped


def _respond(
    api: Api, error: HTTPException, message: str, headers: dict[str, str] | None = None
) -> Any:
    error.data = {"message": message}  # type: ignore[attr-defined]
    if headers:
        error.data["headers"] = headers  # type: ignore[attr-defined]
    return api.handle_http_exception(error)


def register_error_handlers(app: Flask, api: Api) -> None:
    """Map the store's exceptions to 400, 404, 403, 409, 412, 503 (with ``Retry-After``) and 500."""

    @app.errorhandler(InvalidInput)
    def bad_request(exc: InvalidInput) -> Any:
        # The one place where input a store refuses becomes a 400.
        return _respond(api, BadRequest(), str(exc))

    @app.errorhandler(DoesNotExist)
    def not_found(exc: DoesNotExist) -> Any:
        return _respond(api, NotFound(), str(exc) or "not found")

    @app.errorhandler(PermissionDenied)
    def forbidden(exc: PermissionDenied) -> Any:
        return _respond(api, Forbidden(), str(exc) or "these credentials may not do this")

    @app.errorhandler(Conflict)
    def conflict(exc: Conflict) -> Any:
        return _respond(api, HTTPConflict(), str(exc))

    @app.errorhandler(PreconditionFailed)
    def precondition_failed(exc: PreconditionFailed) -> Any:
        return _respond(api, HTTPPreconditionFailed(), str(exc))

    @app.errorhandler(ServiceUnavailable)
    def unavailable(exc: ServiceUnavailable) -> Any:
        if isinstance(exc, Busy):
            message = str(exc)
        else:
            app.logger.warning("store unavailable: %s", exc)
            message = "the store is unavailable; nothing was written; retry later"
        return _respond(
            api, HTTPServiceUnavailable(), message, {"Retry-After": str(RETRY_AFTER_SECONDS)}
        )

    @app.errorhandler(UserStateError)
    def store_error(exc: UserStateError) -> Any:
        app.logger.error("store error: %s", exc)
        return _respond(api, InternalServerError(), "the store refused the operation")
