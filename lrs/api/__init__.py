"""The HTTP server: ``create_app()`` builds the Flask application."""

import json
import logging
from typing import Any

import orjson
from flask import Flask
from flask.json.provider import JSONProvider

from lrs import __version__
from lrs.storage import Storage, open_storage

DEFAULTS: dict[str, Any] = {
    "API_TITLE": "lrs",
    "API_VERSION": __version__,
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "OPENAPI_SWAGGER_UI_URL": "https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
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
    # Origins whose browser-based content may call /xAPI: "*" or a list.
    "CORS_ORIGINS": "*",
}


class OrjsonProvider(JSONProvider):
    """Flask's JSON through orjson: several times faster, and strict."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialize ``obj`` to JSON text."""
        try:
            return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()
        except orjson.JSONEncodeError:
            # orjson stops at 254 levels; a stored value near that depth,
            # wrapped in a response, may pass it. The standard library goes on.
            return json.dumps(obj, ensure_ascii=False)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON text."""
        return orjson.loads(s)


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
    app = Flask(__name__)
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
    if app.config["ADMIN_KEY"] and app.config["ADMIN_SECRET"]:
        storage.credentials.ensure(
            str(app.config["ADMIN_KEY"]), str(app.config["ADMIN_SECRET"]), name="LRS_ADMIN_KEY"
        )

    from lrs.api import auth, credentials, enrollments, errors, health, state, xapi

    api = errors.LrsApi(app)
    errors.register_error_handlers(app, api)
    auth.install(app, api)
    api.register_blueprint(health.blp)
    api.register_blueprint(state.blp)
    api.register_blueprint(credentials.blp)
    api.register_blueprint(enrollments.blp)
    # The xAPI resources follow the xAPI specification, not this API's
    # OpenAPI conventions: a plain Flask blueprint.
    xapi.install(app)
    return app
