"""The server's settings, read and checked once, the same way by the app and the command line.

In order of precedence: what the caller gives (``create_app(config)``, a
command-line option), then ``LRS_<NAME>`` environment variables, then
``DEFAULTS``. An environment value is read as JSON when it is JSON
(``LRS_MAX_BODY_BYTES=2000000``, ``LRS_CORS_ORIGINS=["https://a.example"]``),
else as text, as Flask's ``from_prefixed_env`` reads it.
"""

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lrs import __version__
from lrs.exceptions import InvalidInput

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


def default_storage_url(data_dir: str, cwd: Path | None = None) -> str:
    """The URL of the SQLite file ``lrs.db`` in ``data_dir``.

    An absolute ``data_dir`` is used as it is. A relative one (``lrs-data``,
    the default) is looked for in the working directory and then in each
    folder above it, as git looks for ``.git``: the first that holds an
    ``lrs.db`` is the LRS's, so a command run from a subfolder of where the
    server runs finds the server's data. Where none is found, it is the one in
    the working directory (``lrs serve`` creates it there).
    """
    folder = Path(data_dir.rstrip("/") or "/")
    if not folder.is_absolute():
        here = (cwd or Path.cwd()).resolve()
        found = next(
            (
                place / folder
                for place in (here, *here.parents)
                if (place / folder / "lrs.db").is_file()
            ),
            here / folder,
        )
        folder = found
    return f"sqlite:///{folder / 'lrs.db'}"


#: The xAPI versions a response may name when its request names none.
_XAPI_VERSIONS = ("1.0.3", "2.0.0")


#: The largest request body with MongoDB storage: 16 MiB (BSON's limit on a
#: document) less 1 MiB for what is kept beside a statement's text.
MONGO_MAX_BODY_BYTES = 15 * 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """Every setting the LRS reads, typed and checked once (``Settings.load``).

    The app (``create_app``) and the command line read the same object, so a
    bad value stops both with the same message. ``values`` keeps every
    setting by name, for Flask's configuration (which holds the API's own
    names besides).
    """

    values: Mapping[str, Any]
    storage_url: str
    history_url: str | None
    account_homepage: str
    max_body_bytes: int
    admin_key: str | None
    admin_secret: str | None
    auth_failure_limit: int
    xapi_default_version: str
    session_gap_seconds: float
    cors_origins: str | tuple[str, ...]
    webhook_url: str | None
    webhook_secret: str | None
    secret_key: str | None
    exports_at_once: int
    export_spool_dir: str | None

    @classmethod
    def load(
        cls, overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
    ) -> "Settings":
        """Read every setting (``load_settings``) and check each.

        Raises:
            InvalidInput: a setting's value is not one it takes; the message names
                the ``LRS_`` variable and what it takes.
        """
        values = load_settings(overrides, environ)
        webhook_url, webhook_secret = _text(values, "WEBHOOK_URL"), _text(values, "WEBHOOK_SECRET")
        if webhook_url and not webhook_secret:
            raise InvalidInput("LRS_WEBHOOK_SECRET must be set with LRS_WEBHOOK_URL")
        version = str(values["XAPI_DEFAULT_VERSION"])
        if version not in _XAPI_VERSIONS:
            raise InvalidInput(
                f"LRS_XAPI_DEFAULT_VERSION must be one of {', '.join(_XAPI_VERSIONS)}, "
                f"not {version!r}"
            )
        max_body = _whole(values, "MAX_BODY_BYTES", "a number of bytes")
        if str(values["STORAGE_URL"]).startswith("mongodb") and max_body > MONGO_MAX_BODY_BYTES:
            # A statement is one document, and so is an attachment's data.
            raise InvalidInput(
                f"LRS_MAX_BODY_BYTES is {max_body}, more than a MongoDB document holds: "
                f"at most {MONGO_MAX_BODY_BYTES} with MongoDB storage (BSON's 16 MiB, less "
                "room for a statement's index terms)"
            )
        return cls(
            values=values,
            storage_url=str(values["STORAGE_URL"]),
            history_url=_text(values, "HISTORY_URL"),
            account_homepage=str(values["ACCOUNT_HOMEPAGE"]),
            max_body_bytes=max_body,
            admin_key=_text(values, "ADMIN_KEY"),
            admin_secret=_text(values, "ADMIN_SECRET"),
            auth_failure_limit=_whole(values, "AUTH_FAILURE_LIMIT", "a number of failures"),
            xapi_default_version=version,
            session_gap_seconds=_seconds(values, "SESSION_GAP_SECONDS"),
            cors_origins=_origins(values["CORS_ORIGINS"]),
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            secret_key=_text(values, "SECRET_KEY"),
            exports_at_once=_whole(values, "EXPORTS_AT_ONCE", "a number of exports"),
            export_spool_dir=_text(values, "EXPORT_SPOOL_DIR"),
        )


def _text(values: Mapping[str, Any], name: str) -> str | None:
    value = values.get(name)
    return None if value in (None, "") else str(value)


def _whole(values: Mapping[str, Any], name: str, what: str) -> int:
    value = values[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"{PREFIX}{name} must be {what} from 1, not {value!r}")
    return value


def _seconds(values: Mapping[str, Any], name: str) -> float:
    value = values[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 10**9:
        raise InvalidInput(f"{PREFIX}{name} must be a number of seconds, not {value!r}")
    return float(value)


def _origins(value: Any) -> str | tuple[str, ...]:
    if value == "*":
        return "*"
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise InvalidInput(f'{PREFIX}CORS_ORIGINS must be "*", an origin or a list of them')
