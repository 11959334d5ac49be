"""Assignments over HTTP: ``/api/v1/assignments`` (docs/assignments.md).

Admin and service credentials manage every assignment; a coach credential
those of the courses it coaches (an assignment's ``course_key``); a learner
credential reads and acknowledges its own. Reversing a completed assignment
is for admin and service credentials. The rules are ``lrs.assignments``'.
"""

from collections import Counter
from dataclasses import asdict
from typing import Any

from flask import current_app
from flask.views import MethodView

from lrs.api.auth import access, current_credential
from lrs.api.blueprint import Blueprint
from lrs.api.pagination import paginate
from lrs.api.rows import request_body, request_rows
from lrs.api.schemas.assignments import (
    ActionSchema,
    AssignmentChangeSchema,
    AssignmentCountsQueryArgsSchema,
    AssignmentCountsSchema,
    AssignmentCreateSchema,
    AssignmentListQueryArgsSchema,
    AssignmentSchema,
    BulkAssignQueryArgsSchema,
    BulkAssignResultSchema,
    ReasonSchema,
)
from lrs.assignments.base import Assignment, Filters, listed_states
from lrs.exceptions import PermissionDenied
from lrs.usecases.assignments import ROW_FIELDS, Assignments

blp = Blueprint(
    "assignments",
    __name__,
    url_prefix="/api/v1/assignments",
    description="Content assigned to learners, with a lifecycle, an action log and history "
    "(docs/assignments.md).",
)


def _assignments() -> Assignments:
    found: Assignments = current_app.extensions["lrs-assignments"]
    return found


def _actor() -> str:
    return current_credential().key


def _require_reader(assignment: Assignment) -> None:
    """Refuse unless the caller may read ``assignment``: its manager, or its learner."""
    access().require_assignment_reader(assignment.username, assignment.course_key)


def _readable(assignment_id: str) -> Assignment:
    found = _assignments().get(assignment_id)
    _require_reader(found)
    return found


@blp.route("")
class AssignmentList(MethodView):
    """Assignments."""

    @blp.arguments(AssignmentListQueryArgsSchema(), location="query")
    @blp.response(200, AssignmentSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """List assignments, oldest first, filtered, a page at a time.

        A learner credential lists its own; a coach credential those of a
        course it coaches (``course_key``).
        """
        username = access().assignment_list_scope(args.get("username"), args.get("course_key"))
        filters = Filters(
            course_key=args.get("course_key"),
            content=args.get("content"),
            username=username,
            email=args.get("email"),
            states=listed_states(args.get("state"), bool(args.get("overdue"))),
        )
        found = [asdict(item) for item in _assignments().find(filters)]
        return paginate(found, args["page"], args["page_size"])

    @blp.arguments(AssignmentCreateSchema(), location="json")
    @blp.no_query_args()
    @blp.response(201, AssignmentSchema())
    @blp.alt_response(409, description="The learner has an active assignment of the content")
    def post(self, body: dict[str, Any]) -> Any:
        """Assign content to a learner (by username, or by e-mail address)."""
        course_key = body.get("course_key")
        if course_key is None and body["content"].startswith("course-v1:"):
            course_key = body["content"]
        access().require_course(course_key)
        return asdict(_assignments().assign(**body, actor=_actor()))


@blp.route("/bulk")
class BulkAssign(MethodView):
    """Many assignments at once."""

    @blp.arguments(BulkAssignQueryArgsSchema(), location="query")
    @blp.response(200, BulkAssignResultSchema())
    @blp.doc(requestBody=request_body({"content": "course-v1:Org+C+R", "email": "a@b.org"}))
    def post(self, args: dict[str, Any]) -> Any:
        """Assign many: a JSON array of rows, a CSV file, or a form upload (``file``).

        Rows name ``content`` and ``username`` or ``email``, and may give
        ``course_key``, ``due`` and ``note``. Each row gets its outcome
        (``created``, or ``error`` with the reason); a bad row never stops
        the others. With ``dry_run=true`` nothing is written. A coach
        credential assigns in the courses it coaches: each row names one.
        """
        granted = access()
        granted.require_assigner()
        rows = request_rows(ROW_FIELDS)
        if not granted.reaches_every_learner:
            for row in rows:
                fields = row if isinstance(row, dict) else {}
                course, content = fields.get("course_key"), fields.get("content")
                if not course and isinstance(content, str) and content.startswith("course-v1:"):
                    course = content
                access().require_course(course if isinstance(course, str) else None)
        outcomes = _assignments().assign_many(rows, actor=_actor(), dry_run=args["dry_run"])
        return {
            "dry_run": args["dry_run"],
            "summary": dict(Counter(outcome.result for outcome in outcomes)),
            "results": [asdict(outcome) for outcome in outcomes],
        }


@blp.route("/counts")
class Counts(MethodView):
    """Counts by state."""

    @blp.arguments(AssignmentCountsQueryArgsSchema(), location="query")
    @blp.response(200, AssignmentCountsSchema())
    def get(self, args: dict[str, Any]) -> Any:
        """How many assignments of a course are in each state (those past due expired first)."""
        access().require_course(args["course_key"])
        _assignments().expire(filters=Filters(course_key=args["course_key"]))
        return {
            "course_key": args["course_key"],
            "counts": _assignments().store.counts(args["course_key"]),
        }


@blp.route("/<string:assignment_id>")
class AssignmentItem(MethodView):
    """One assignment."""

    @blp.no_query_args()
    @blp.response(200, AssignmentSchema())
    @blp.alt_response(404, description="No such assignment")
    def get(self, assignment_id: str) -> Any:
        """Read an assignment (brought up to date first: expiry, progress)."""
        return asdict(_readable(assignment_id))


def _moving(assignment_id: str) -> Assignment:
    found = _assignments().store.get(assignment_id)
    access().require_course(found.course_key)
    return found


@blp.route("/<string:assignment_id>/cancel")
class Cancel(MethodView):
    """Cancel."""

    @blp.arguments(ReasonSchema(), location="json")
    @blp.no_query_args()
    @blp.response(200, AssignmentSchema())
    @blp.alt_response(409, description="Not allocated, accepted or errored")
    def post(self, body: dict[str, Any], assignment_id: str) -> Any:
        """Cancel an allocated, accepted or errored assignment."""
        _moving(assignment_id)
        return asdict(_assignments().cancel(assignment_id, actor=_actor(), reason=body["reason"]))


@blp.route("/<string:assignment_id>/retry")
class Retry(MethodView):
    """Retry."""

    @blp.no_query_args()
    @blp.response(200, AssignmentSchema())
    @blp.alt_response(409, description="Not errored")
    def post(self, assignment_id: str) -> Any:
        """Try an errored assignment again (allocated; linked if its address has a user now)."""
        _moving(assignment_id)
        return asdict(_assignments().retry(assignment_id, actor=_actor()))


@blp.route("/<string:assignment_id>/reverse")
class Reverse(MethodView):
    """Reverse."""

    @blp.arguments(ReasonSchema(), location="json")
    @blp.no_query_args()
    @blp.response(200, AssignmentSchema())
    @blp.alt_response(409, description="Not completed")
    def post(self, body: dict[str, Any], assignment_id: str) -> Any:
        """Undo a completed assignment, with a reason (admin and service credentials)."""
        _assignments().store.get(assignment_id)  # 404 first
        if not access().reaches_every_learner:
            raise PermissionDenied("only admin and service credentials reverse assignments")
        return asdict(_assignments().reverse(assignment_id, actor=_actor(), reason=body["reason"]))


@blp.route("/<string:assignment_id>/acknowledge")
class Acknowledge(MethodView):
    """Acknowledge."""

    @blp.no_query_args()
    @blp.response(200, AssignmentSchema())
    def post(self, assignment_id: str) -> Any:
        """Record that the learner has seen the assignment (its learner, or a manager)."""
        _readable(assignment_id)
        return asdict(_assignments().acknowledge(assignment_id, actor=_actor()))


@blp.route("/<string:assignment_id>/actions")
class Actions(MethodView):
    """The action log."""

    @blp.no_query_args()
    @blp.response(200, ActionSchema(many=True))
    def get(self, assignment_id: str) -> Any:
        """Everything that happened to an assignment, oldest first, failures too."""
        _readable(assignment_id)
        return [asdict(action) for action in _assignments().store.actions(assignment_id)]


@blp.route("/<string:assignment_id>/history")
class History(MethodView):
    """The change history."""

    @blp.no_query_args()
    @blp.response(200, AssignmentChangeSchema(many=True))
    def get(self, assignment_id: str) -> Any:
        """Every change of an assignment's values, oldest first, with before and after."""
        _readable(assignment_id)
        return [asdict(change) for change in _assignments().store.history(assignment_id)]
