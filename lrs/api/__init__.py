"""The HTTP server: ``create_app()`` builds the Flask application."""

import logging
import traceback
from collections.abc import Callable
from typing import Any

import orjson
from flask import Flask, request
from flask.json.provider import JSONProvider
from werkzeug.routing import Rule

from lrs import strict_json, web
from lrs.settings import Settings
from lrs.usecases.services import Services, open_services
from lrs.usecases.storage import Storage


class OrjsonProvider(JSONProvider):
    """Flask's JSON through orjson: several times faster, and strict."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialize ``obj`` to JSON text, however deep."""
        return strict_json.dumps(obj, orjson.OPT_NON_STR_KEYS).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON text; integers that would not be kept exactly are refused."""
        return strict_json.loads(s)


class LrsFlask(Flask):
    """Flask, logging unhandled errors by where they happened, not by what they hold.

    Also: Flask asks, for each of the dozen request hooks of each request,
    whether the hook is a coroutine (``inspect``, about 1 µs each); a hook does
    not change, so the answer is remembered per hook.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Create the app (as ``Flask``)."""
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """The hook as Flask would wrap it, worked out once per hook."""
        try:
            return self._sync[func]
        except KeyError:
            wrapped = self._sync[func] = super().ensure_sync(func)
            return wrapped
        except TypeError:  # an unhashable callable: ask each time
            return super().ensure_sync(func)

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

    Settings come from ``lrs.settings.Settings.load``: ``config``, then the
    ``LRS_*`` environment variables, then the defaults; the command line reads
    them the same way.

    Args:
        config: configuration that wins over the environment (tests use it).
        storage: ready stores; by default they are opened from ``STORAGE_URL``.
    """
    app = LrsFlask(__name__)
    app.json = OrjsonProvider(app)
    settings = Settings.load(config)
    app.config.from_mapping(settings.values)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    if not app.debug and not app.testing:
        app.logger.setLevel(logging.INFO)

    services = open_services(settings, storage)
    app.extensions["lrs-settings"] = settings
    app.extensions["lrs-services"] = services
    app.extensions["lrs"] = services.storage
    # The account agents that stand for this LRS's users in xAPI.
    app.extensions["lrs-accounts"] = services.accounts
    # Assignments follow statements, enrollments and users (lrs.usecases.assignments).
    app.extensions["lrs-assignments"] = services.assignments
    if settings.admin_key and settings.admin_secret:
        services.storage.credentials.ensure(
            settings.admin_key, settings.admin_secret, name="LRS_ADMIN_KEY"
        )
    _install(app, services)
    return app


def _install(app: Flask, services: Services) -> None:
    """Every layer of the application: error handling, authentication, the blueprints."""
    from lrs.api import (
        assignments,
        auth,
        credentials,
        enrollments,
        erasure,
        errors,
        exports,
        forwarding,
        health,
        intake,
        progress,
        security,
        state,
        xapi,
    )
    from lrs.api.xapi.openapi import xapi_paths

    settings = services.settings
    # /docs signs in with a credential (HTTP Basic) and lists /xAPI beside /api/v1.
    app.config["API_SPEC_OPTIONS"] = {"security": [{"basic": []}]}
    api = errors.LrsApi(app)
    api.spec.components.security_scheme(
        "basic",
        {"type": "http", "scheme": "basic", "description": "A credential's key and secret."},
    )
    for path, operations in xapi_paths().items():
        # flask-smorest's plugin takes the path from a routing rule.
        api.spec.path(rule=Rule(path), operations=operations)
    security.install(app)
    errors.register_error_handlers(app, api)
    auth.install(app, api, settings)
    for module in (
        health,
        state,
        credentials,
        enrollments,
        progress,
        erasure,
        exports,
        forwarding,
    ):
        api.register_blueprint(module.blp)
    exports.install(app, settings)
    api.register_blueprint(assignments.blp)
    # The dashboard's pages (lrs.web).
    web.install(app, services.storage)
    # The xAPI resources follow the xAPI specification, not this API's
    # OpenAPI conventions: a plain Flask blueprint.
    xapi.install(app, settings)
    # Last, so that it wraps every other layer and its check runs first.
    intake.install(app, settings.max_body_bytes)
