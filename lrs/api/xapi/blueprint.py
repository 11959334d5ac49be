"""The blueprint of ``/xAPI``: the version negotiated per request, and what every route shares.

Every request but ``/xAPI/about`` names its version in ``X-Experience-API-Version``:
``1.0.x`` is answered under the 1.0.3 rules, ``2.0.x`` under 2.0.0, anything
else (or nothing) with 400. Every response names the version it was answered
under, and one whose request named none names ``LRS_XAPI_DEFAULT_VERSION``
(XAPI-NOTES.md; xAPI-Communication.md section 3.3).
"""

from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from flask_cors import CORS

from lrs.api.errors import refuse
from lrs.api.xapi.alternate import ALTERNATE, ERROR, AlternateSyntax
from lrs.patterns import Whole
from lrs.settings import Settings
from lrs.xapi.agents import AccountAgents
from lrs.xapi.validation import Version

blp = Blueprint("xapi", __name__, url_prefix="/xAPI")

_V1 = Whole(r"1\.0(\.[0-9]+)?")
_V2 = Whole(r"2\.0(\.[0-9]+)?")


def accounts() -> AccountAgents:
    """The account agents of this LRS's users (``LRS_ACCOUNT_HOMEPAGE``)."""
    found: AccountAgents = current_app.extensions["lrs-accounts"]
    return found


def version() -> Version:
    """The xAPI version of the request being served."""
    negotiated: Version = g.xapi_version
    return negotiated


def _requested_version() -> Version | None:
    header = request.headers.get("X-Experience-API-Version", "").strip()
    if _V1(header):
        return Version.V1_0_3
    if _V2(header):
        return Version.V2_0_0
    return None


def _default_version() -> Version:
    """The version a response names when its request names none (``LRS_XAPI_DEFAULT_VERSION``)."""
    default: Version = current_app.extensions["lrs-xapi-default-version"]
    return default


@blp.before_request
def negotiate_version() -> None:
    """Read ``X-Experience-API-Version``; refuse a missing or unsupported one."""
    requested = _requested_version()
    g.xapi_version = requested or _default_version()
    if request.environ.get(ALTERNATE):
        if ERROR in request.environ:
            refuse(400, request.environ[ERROR])
        if requested == Version.V2_0_0:
            refuse(400, "xAPI 2.0.0 does not allow the alternate request syntax (method=)")
    if request.endpoint == "xapi.about" or request.method == "OPTIONS" or requested is not None:
        return
    header = request.headers.get("X-Experience-API-Version", "").strip()
    refuse(
        400,
        "X-Experience-API-Version must be 1.0.x or 2.0.x"
        + (f", not {header!r}" if header else " (the header is missing)"),
    )


def name_the_version(response: Response) -> Response:
    """Answer with the version the request was served under.

    Every response under /xAPI, those of no resource (404, 405) included. A
    request refused before negotiation (no credentials) still gets the version
    it asked for.
    """
    if not request.path.startswith(blp.url_prefix or "/xAPI"):
        return response
    negotiated = getattr(g, "xapi_version", None) or _requested_version() or _default_version()
    response.headers["X-Experience-API-Version"] = str(negotiated)
    return response


def install(app: Flask, settings: Settings) -> None:
    """Serve /xAPI: the blueprint, the alternate request syntax, and CORS."""
    # Which version a response names when the request names none cannot be
    # known from the request (the conformance suites of 1.0.3 and 2.0.0 differ
    # on it alone), so it is a setting.
    app.extensions["lrs-xapi-default-version"] = Version(settings.xapi_default_version)
    app.register_blueprint(blp)
    app.after_request(name_the_version)
    app.wsgi_app = AlternateSyntax(app.wsgi_app, settings.max_body_bytes)  # type: ignore[method-assign]
    origins = settings.cors_origins
    allow_browsers(app, origins if isinstance(origins, str) else list(origins))


def allow_browsers(app: Flask, origins: Any) -> None:
    """Answer CORS preflights and mark /xAPI responses for the allowed origins.

    Browser-based content (SCORM-to-xAPI wrappers, cmi5 players) calls the LRS
    from the content's own origin.
    """
    CORS(
        app,
        resources={r"/xAPI/*": {"origins": origins}},
        allow_headers=[
            "Authorization",
            "Content-Type",
            "X-Experience-API-Version",
            "If-Match",
            "If-None-Match",
        ],
        expose_headers=[
            "X-Experience-API-Version",
            "X-Experience-API-Consistent-Through",
            "ETag",
            "Last-Modified",
        ],
        methods=["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"],
        max_age=3600,
        # A request without an Origin header does not come from a browser's
        # cross-origin fetch (which always sends one): CORS headers are of no
        # use to it, and working them out cost a tenth of a small request.
        always_send=False,
    )
