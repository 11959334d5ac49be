"""A coach's pages: the courses, a course's report, its questions, its chart, its assignments."""

import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from lrs.assignments.base import Filters, State
from lrs.clock import from_us, to_us
from lrs.exceptions import InvalidInput
from lrs.progress.derive import ContentSummary
from lrs.usecases.names import Names
from lrs.usecases.reports import (
    CourseReport,
    enrolled_learners,
    report_of_course,
    report_of_exam,
)
from lrs.web import words
from lrs.web.chart import Bar, bar_chart
from lrs.web.views import (
    access,
    accounts,
    actor,
    assignments,
    blp,
    integer,
    names,
    now,
    storage,
    visible_courses,
)
from lrs.xapi.statements.base import DAY_US

#: Learners a page of the course report shows.
LEARNERS_PER_PAGE = 50
#: Days the course activity chart covers.
CHART_DAYS = 30


@blp.route("/courses")
def courses() -> ResponseReturnValue:
    """The courses the person coaches (admins: all), with enrollments and recent activity."""
    rows = []
    for course in visible_courses():
        counts = storage().enrollments.course_counts(course)
        summaries = storage().progress.summaries(course=course)
        last = max((summary.last_us for summary in summaries), default=None)
        rows.append(
            {
                "course": course,
                "name": names().course(course),
                "active": counts["active"],
                "learners": counts["by_role"].get("learner", 0),
                "last": None if last is None else words.ago(from_us(last), now()),
            }
        )
    return render_template("courses.html", rows=rows)


@blp.route("/courses/<path:course>/report")
def course(course: str) -> ResponseReturnValue:
    """The course report: learners x activities, a page of learners at a time."""
    access().require_course(course)
    report = _report(course)
    named = names().read([course, *(totals.activity for totals in report.activities)])
    rows = report.learners
    wanted = request.args.get("q", "").strip().lower()
    if wanted:
        rows = [row for row in rows if wanted in _searched(row.learner, named)]
    order = request.args.get("sort", "name")
    if order == "completed":
        rows = sorted(rows, key=lambda row: (-row.completed, named.learner(row.learner)))
    elif order == "time":
        rows = sorted(rows, key=lambda row: (-row.time_spent_us, named.learner(row.learner)))
    else:
        order = "name"
        rows = sorted(rows, key=lambda row: named.learner(row.learner).casefold())
    pages = max(1, math.ceil(len(rows) / LEARNERS_PER_PAGE))
    page = min(max(1, integer("page", 1)), pages)
    shown = rows[(page - 1) * LEARNERS_PER_PAGE : page * LEARNERS_PER_PAGE]
    return render_template(
        "course.html",
        course=course,
        course_name=named.course(course),
        report=report,
        rows=shown,
        count=len(rows),
        page=page,
        pages=pages,
        order=order,
        q=request.args.get("q", ""),
        names=named,
        cell=cell,
        duration=words.duration,
    )


def _report(course: str) -> CourseReport:
    """The course's report, of the learners the person may see there."""
    return report_of_course(
        storage().progress,
        storage().enrollments,
        accounts(),
        course,
        visible=access().course_learners(course),
    )


def _searched(learner: str, named: Names) -> str:
    """What the learner search looks in: the full name and the username."""
    return f"{named.learner(learner)} {named.username(learner) or learner}".lower()


def cell(summary: ContentSummary | None) -> dict[str, Any]:
    """How one learner's summary of one activity shows (docs/dashboard.md, "The grid").

    The score when there is one, else progress; a mark for the one word
    that holds (failed, passed, completed); the time spent in a second line,
    which phones show too; all of it in words for screen readers.
    """
    if summary is None:
        return {"text": "–", "tenth": None, "word": "not started", "mark": "", "spent": ""}
    percent = round((summary.score if summary.score is not None else summary.progress) * 100)
    word, mark = "", ""
    if summary.success is False:
        word, mark = "failed", "✗"
    elif summary.success is True:
        word, mark = "passed", "✓"
    elif summary.completion_us is not None:
        word, mark = "completed", "✓"
    details = [f"progress {round(summary.progress * 100)}%"]
    if summary.score is not None:
        details.append(f"score {percent}%")
    if summary.completion_us is not None:
        details.append(f"completed {from_us(summary.completion_us):%Y-%m-%d}")
    details.append(f"time spent {words.duration(summary.time_spent_us)}")
    return {
        "text": f"{percent}%",
        "tenth": min(10, max(0, percent) // 10),
        "word": word,
        "mark": mark,
        "spent": words.duration(summary.time_spent_us),
        "title": "; ".join(details),
    }


@blp.route("/courses/<path:course>/activity")
def course_activity(course: str) -> ResponseReturnValue:
    """Statements per day in a course over the last 30 days, as a chart and a table."""
    access().require_course(course)
    today = now().date()
    first = today - timedelta(days=CHART_DAYS - 1)
    start_us = to_us(datetime.combine(first, datetime.min.time(), tzinfo=UTC))
    first_day = start_us // DAY_US
    per_day = storage().statements.course_days(course, start_us, start_us + CHART_DAYS * DAY_US)
    bars = [
        Bar(f"{first + timedelta(days=n):%m-%d}", per_day[first_day + n]) for n in range(CHART_DAYS)
    ]
    name = names().course(course)
    chart = Markup(bar_chart(bars, f"Statements per day in {name}, last {CHART_DAYS} days"))
    return render_template("activity.html", course=course, course_name=name, chart=chart, bars=bars)


@blp.route("/courses/<path:course>/exam")
def exam(course: str) -> ResponseReturnValue:
    """Assessed content of a course (exam, quiz, exercise): its questions and its learners.

    Per question, who answered wrong and what; learners not started listed;
    those who need help flagged (``lrs.usecases.reports.needs_help``).
    """
    access().require_course(course)
    activity = request.args.get("activity", "")
    if not activity:
        raise InvalidInput("name the content: ?activity=IRI")
    named = names()
    visible = access().course_learners(course)
    enrolled = enrolled_learners(storage().enrollments, accounts(), course)
    report = report_of_exam(
        storage().progress,
        activity,
        course=course,
        visible=visible,
        enrolled=[key for key in enrolled if visible is None or key in visible],
    )
    scores = sorted(report.summaries, key=lambda item: named.learner(item.learner).casefold())
    return render_template(
        "exam.html",
        course=course,
        course_name=named.course(course),
        report=report,
        scores=scores,
        names=named,
        cell=cell,
        not_started=sorted(report.not_started, key=lambda key: named.learner(key).casefold()),
    )


_STATE_ORDER = {
    State.expired: 0,
    State.errored: 1,
    State.allocated: 2,
    State.accepted: 3,
    State.completed: 4,
    State.cancelled: 5,
    State.reversed: 6,
}
#: States from which an assignment can be cancelled.
CANCELLABLE = frozenset({State.allocated, State.accepted, State.errored})


@blp.route("/courses/<path:course>/assignments", methods=["GET", "POST"])
def course_assignments(course: str) -> ResponseReturnValue:
    """The assignments of a course by state, overdue (expired) first; a form assigns content."""
    access().require_course(course)
    error: str | None = None
    made: list[str] = []
    if request.method == "POST":
        access().require_assigner()
        error, made = _assign(course)
    found = assignments().find(Filters(course_key=course))
    found.sort(key=lambda item: (_STATE_ORDER[item.state], item.due or item.created, item.id))
    counts = Counter(str(item.state) for item in found)
    report = _report(course)
    page = render_template(
        "assignments.html",
        course=course,
        course_name=names().course(course),
        assignments=found,
        counts=counts,
        names=names(),
        cancellable=CANCELLABLE,
        learners=sorted(
            (
                (username, names().learner(row.learner))
                for row in report.learners
                if (username := names().username(row.learner))
            ),
            key=lambda pair: pair[1].casefold(),
        ),
        contents=[(item.activity, names().activity(item.activity)) for item in report.activities],
        error=error,
        made=made,
        form=request.form if error else {},
        chosen=request.form.getlist("username") if error else [],
    )
    return page, 400 if error else 201 if made else 200


def _assign(course: str) -> tuple[str | None, list[str]]:
    """Assign the form's content to the chosen learners; all of them, or none on error."""
    form = request.form
    content = form.get("content", "").strip() or course
    chosen = form.getlist("username")
    if not chosen:
        return "choose at least one learner", []
    keys = enrolled_learners(storage().enrollments, accounts(), course)
    enrolled = {names().username(key) for key in keys}
    strangers = [username for username in chosen if username not in enrolled]
    if strangers:
        return f"not learners of this course: {', '.join(strangers)}", []
    rows = [
        {
            "content": content,
            "username": username,
            "course_key": course,
            "due": form.get("due", "").strip() or None,
            "note": form.get("note", "").strip(),
        }
        for username in chosen
    ]
    # Checked whole first (a dry run), so that a bad row assigns nothing.
    checked = assignments().assign_many(rows, actor=actor(), dry_run=True)
    refused = [f"{item.learner}: {item.reason}" for item in checked if item.result == "error"]
    if refused:
        return "; ".join(refused), []
    done = assignments().assign_many(rows, actor=actor())
    # Another assignment may have come in between: said, beside what was made.
    late = [f"{item.learner}: {item.reason}" for item in done if item.result == "error"]
    return "; ".join(late) or None, [item.learner for item in done if item.result == "created"]


@blp.route("/courses/<path:course>/assignments/<assignment_id>/cancel", methods=["POST"])
def cancel_assignment(course: str, assignment_id: str) -> ResponseReturnValue:
    """Cancel an assignment of the course (allocated, accepted or errored)."""
    found = assignments().store.get(assignment_id)
    access().require_course(found.course_key)
    if found.course_key != course:
        raise InvalidInput(f"assignment {assignment_id} is not in {course}")
    reason = request.form.get("reason", "").strip() or "cancelled from the dashboard"
    assignments().cancel(assignment_id, actor=actor(), reason=reason)
    return redirect(url_for("web.course_assignments", course=course))
