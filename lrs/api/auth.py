"""Who is calling (HTTP Basic credentials), and the access policy for it.

Authentication runs before every request except the public endpoints (health,
the OpenAPI document and its viewer, ``/xAPI/about``). Authorisation is asked
for by the views, which know whose data a request touches, of ``access()``:
the one policy, in ``lrs.credentials.access``.
"""

from flask import Flask, current_app, g, request
from flask.typing import ResponseReturnValue
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, TooManyRequests, Unauthorized

from lrs.credentials.access import Access
from lrs.credentials.base import Credential
from lrs.credentials.throttle import FailureThrottle
from lrs.settings import Settings

PUBLIC_BLUEPRINTS = frozenset({"health", "api-docs", "swagger-ui-assets"})
PUBLIC_ENDPOINTS = frozenset({"xapi.about"})
REALM = 'Basic realm="lrs", charset="UTF-8"'


def current_credential() -> Credential:
    """The credential of the request being served."""
    credential: Credential = g.credential
    return credential


def access() -> Access:
    """What the request's credential may do: the policy views ask (``lrs.credentials.access``)."""
    found: Access | None = getattr(g, "access", None)
    if found is None:
        found = g.access = Access(
            current_credential(),
            current_app.extensions["lrs"].enrollments,
            current_app.extensions["lrs-accounts"],
        )
    return found


def install(app: Flask, api: Api, settings: Settings) -> None:
    """Authenticate every request that is not to a public endpoint.

    Wrong credentials sent again and again get ``429`` with ``Retry-After``
    (``lrs.credentials.throttle``); right ones always get through.
    """
    throttle = FailureThrottle(settings.auth_failure_limit)
    # The dashboard's sign-in counts failures with the same throttle.
    app.extensions["lrs-throttle"] = throttle

    def refuse(status: int, message: str, headers: dict[str, str]) -> ResponseReturnValue:
        error: HTTPException = Unauthorized() if status == 401 else TooManyRequests()
        error.data = {"message": message, "headers": headers}  # type: ignore[attr-defined]
        response: ResponseReturnValue = api.handle_http_exception(error)
        return response

    @app.before_request
    def authenticate() -> ResponseReturnValue | None:
        if (
            # CORS preflights carry no credentials, by the Fetch standard.
            request.method == "OPTIONS"
            or request.blueprint in PUBLIC_BLUEPRINTS
            or request.endpoint in PUBLIC_ENDPOINTS
            or request.endpoint in (None, "static")
            # The dashboard signs people in with a session (lrs.web).
            or request.blueprint == "web"
        ):
            return None
        authorization = request.authorization
        credential = None
        if authorization is not None and authorization.type == "basic":
            store = current_app.extensions["lrs"].credentials
            credential = store.authenticate(
                authorization.username or "", authorization.password or ""
            )
        if credential is None:
            if authorization is not None:  # credentials were sent, and were wrong
                key = authorization.username or "" if authorization.type == "basic" else ""
                wait = throttle.failed(key, request.remote_addr or "")
                if wait:
                    return refuse(
                        429,
                        "too many failed authentications from this address or for this key; "
                        f"retry in {wait} s",
                        {"Retry-After": str(wait)},
                    )
            return refuse(
                401,
                "valid HTTP Basic credentials (key and secret) are required",
                {"WWW-Authenticate": REALM},
            )
        g.credential = credential
        return None
