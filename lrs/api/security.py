"""The headers every response carries for browsers, in one place; and the API viewer's assets.

The API answers JSON and stored documents, never pages, so browsers are told
to treat every response as inert: no type sniffing (``nosniff``), no framing,
no referrer, and a Content-Security-Policy that allows nothing and sandboxes
whatever is rendered anyway. A stored document whose type a browser would run
(HTML, SVG, XML, JavaScript) is also sent as an attachment, so that a state
document saved as ``text/html`` can never execute in this origin (stored
cross-site scripting). Learners' data is not kept in caches (``no-store``).

The one page is the OpenAPI viewer at ``/docs``: its assets come from the
``swagger-ui-bundle`` package and are served here, because an offline school
server cannot reach a CDN, and a page must not load from another site.
"""

from flask import Blueprint, Flask, Response, g, request
from swagger_ui_bundle import swagger_ui_path

from lrs.patterns import Whole

# Nothing may load, run, or frame: for API responses and stored documents.
API_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"
# The viewer's own scripts and styles, from this server only (its template
# has an inline script and inline styles).
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'"
)
# The dashboard (lrs.web): its stylesheet and forms, from this server only; no
# script at all, and its inline SVG charts need nothing more.
DASHBOARD_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
DOCS_ASSETS = "swagger-ui-assets"
DOCS_ASSETS_URL = "/docs/static"

# Types a browser renders as active content.
_ACTIVE = Whole(
    r"text/html|application/xhtml\+xml|image/svg\+xml|text/xml|application/xml|text/xsl"
    r"|[a-z]+/[a-z0-9.+-]*\+xml|text/javascript|application/javascript|application/x-javascript"
    r"|text/ecmascript|application/ecmascript|application/wasm"
)


def is_active(content_type: str) -> bool:
    """Whether a browser would run content of this type (parameters aside)."""
    return _ACTIVE(content_type.split(";")[0].strip().lower())


_EVERY_RESPONSE = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
)


def protect(response: Response) -> Response:
    """Add the headers that keep a browser from running, framing or caching responses."""
    headers = response.headers
    # ``add``, not assignment: no view sets these, and it skips a search per header.
    for name, value in _EVERY_RESPONSE:
        headers.add(name, value)
    docs = request.blueprint in ("api-docs", DOCS_ASSETS)
    dashboard = request.blueprint == "web"
    policy = DOCS_POLICY if docs else DASHBOARD_POLICY if dashboard else API_POLICY
    headers.add("Content-Security-Policy", policy)
    if not (docs or dashboard) and is_active(response.content_type or ""):
        headers["Content-Disposition"] = "attachment"
    if dashboard or getattr(g, "credential", None) is not None:
        # Whatever needed credentials is someone's data.
        headers.add("Cache-Control", "no-store")
    return response


def install(app: Flask) -> None:
    """Protect every response of ``app``, and serve the API viewer's assets locally."""
    app.register_blueprint(
        Blueprint(
            DOCS_ASSETS,
            __name__,
            static_folder=str(swagger_ui_path),
            static_url_path=DOCS_ASSETS_URL,
        )
    )
    app.after_request(protect)
