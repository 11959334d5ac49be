"""Users and enrollments over HTTP: ``/api/v1/users`` and ``/api/v1/enrollments``.

Admin and service credentials manage both. A learner credential reads its own
user, enrollments and their history; a coach credential reads the
enrollments of the courses it coaches. Every write names the acting
credential and may give a ``reason``; both go into the change history.
"""

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from flask import current_app
from flask.views import MethodView

from lrs.api.auth import access, current_credential
from lrs.api.blueprint import Blueprint
from lrs.api.pagination import paginate
from lrs.api.rows import request_body, request_rows
from lrs.api.schemas.enrollments import (
    BulkQueryArgsSchema,
    BulkResultSchema,
    ChangeSchema,
    CountsSchema,
    CourseQueryArgsSchema,
    EnrollmentChangeSchema,
    EnrollmentHistoryQueryArgsSchema,
    EnrollmentListQueryArgsSchema,
    EnrollmentQueryArgsSchema,
    EnrollmentSchema,
    EnrollResultSchema,
    EnrollSchema,
    PageQueryArgsSchema,
    UnenrollQueryArgsSchema,
    UserCreateSchema,
    UserFieldsSchema,
    UserListQueryArgsSchema,
    UserSchema,
)
from lrs.enrollments.base import Change, CourseRole, EnrollmentStore, Outcome, as_dict
from lrs.enrollments.bulk import COLUMNS, bulk_enroll
from lrs.exceptions import DoesNotExist
from lrs.usecases import people
from lrs.usecases.assignments import Assignments
from lrs.usecases.storage import Storage

blp = Blueprint(
    "enrollments",
    __name__,
    url_prefix="/api/v1",
    description="Users and their course enrollments, with the history of every change.",
)


def _store() -> EnrollmentStore:
    store: EnrollmentStore = current_app.extensions["lrs"].enrollments
    return store


def _storage() -> Storage:
    found: Storage = current_app.extensions["lrs"]
    return found


def _assignments() -> Assignments:
    """Assignments follow users (their e-mail addresses) and enrollments."""
    found: Assignments = current_app.extensions["lrs-assignments"]
    return found


def _actor() -> str:
    return current_credential().key


def _as_seen(changes: Iterable[Change]) -> Iterator[Change]:
    """Changes as the caller may see them.

    Admin and service credentials see which credential acted (its key); others
    see only its role, since a key is an identifier they have no use for
    (``cli`` for changes made from the command line).
    """
    if access().sees_credential_keys:
        yield from changes
        return
    credentials = current_app.extensions["lrs"].credentials
    roles: dict[str, str] = {}
    for change in changes:
        if change.actor not in roles:
            try:
                roles[change.actor] = credentials.get(change.actor).role.value
            except DoesNotExist:
                roles[change.actor] = "cli" if change.actor.startswith("cli:") else "unknown"
        yield replace(change, actor=roles[change.actor])


@blp.route("/users")
class Users(MethodView):
    """All users."""

    @blp.arguments(UserListQueryArgsSchema(), location="query")
    @blp.response(200, UserSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """List users by username, a page at a time, optionally only active or staff ones."""
        access().require_manager()
        users = _store().list_users(is_active=args.get("is_active"), is_staff=args.get("is_staff"))
        return paginate(users, args["page"], args["page_size"])

    @blp.arguments(UserCreateSchema(), location="json")
    @blp.no_query_args()
    @blp.response(201, UserSchema())
    @blp.alt_response(409, description="The username is taken")
    def post(self, body: dict[str, Any]) -> Any:
        """Create a user."""
        access().require_manager()
        username, reason = body.pop("username"), body.pop("reason")
        return people.create_user(
            _storage(), _assignments(), username, body, actor=_actor(), reason=reason
        )


@blp.route("/users/<string:username>")
class UserItem(MethodView):
    """One user."""

    @blp.no_query_args()
    @blp.response(200, UserSchema())
    @blp.alt_response(404, description="No such user")
    def get(self, username: str) -> Any:
        """Read a user (a learner credential: its own)."""
        access().require_enrollment_reader(username, None)
        return _store().get_user(username)

    @blp.arguments(UserFieldsSchema(), location="json")
    @blp.no_query_args()
    @blp.response(200, UserSchema())
    @blp.alt_response(404, description="No such user")
    def patch(self, body: dict[str, Any], username: str) -> Any:
        """Change some fields of a user (``profile`` is replaced whole)."""
        access().require_manager()
        reason = body.pop("reason")
        user = _store().update_user(username, body, actor=_actor(), reason=reason)
        if "email" in body:
            _assignments().link_user(user.username, user.email, actor=_actor())
        return user


@blp.route("/users/<string:username>/history")
class UserHistory(MethodView):
    """The changes of one user."""

    @blp.arguments(PageQueryArgsSchema(), location="query")
    @blp.response(200, ChangeSchema(many=True))
    def get(self, args: dict[str, Any], username: str) -> Any:
        """Read the changes of a user, newest first, a page at a time."""
        access().require_enrollment_reader(username, None)
        _store().get_user(username)  # 404 for an unknown user
        return paginate(_as_seen(_store().history(username)), args["page"], args["page_size"])


@blp.route("/enrollments")
class Enrollments(MethodView):
    """Enrollments."""

    @blp.arguments(EnrollmentListQueryArgsSchema(), location="query")
    @blp.response(200, EnrollmentSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """List enrollments by course, then username, filtered, a page at a time."""
        access().require_enrollment_reader(args.get("username"), args.get("course_key"))
        found = _store().list_enrollments(
            username=args.get("username"),
            course_key=args.get("course_key"),
            is_active=args.get("is_active"),
            role=None if args.get("role") is None else CourseRole(args["role"]),
            mode=args.get("mode"),
        )
        return paginate(found, args["page"], args["page_size"])

    @blp.arguments(EnrollSchema(), location="json")
    @blp.no_query_args()
    @blp.response(200, EnrollResultSchema())
    @blp.alt_response(201, schema=EnrollResultSchema(), description="A new enrollment")
    @blp.alt_response(404, description="No such user")
    def post(self, body: dict[str, Any]) -> Any:
        """Enroll a user, idempotently.

        A new enrollment is ``201``; enrolling an active one changes nothing
        and an inactive one is reactivated (``200``; ``outcome`` says which).
        """
        access().require_manager()
        enrollment, outcome = people.enroll(
            _storage(),
            _assignments(),
            body["username"],
            body["course_key"],
            mode=body.get("mode"),
            role=body.get("role"),
            actor=_actor(),
            reason=body["reason"],
        )
        result = {**as_dict(enrollment), "outcome": outcome.value}
        return result, 201 if outcome == Outcome.created else 200


@blp.route("/enrollment")
class EnrollmentItem(MethodView):
    """One enrollment, named by ``username`` and ``course_key``."""

    @blp.arguments(EnrollmentQueryArgsSchema(), location="query")
    @blp.response(200, EnrollmentSchema())
    @blp.alt_response(404, description="Never enrolled")
    def get(self, args: dict[str, Any]) -> Any:
        """Read an enrollment, active or not."""
        access().require_enrollment_reader(args["username"], args["course_key"])
        return _store().get_enrollment(args["username"], args["course_key"])

    @blp.arguments(EnrollmentChangeSchema(), location="json")
    @blp.arguments(EnrollmentQueryArgsSchema(), location="query")
    @blp.response(200, EnrollmentSchema())
    @blp.alt_response(404, description="Never enrolled")
    def patch(self, body: dict[str, Any], args: dict[str, Any]) -> Any:
        """Change an enrollment's mode, role or activity."""
        access().require_manager()
        enrollment = _store().update_enrollment(
            args["username"],
            args["course_key"],
            mode=body.get("mode"),
            role=None if body.get("role") is None else CourseRole(body["role"]),
            is_active=body.get("is_active"),
            actor=_actor(),
            reason=body["reason"],
        )
        if enrollment.is_active:
            _assignments().on_enrolled(enrollment.username, enrollment.course_key)
        return enrollment

    @blp.arguments(UnenrollQueryArgsSchema(), location="query")
    @blp.response(200, EnrollmentSchema())
    @blp.alt_response(404, description="Never enrolled")
    def delete(self, args: dict[str, Any]) -> Any:
        """Unenroll: the enrollment stays, inactive (nothing is deleted)."""
        access().require_manager()
        return _store().update_enrollment(
            args["username"],
            args["course_key"],
            is_active=False,
            actor=_actor(),
            reason=args["reason"],
        )


@blp.route("/enrollment/history")
class EnrollmentHistory(MethodView):
    """The changes of one enrollment."""

    @blp.arguments(EnrollmentHistoryQueryArgsSchema(), location="query")
    @blp.response(200, ChangeSchema(many=True))
    @blp.alt_response(404, description="Never enrolled")
    def get(self, args: dict[str, Any]) -> Any:
        """Read the changes of an enrollment, newest first, a page at a time."""
        access().require_enrollment_reader(args["username"], args["course_key"])
        _store().get_enrollment(args["username"], args["course_key"])  # 404
        changes = _store().history(args["username"], args["course_key"])
        return paginate(_as_seen(changes), args["page"], args["page_size"])


@blp.route("/enrollments/counts")
class Counts(MethodView):
    """How many enrollments a course has."""

    @blp.arguments(CourseQueryArgsSchema(), location="query")
    @blp.response(200, CountsSchema())
    def get(self, args: dict[str, Any]) -> Any:
        """Count a course's enrollments: active, inactive, and active ones by mode and role."""
        access().require_enrollment_reader(None, args["course_key"])
        return {"course_key": args["course_key"], **_store().course_counts(args["course_key"])}


@blp.route("/enrollments/bulk")
class Bulk(MethodView):
    """Many enrollments at once."""

    @blp.arguments(BulkQueryArgsSchema(), location="query")
    @blp.response(200, BulkResultSchema())
    @blp.doc(requestBody=request_body({"username": "ada", "course_key": "course-v1:Org+C+R"}))
    def post(self, args: dict[str, Any]) -> Any:
        """Enroll many: a JSON array of rows, a CSV file, or a form upload (``file``).

        Rows name ``username`` and ``course_key`` and may give ``mode`` and
        ``role``; a CSV file has a header line naming its columns. Each row
        gets its result (``created``, ``reactivated``, ``unchanged``, or
        ``error`` with the reason); a bad row never stops the others. With
        ``dry_run=true`` nothing is written.
        """
        access().require_manager()
        rows = request_rows(COLUMNS)
        results = bulk_enroll(
            _store(),
            rows,
            actor=_actor(),
            reason=args["reason"],
            dry_run=args["dry_run"],
        )
        for result in results:
            if not args["dry_run"] and result.result in ("created", "reactivated"):
                _assignments().on_enrolled(result.username, result.course_key)
        return {
            "dry_run": args["dry_run"],
            "summary": dict(Counter(result.result for result in results)),
            "results": results,
        }
