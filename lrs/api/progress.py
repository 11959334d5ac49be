"""Progress over HTTP: ``/api/v1/progress/...`` (summaries, sessions, tries, attempts, exams...).

Admin and service credentials read anyone's progress. A learner credential
reads its own; a coach credential the learners actively enrolled in a course
it coaches (``course_key`` required). ``/api/v1/progress/courses/{course_key}/report``
is the course report, for admin, service and the course's coaches. Reads
change nothing; ``POST /api/v1/progress/rebuild`` (admin) derives records again.
"""

from collections.abc import Callable
from typing import Any

import orjson
from flask import current_app
from flask.views import MethodView

from lrs.api.auth import access
from lrs.api.blueprint import Blueprint
from lrs.api.pagination import paginate
from lrs.api.schemas.progress import (
    AttemptSchema,
    CourseReportSchema,
    ExamReportQueryArgsSchema,
    ExamReportSchema,
    ExamSchema,
    ProgressQueryArgsSchema,
    RebuildSchema,
    RebuiltSchema,
    ReportQueryArgsSchema,
    SessionSchema,
    SummarySchema,
    TrySchema,
    UserSessionSchema,
)
from lrs.clock import from_us, to_us
from lrs.exceptions import InvalidInput
from lrs.progress import ContentSummary, ProgressStore
from lrs.progress.derive import ASSESSMENT_TYPE
from lrs.progress.fields import (
    attempt_fields,
    attempt_history_fields,
    overlaps,
    session_fields,
    summary_fields,
    time_or_none,
    try_fields,
)
from lrs.progress.tries import Attempt
from lrs.usecases.names import Names
from lrs.usecases.rebuild import rebuild
from lrs.usecases.reports import report_of_course, report_of_exam
from lrs.xapi.agents import AccountAgents

blp = Blueprint(
    "progress",
    __name__,
    url_prefix="/api/v1/progress",
    description="Progress derived from statements: summaries, sessions, tries, attempts, "
    "exams, user sessions, reports (docs/progress.md).",
)


def _store() -> ProgressStore:
    store: ProgressStore = current_app.extensions["lrs"].progress
    return store


def _accounts() -> AccountAgents:
    accounts: AccountAgents = current_app.extensions["lrs-accounts"]
    return accounts


def _wanted(args: dict[str, Any]) -> tuple[str | None, frozenset[str] | None]:
    """The learner asked for (an agent key, or ``None`` for all) and those the caller may see.

    Raises:
        InvalidInput: both ``username`` and ``agent`` are given.
        PermissionDenied: the caller may not read what it asks for.
    """
    if "username" in args and "agent" in args:
        raise InvalidInput("give username or agent, not both")
    learner = _accounts().key(args["username"]) if "username" in args else args.get("agent")
    return access().progress_scope(learner, by_agent="agent" in args, course=args.get("course_key"))


def _bounds(args: dict[str, Any]) -> tuple[int | None, int | None]:
    """The time range a query asks for, in microseconds (``None``: no bound).

    Raises:
        InvalidInput: ``since`` is after ``until``.
    """
    since = None if args.get("since") is None else to_us(args["since"])
    until = None if args.get("until") is None else to_us(args["until"])
    if since is not None and until is not None and since > until:
        raise InvalidInput("since is after until")
    return since, until


def _listed(
    args: dict[str, Any],
    read: Callable[..., list[Any]],
    fields: Callable[[Any], dict[str, Any]],
) -> Any:
    """One page of what ``read`` finds for the query, each record as ``fields`` shows it."""
    learner, visible = _wanted(args)
    since, until = _bounds(args)
    found = read(learner=learner, content=args.get("activity"), course=args.get("course_key"))
    items = [
        {
            "username": _accounts().username(record.learner),
            "agent": record.learner,
            "activity": record.content,
            **fields(record),
        }
        for record in found
        if (visible is None or record.learner in visible) and overlaps(record, since, until)
    ]
    return paginate(items, args["page"], args["page_size"])


@blp.route("/summaries")
class Summaries(MethodView):
    """Content summaries."""

    @blp.arguments(ProgressQueryArgsSchema(), location="query")
    @blp.response(200, SummarySchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """List summaries by learner, then content, filtered, a page at a time."""
        return _listed(args, _store().summaries, summary_fields)


@blp.route("/sessions")
class Sessions(MethodView):
    """Content sessions."""

    @blp.arguments(ProgressQueryArgsSchema(), location="query")
    @blp.response(200, SessionSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """List sessions by learner, content, then start, filtered, a page at a time."""
        return _listed(args, _store().sessions, session_fields)


@blp.route("/tries")
class Tries(MethodView):
    """Tries (Kolibri's mastery logs)."""

    @blp.arguments(ProgressQueryArgsSchema(), location="query")
    @blp.response(200, TrySchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """List tries by learner, content, then start, filtered, a page at a time."""
        return _listed(args, _store().tries, try_fields)


@blp.route("/attempts")
class Attempts(MethodView):
    """Attempts: questions answered in tries, with their history."""

    @blp.arguments(ProgressQueryArgsSchema(), location="query")
    @blp.response(200, AttemptSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """List attempts by learner, content, try, then first answer, a page at a time."""
        return _listed(args, _store().attempts, attempt_history_fields)


@blp.route("/exams")
class Exams(MethodView):
    """Exams: the summaries of assessments, with their attempts."""

    @blp.arguments(ProgressQueryArgsSchema(), location="query")
    @blp.response(200, ExamSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """List exams (contents of type assessment) by learner, then content, a page at a time.

        ``first`` is when the exam was started, ``closed`` when it was closed,
        ``completed`` when it was completed, ``score`` its latest score;
        ``attempts`` the questions answered in it, in every try.
        """
        attempts: dict[tuple[str, str], list[Attempt]] = {}

        def read(learner: str | None, content: str | None, course: str | None) -> Any:
            # The attempts of exams only: tries of other contents are not derived.
            for attempt in _store().attempts(
                learner=learner, content=content, course=course, kind=ASSESSMENT_TYPE
            ):
                attempts.setdefault((attempt.learner, attempt.content), []).append(attempt)
            return _store().exams(learner=learner, content=content, course=course)

        def fields(exam: ContentSummary) -> dict[str, Any]:
            found = attempts.get((exam.learner, exam.content), [])
            return {
                **summary_fields(exam),
                "attempts": [attempt_fields(attempt) for attempt in found],
            }

        return _listed(args, read, fields)


@blp.route("/exams/report")
class ExamReport(MethodView):
    """The exam report."""

    @blp.arguments(ExamReportQueryArgsSchema(), location="query")
    @blp.response(200, ExamReportSchema())
    def get(self, args: dict[str, Any]) -> Any:
        """An exam over the learners the caller may see: its questions, worst answered first.

        Each question's share of correct answers is the average correctness
        of the latest answers in every attempt at it (one per learner per
        try).
        """
        learner, visible = _wanted(args)
        report = report_of_exam(
            _store(),
            args["activity"],
            learner=learner,
            course=args.get("course_key"),
            visible=visible,
        )
        return {
            "activity": report.exam,
            "learners": report.learners,
            "closed": report.closed,
            "average_score": report.average_score,
            "questions": [
                {
                    "item": question.item,
                    "attempts": question.attempts,
                    "graded": question.graded,
                    "correct": question.correct,
                    "wrong": [
                        {
                            "username": _accounts().username(wrong.learner),
                            "agent": wrong.learner,
                            "readable": wrong.readable,
                            "correct": wrong.correct,
                        }
                        for wrong in question.wrong
                    ],
                }
                for question in report.questions
            ],
            "needs_help": [
                {"username": _accounts().username(learner), "agent": learner}
                for learner in sorted(report.needs_help)
            ],
        }


@blp.route("/user-sessions")
class UserSessions(MethodView):
    """User sessions."""

    @blp.arguments(ProgressQueryArgsSchema(), location="query")
    @blp.response(200, UserSessionSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """List user sessions by learner, then start, filtered, a page at a time.

        With ``activity``, the sessions that touched it; with ``course_key``,
        those that touched the course.
        """
        learner, visible = _wanted(args)
        since, until = _bounds(args)
        course = args.get("course_key")
        # A coach sees the course's part of each session, nothing of the others.
        within = None if visible is None or course is None else frozenset({course})
        found = _store().user_sessions(learner=learner, course=course, within=within)
        items = [
            {
                "username": _accounts().username(session.learner),
                "agent": session.learner,
                "start": from_us(session.start_us),
                "end": from_us(session.end_us),
                "activities": list(session.activities),
                "course_keys": list(session.courses),
                "platforms": list(session.platforms),
            }
            for session in found
            if (visible is None or session.learner in visible)
            and overlaps(session, since, until)
            and ("activity" not in args or args["activity"] in session.activities)
        ]
        return paginate(items, args["page"], args["page_size"])


@blp.route("/courses/<path:course_key>/report")
class Report(MethodView):
    """The course report."""

    @blp.arguments(ReportQueryArgsSchema(), location="query")
    @blp.response(200, CourseReportSchema())
    def get(self, args: dict[str, Any], course_key: str) -> Any:
        """Learners x activities of a course, with totals per activity; learners a page at a time.

        Rows: the course's actively enrolled learners, with or without
        progress, and (for admin and service) anyone else with progress in it.
        """
        granted = access()
        granted.require_course(course_key)
        report = report_of_course(
            _store(),
            current_app.extensions["lrs"].enrollments,
            _accounts(),
            course_key,
            visible=granted.course_learners(course_key),
        )
        rows, headers = paginate(report.learners, args["page"], args["page_size"])
        stores = current_app.extensions["lrs"]
        names = Names(stores.activities, stores.enrollments, _accounts()).read(
            [course_key, *(totals.activity for totals in report.activities)]
        )
        body = {
            "course_key": course_key,
            "name": names.course(course_key),
            "activities": [
                {
                    "activity": totals.activity,
                    "name": names.activity(totals.activity),
                    "kind": totals.kind,
                    "started": totals.started,
                    "completed": totals.completed,
                    "average_progress": totals.average_progress,
                    "average_time_spent": totals.average_time_spent_us / 1_000_000,
                }
                for totals in report.activities
            ],
            "learners": [
                {
                    "username": _accounts().username(row.learner),
                    "full_name": names.learner(row.learner),
                    "agent": row.learner,
                    "completed": row.completed,
                    "time_spent": row.time_spent_us / 1_000_000,
                    "cells": [
                        {
                            "activity": activity,
                            "progress": summary.progress,
                            "time_spent": summary.time_spent_us / 1_000_000,
                            "completed": time_or_none(summary.completion_us),
                            "score": summary.score,
                            "passed": summary.success,
                        }
                        for activity, summary in row.cells.items()
                    ],
                }
                for row in rows
            ],
        }
        # Written by orjson, not by the schema (which documents it): the cells
        # of a large course are a hundred thousand small objects.
        return current_app.response_class(
            orjson.dumps(body), mimetype="application/json", headers=headers
        )


@blp.route("/rebuild")
class Rebuild(MethodView):
    """Derive progress records again from the statements (admin)."""

    @blp.arguments(RebuildSchema())
    @blp.response(200, RebuiltSchema())
    def post(self, args: dict[str, Any]) -> Any:
        """Derive every record again, or one learner's, or one course's; say what was read.

        The same as ``lrs progress rebuild``. It runs before the answer; on
        a large store, prefer the command, while the server takes no
        statements (statements stored meanwhile may be missing from the
        records until the next rebuild).
        """
        access().require_admin()
        named = [name for name in ("username", "agent", "course_key") if name in args]
        if len(named) > 1:
            raise InvalidInput(f"give at most one of username, agent and course_key, not {named}")
        learner = _accounts().key(args["username"]) if "username" in args else args.get("agent")
        storage = current_app.extensions["lrs"]
        read = 0

        def counted() -> None:
            nonlocal read
            read += 1

        keys = rebuild(
            storage.progress,
            storage.statements,
            counted,
            learner=learner,
            course=args.get("course_key"),
        )
        return {"statements": read, "keys": keys}
