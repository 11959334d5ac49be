"""A learner's page: what they did, in the courses the person may see them in."""

from datetime import timedelta
from typing import Any

import orjson
from flask import render_template
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from lrs.assignments.base import ACTIVE, Filters
from lrs.clock import from_us
from lrs.exceptions import DoesNotExist
from lrs.progress.derive import UserSession
from lrs.web import words
from lrs.web.chart import Span, day_timeline
from lrs.web.courses import cell
from lrs.web.views import access, accounts, blp, names, now, storage
from lrs.xapi.courses import course_of
from lrs.xapi.statements.base import StatementQuery

#: Days the learner's timeline shows.
TIMELINE_DAYS = 14


@blp.route("/learners/<username>")
def learner(username: str) -> ResponseReturnValue:
    """A learner: sessions, summaries, tries, exams, assignments, latest statements."""
    # A coach sees the learner in the courses it coaches, and nothing of the
    # others: the rule of the progress API and exports (lrs.credentials.access).
    courses = access().record_courses(username)

    def shown(course: str | None) -> bool:
        return courses is None or course in courses

    stores = storage()
    key = accounts().key(username)
    try:
        user = stores.enrollments.get_user(username)
    except DoesNotExist:
        user = None
    progress = stores.progress
    every_session = progress.user_sessions(learner=key, within=courses)
    summaries = [item for item in progress.summaries(learner=key) if shown(item.course)]
    contents = {item.content for item in summaries}
    return render_template(
        "learner.html",
        username=username,
        user=user,
        sessions=every_session[-20:][::-1],
        timeline=Markup(_timeline(every_session, username)),
        summaries=summaries,
        tries=[item for item in progress.tries(learner=key) if item.content in contents],
        exams=[item for item in progress.exams(learner=key) if shown(item.course)],
        assignments=[
            item
            for item in stores.assignments.find(Filters(username=username))
            if shown(item.course_key)
        ],
        active=ACTIVE,
        latest=_latest(key, shown),
        duration=words.duration,
        time=from_us,
        names=names(),
        cell=cell,
    )


def _latest(key: str, shown: Any) -> list[dict[str, Any]]:
    """The learner's 20 latest statements in words, in the courses shown."""
    latest: list[dict[str, Any]] = []
    moment = now()
    for record in storage().statements.query(StatementQuery(agent=key, limit=200)):
        statement = orjson.loads(record.text)
        if not shown(course_of(statement)):
            continue
        if len(latest) == 20:
            break
        latest.append(
            {
                "words": words.sentence(statement, accounts()),
                "when": words.ago(words.happened(statement, record.stored_us), moment),
                "id": record.id,
            }
        )
    return latest


def _timeline(sessions: list[UserSession], username: str) -> str:
    """The learner's sessions of the last 14 days on a day-by-hour timeline (UTC)."""
    today = now().date()
    days = [today - timedelta(days=n) for n in range(TIMELINE_DAYS - 1, -1, -1)]
    labels = [f"{day:%a %m-%d}" for day in days]
    spans = []
    for visit in sessions:
        start, end = from_us(visit.start_us), from_us(visit.end_us)
        if start.date() < days[0]:
            continue
        # A session past midnight is cut at the end of its first day.
        hours = start.hour + start.minute / 60
        end_hours = 24.0 if end.date() != start.date() else end.hour + end.minute / 60
        label = f"{start:%H:%M} to {end:%H:%M}, {words.duration(visit.end_us - visit.start_us)}"
        spans.append(Span(f"{start:%a %m-%d}", hours, end_hours, label))
    return day_timeline(labels, spans, f"{username}'s sessions, last {TIMELINE_DAYS} days (UTC)")
