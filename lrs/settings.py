"""The server's settings, read the same way by the app and the command line.

In order of precedence: what the caller gives (``create_app(config)``, a
command-line option), then ``LRS_<NAME>`` environment variables, then
``DEFAULTS``. An environment value is read as JSON when it is JSON
(``LRS_MAX_BODY_BYTES=2000000``, ``LRS_CORS_ORIGINS=["https://a.example"]``),
else as text, as Flask's ``from_prefixed_env`` reads it.
"""

import json
import os
from collections.abc import Mapping
from typing import Any

from lrs import __version__

PREFIX = "LRS_"

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
    # Where everything is stored (see lrs.clients.connect for the URLs); when
    # not set, a SQLite file in DATA_DIR.
    "STORAGE_URL": None,
    # The folder of the default SQLite file (lrs.db), created when needed.
    "DATA_DIR": "lrs-data",
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
    # A learner's statements further apart than this (seconds) are in two
    # sessions (lrs.progress); records derived with another need a rebuild.
    "SESSION_GAP_SECONDS": 300,
    # Origins whose browser-based content may call /xAPI: "*" or a list.
    "CORS_ORIGINS": "*",
    # Where assignment events are posted (lrs.usecases.webhook), and the
    # secret their HMAC-SHA-256 signature is made with (required with a URL).
    "WEBHOOK_URL": None,
    "WEBHOOK_SECRET": None,
    # The key that signs dashboard sessions; when not set, one is made once
    # and kept by the storage.
    "SECRET_KEY": None,
    # Exports written at once by each worker process (GET /api/v1/exports);
    # more are answered 503 with Retry-After. Each is written to a file in
    # EXPORT_SPOOL_DIR (default: the system's temporary folder) and sent from
    # there, so a slow reader holds no application thread.
    "EXPORTS_AT_ONCE": 2,
    "EXPORT_SPOOL_DIR": None,
}


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Every setting: ``DEFAULTS``, then ``LRS_*`` environment variables, then ``overrides``.

    Args:
        overrides: settings that win over the environment.
        environ: the environment (default: this process's).
    """
    settings = dict(DEFAULTS)
    for name, text in sorted((environ if environ is not None else os.environ).items()):
        if name.startswith(PREFIX):
            try:
                settings[name[len(PREFIX) :]] = json.loads(text)
            except ValueError:
                settings[name[len(PREFIX) :]] = text
    settings.update(overrides or {})
    if not settings["STORAGE_URL"]:
        settings["STORAGE_URL"] = default_storage_url(str(settings["DATA_DIR"]))
    return settings


def default_storage_url(data_dir: str) -> str:
    """The URL of the SQLite file ``lrs.db`` in ``data_dir`` (relative or absolute)."""
    folder = data_dir.rstrip("/")
    return f"sqlite:///{folder}/lrs.db" if folder else "sqlite:////lrs.db"
