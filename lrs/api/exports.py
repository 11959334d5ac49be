"""Exports over HTTP: ``GET /api/v1/exports/{kind}`` streams a download; ``/requests`` lists them.

Admin credentials export every kind; a coach credential the progress
records (summaries, sessions, attempts, exams) of a course it coaches,
limited to the learners actively enrolled in it. Every export is recorded
(``lrs.exports.run``); the rules of kinds and formats are ``lrs.exports``'.
"""

from dataclasses import asdict
from typing import Any

from flask import Response, current_app, stream_with_context
from flask.views import MethodView

from lrs.api.auth import access, current_credential
from lrs.api.blueprint import Blueprint
from lrs.api.schemas.exports import (
    ExportQueryArgsSchema,
    ExportRequestSchema,
    ExportRequestsQueryArgsSchema,
)
from lrs.credentials.base import Role
from lrs.exceptions import PermissionDenied
from lrs.exports.formats import MEDIA_TYPES
from lrs.exports.kinds import KINDS, Filters, kind_named, moment_us
from lrs.exports.run import start_export
from lrs.xapi.agents import AccountAgents

blp = Blueprint(
    "exports",
    __name__,
    url_prefix="/api/v1/exports",
    description="Records written out as NDJSON or CSV, streamed, and the record of every "
    "export (docs/transfer.md).",
)


@blp.route("/requests")
class ExportRequests(MethodView):
    """The record of every export."""

    @blp.arguments(ExportRequestsQueryArgsSchema(), location="query")
    @blp.response(200, ExportRequestSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """List exports, newest first (admin): who, when, what, the filters, the rows written."""
        access().require_admin()
        found = current_app.extensions["lrs"].exports.list(limit=args["limit"])
        return [asdict(request) for request in found]


@blp.route("/<string:kind>")
class Exports(MethodView):
    """One kind of record, exported."""

    @blp.arguments(ExportQueryArgsSchema(), location="query")
    @blp.response(200, description=f"The records, streamed. Kinds: {', '.join(KINDS)}.")
    def get(self, args: dict[str, Any], kind: str) -> Any:
        """Stream every record of a kind as NDJSON or CSV, as a download named for what and when.

        Admin credentials export any kind; service credentials the progress
        records; coach credentials the progress records of a course they
        coach (give ``course_key``).
        """
        found = kind_named(kind)
        accounts: AccountAgents = current_app.extensions["lrs-accounts"]
        course = args.get("course_key")
        learners = _coached_learners(found.progress, course)
        filters = Filters(
            None if "since" not in args else moment_us(args["since"], "since"),
            None if "until" not in args else moment_us(args["until"], "until"),
            course,
            learners,
        )
        export = start_export(
            current_app.extensions["lrs"],
            accounts,
            found.name,
            args["format"],
            filters,
            credential=current_credential().key,
            bom=args["bom"],
        )
        response = Response(
            stream_with_context(export.chunks), mimetype=MEDIA_TYPES[args["format"]]
        )
        response.headers["Content-Disposition"] = f'attachment; filename="{export.file_name}"'
        response.headers["X-Export-Id"] = export.request.id
        return response


def _coached_learners(progress: bool, course: str | None) -> frozenset[str] | None:
    """The learners (agent keys) an export is limited to; ``None`` for every learner.

    Progress records follow the access policy's course scope (as the
    progress API does); the other kinds are admin credentials' only.
    """
    granted = access()
    if granted.role == Role.admin:
        return None
    if progress:
        return granted.course_learners(course)
    raise PermissionDenied(
        "only admin credentials export this; coach credentials export the progress records "
        "(summaries, sessions, attempts, exams) of the courses they coach"
    )
