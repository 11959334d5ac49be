"""Who is calling (HTTP Basic credentials) and what they may do (roles).

Authentication runs before every request except the public endpoints (health,
the OpenAPI document and its viewer, ``/xAPI/about``). Authorisation is asked for by the views,
which know whose data a request touches.
"""

from collections.abc import Iterable

from flask import Flask, current_app, g, request
from flask.typing import ResponseReturnValue
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, TooManyRequests, Unauthorized

from lrs.clients.base import block_location
from lrs.credentials.base import Credential, Role
from lrs.credentials.throttle import FailureThrottle
from lrs.exceptions import PermissionDenied

PUBLIC_BLUEPRINTS = frozenset({"health", "api-docs", "swagger-ui-assets"})
PUBLIC_ENDPOINTS = frozenset({"xapi.about"})
REALM = 'Basic realm="lrs", charset="UTF-8"'


def current_credential() -> Credential:
    """The credential of the request being served."""
    credential: Credential = g.credential
    return credential


def coached_courses(username: str | None) -> frozenset[str]:
    """Courses in which ``username`` is actively enrolled as coach or staff."""
    if username is None:
        return frozenset()
    courses: frozenset[str] = current_app.extensions["lrs"].enrollments.coached_courses(username)
    return courses


def coached_learners(username: str | None) -> frozenset[str]:
    """The learners actively enrolled in the courses ``username`` coaches."""
    store = current_app.extensions["lrs"].enrollments
    return frozenset(
        enrollment.username
        for course in coached_courses(username)
        for enrollment in store.list_enrollments(course_key=course, is_active=True)
    )


def _learner_courses(username: str) -> frozenset[str]:
    store = current_app.extensions["lrs"].enrollments
    return frozenset(
        enrollment.course_key
        for enrollment in store.list_enrollments(username=username, is_active=True)
    )


def require_admin() -> None:
    """Refuse the request unless an admin credential made it."""
    if current_credential().role != Role.admin:
        raise PermissionDenied("only admin credentials may do this")


def require_user_access(username: str, blocks: Iterable[str] = (), *, write: bool) -> None:
    """Refuse the request unless its credential may read (or write) ``username``'s data.

    Args:
        username: whose data the request touches.
        blocks: the blocks it touches (a coach may read only blocks of coached courses).
        write: whether the request changes data.
    """
    credential = current_credential()
    if credential.role in (Role.admin, Role.service):
        return
    if credential.role == Role.learner:
        if username == credential.username:
            return
        raise PermissionDenied(
            f"a learner credential may touch only its own data ({credential.username!r})"
        )
    wanted = list(blocks)
    if not write and wanted:
        # Blocks of courses the coach coaches and the learner is enrolled in.
        courses = coached_courses(credential.username) & _learner_courses(username)
        if all(block_location(block)[0] in courses for block in wanted):
            return
    raise PermissionDenied(
        "a coach credential may read only the blocks of learners enrolled in courses it coaches"
    )


def require_course_access(course: str | None) -> None:
    """Refuse the request unless its credential may read every learner's data in ``course``."""
    credential = current_credential()
    if credential.role in (Role.admin, Role.service):
        return
    if credential.role == Role.coach and course in coached_courses(credential.username):
        return
    raise PermissionDenied("only admin, service or the course's coach credentials may do this")


def install(app: Flask, api: Api) -> None:
    """Authenticate every request that is not to a public endpoint.

    Wrong credentials sent again and again get ``429`` with ``Retry-After``
    (``lrs.credentials.throttle``); right ones always get through.
    """
    throttle = FailureThrottle(int(app.config["AUTH_FAILURE_LIMIT"]))

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
