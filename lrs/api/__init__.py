"""The HTTP server: ``create_app()`` builds the Flask application."""

import logging
import traceback
from typing import Any

import orjson
from flask import Flask, request
from flask.json.provider import JSONProvider

from lrs import __version__, strict_json
from lrs.storage import Storage, open_storage
from lrs.xapi.agents import AccountAgents

DEFAULTS: dict[str, Any] = {
    "API_TITLE": "lrs",
    "API_VERSION": __version__,
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    # Served by this server (lrs.api.security): nothing loads from another site.
    "OPENAPI_SWAGGER_UI_URL": "/docs/static/",
    # Swagger UI would ask validator.swagger.io about the document.
    "OPENAPI_SWAGGER_UI_CONFIG": {"validatorUrl": None},
    # Where everything is stored (see lrs.clients.connect for the URLs).
    "STORAGE_URL": "memory://",
    # Where the history of learner state is stored (default: beside it).
    "HISTORY_URL": None,
    # The homePage of the xAPI account agents that stand for learners.
    "ACCOUNT_HOMEPAGE": "http://localhost",
    # Requests with a larger body are refused with 413.
    "MAX_BODY_BYTES": 1_000_000,
    # An admin credential with exactly this key and secret exists from start-up.
    "ADMIN_KEY": None,
    "ADMIN_SECRET": None,
    # Failed authentications per key, and per client address, in a minute,
    # before further failures are answered 429.
    "AUTH_FAILURE_LIMIT": 30,
    # The xAPI version a response names when its request names none.
    "XAPI_DEFAULT_VERSION": "2.0.0",
    # Origins whose browser-based content may call /xAPI: "*" or a list.
    "CORS_ORIGINS": "*",
}


class OrjsonProvider(JSONProvider):
    """Flask's JSON through orjson: several times faster, and strict."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialize ``obj`` to JSON text, however deep."""
        return strict_json.dumps(obj, orjson.OPT_NON_STR_KEYS).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON text; integers that would not be kept exactly are refused."""
        return strict_json.loads(s)


class LrsFlask(Flask):
    """Flask, logging unhandled errors by where they happened, not by what they hold."""

    def log_exception(self, exc_info: Any) -> None:
        """Log the error's type, the request's method and path, and the traceback's frames.

        The exception's message is left out: it may quote the data being
        handled (a statement, with e-mail addresses), and logs are not the
        place for learners' data. The query string is left out for the same
        reason (``agent=`` names a learner).
        """
        error_type, _, trace = exc_info
        self.logger.error(
            "unhandled %s on %s %s\n%s",
            getattr(error_type, "__name__", "error"),
            request.method,
            request.path,
            "".join(traceback.format_tb(trace)).rstrip(),
        )


def create_app(config: dict[str, Any] | None = None, *, storage: Storage | None = None) -> Flask:
    """Build the application.

    Configuration comes, in order of precedence, from ``config``, then from
    ``LRS_*`` environment variables (``LRS_STORAGE_URL``, ``LRS_HISTORY_URL``,
    ``LRS_ACCOUNT_HOMEPAGE``, ``LRS_MAX_BODY_BYTES``, ``LRS_ADMIN_KEY``,
    ``LRS_ADMIN_SECRET``, ``LRS_CORS_ORIGINS``), then from ``DEFAULTS``.

    Args:
        config: configuration that wins over the environment (tests use it).
        storage: ready stores; by default they are opened from ``STORAGE_URL``.
    """
    app = LrsFlask(__name__)
    app.json = OrjsonProvider(app)
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("LRS")
    if config:
        app.config.from_mapping(config)
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_BODY_BYTES"])
    if not app.debug and not app.testing:
        app.logger.setLevel(logging.INFO)

    if storage is None:
        storage = open_storage(app.config["STORAGE_URL"], app.config["HISTORY_URL"])
    app.extensions["lrs"] = storage
    # The account agents that stand for this LRS's users in xAPI.
    app.extensions["lrs-accounts"] = AccountAgents(str(app.config["ACCOUNT_HOMEPAGE"]))
    if app.config["ADMIN_KEY"] and app.config["ADMIN_SECRET"]:
        storage.credentials.ensure(
            str(app.config["ADMIN_KEY"]), str(app.config["ADMIN_SECRET"]), name="LRS_ADMIN_KEY"
        )

    from lrs.api import (
        auth,
        credentials,
        enrollments,
        errors,
        health,
        intake,
        security,
        state,
        xapi,
    )

    api = errors.LrsApi(app)
    security.install(app)
    errors.register_error_handlers(app, api)
    auth.install(app, api)
    api.register_blueprint(health.blp)
    api.register_blueprint(state.blp)
    api.register_blueprint(credentials.blp)
    api.register_blueprint(enrollments.blp)
    # The xAPI resources follow the xAPI specification, not this API's
    # OpenAPI conventions: a plain Flask blueprint.
    xapi.install(app)
    # Last, so that it wraps every other layer and its check runs first.
    intake.install(app, int(app.config["MAX_BODY_BYTES"]))
    return app
