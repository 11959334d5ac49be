"""From statements to progress: the events they give, and the sessions and summaries of those.

Every rule here is a function of a set of events, never of the order they
arrived in: events are sorted by (time, statement id) before anything is
computed from them. The rules, with the IRIs they read, are in
``docs/progress.md``; this module is where they live.
"""

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import isodate

from lrs.clock import to_us
from lrs.xapi.agents import agent_key
from lrs.xapi.syntax import parse_timestamp

#: Verbs that complete the content they are about (ADL's vocabulary).
COMPLETING_VERBS = frozenset(
    {
        "http://adlnet.gov/expapi/verbs/completed",
        "http://adlnet.gov/expapi/verbs/passed",
        "http://adlnet.gov/expapi/verbs/mastered",
    }
)
#: cmi5's progress: a whole number from 0 to 100.
PROGRESS_EXTENSION = "https://w3id.org/xapi/cmi5/result/extensions/progress"
#: Activity types of a question, whose content is the exercise or quiz it is in.
QUESTION_TYPES = frozenset(
    {
        "http://adlnet.gov/expapi/activities/cmi.interaction",
        "http://adlnet.gov/expapi/activities/question",
    }
)
#: The activity type that makes a grouping or parent activity a course.
COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"
#: The default gap that ends a session (``LRS_SESSION_GAP_SECONDS``).
SESSION_GAP_SECONDS = 300
# A duration in years or months is counted from this day (isodate needs one).
_DURATION_START = datetime(2000, 1, 1, tzinfo=UTC)


class Event(NamedTuple):
    """What one statement says about a learner's progress in one piece of content."""

    learner: str  # the actor's agent key (lrs.xapi.agents.agent_key)
    content: str  # an activity id
    time_us: int  # the statement's timestamp
    statement_id: str
    duration_us: int  # result.duration, 0 when none
    progress: float  # 0..1
    completes: bool
    kind: str  # the content's activity type, "" when the statement names none
    course: str  # "" when none is known


class ContentSession(NamedTuple):
    """One learner's contiguous visit to one piece of content."""

    learner: str
    content: str
    start_us: int
    end_us: int
    time_spent_us: int
    progress: float
    completed: bool
    statements: int


class ContentSummary(NamedTuple):
    """Everything one learner did in one piece of content, rolled up."""

    learner: str
    content: str
    kind: str
    course: str
    first_us: int
    last_us: int
    completion_us: int | None
    time_spent_us: int
    progress: float
    sessions: int


def _activities(context: Any, kind: str) -> list[Any]:
    found = context.get("contextActivities", {}).get(kind, []) if isinstance(context, dict) else []
    return found if isinstance(found, list) else [found]  # 1.0.x allowed one object


def _type(activity: Any) -> str:
    definition = activity.get("definition") if isinstance(activity, dict) else None
    kind = definition.get("type") if isinstance(definition, dict) else None
    return kind if isinstance(kind, str) else ""


def course_of(statement: dict[str, Any]) -> str:
    """The course a statement is in: an edX course from a block key, or a course activity."""
    content = statement.get("object", {}).get("id", "")
    if content.startswith("block-v1:"):
        # block-v1:Org+Course+Run+type@...+block@... -> course-v1:Org+Course+Run
        return "course-v1:" + "+".join(content[len("block-v1:") :].split("+")[:3])
    context = statement.get("context")
    for activity in _activities(context, "grouping") + _activities(context, "parent"):
        if _type(activity) == COURSE_TYPE and isinstance(activity.get("id"), str):
            return str(activity["id"])
    return ""


def _duration_us(value: Any) -> int:
    if not isinstance(value, str):
        return 0
    try:
        duration = isodate.parse_duration(value)
    except (ValueError, OverflowError, isodate.ISO8601Error):
        return 0
    if isinstance(duration, isodate.Duration):
        duration = duration.totimedelta(start=_DURATION_START)
    whole = (duration.days * 86_400 + duration.seconds) * 1_000_000 + duration.microseconds
    return max(0, int(whole))


def event_of(statement: dict[str, Any], statement_id: str, stored_us: int) -> Event | None:
    """The event a valid stored statement gives, or ``None`` when it is not about progress.

    A statement gives one when its actor is an agent with an identifier and
    its object an activity; voiding statements give none.

    Args:
        statement: the statement, as sent or as stored.
        statement_id: its id.
        stored_us: when it was stored (its time when it has no timestamp).
    """
    actor, target = statement.get("actor"), statement.get("object")
    if not isinstance(actor, dict) or actor.get("objectType", "Agent") != "Agent":
        return None
    learner = agent_key(actor)
    if learner is None or not isinstance(target, dict):
        return None
    if target.get("objectType", "Activity") != "Activity":
        return None  # voiding and other statements about statements, agents
    content, kind = str(target["id"]), _type(target)
    if kind in QUESTION_TYPES:
        parents = _activities(statement.get("context"), "parent")
        if parents and isinstance(parents[0], dict) and "id" in parents[0]:
            content, kind = str(parents[0]["id"]), _type(parents[0])
    timestamp = statement.get("timestamp")
    time_us = to_us(parse_timestamp(timestamp)) if isinstance(timestamp, str) else stored_us
    result = statement.get("result")
    if not isinstance(result, dict):
        result = {}
    verb = statement.get("verb", {}).get("id", "")
    completes = verb in COMPLETING_VERBS or result.get("completion") is True
    progress = 0.0
    extensions = result.get("extensions")
    if isinstance(extensions, dict):
        value = extensions.get(PROGRESS_EXTENSION)
        if isinstance(value, int | float) and not isinstance(value, bool):
            progress = min(1.0, max(0.0, value / 100))
    return Event(
        learner,
        content,
        time_us,
        statement_id,
        _duration_us(result.get("duration")),
        1.0 if completes else progress,
        completes,
        kind,
        course_of(statement),
    )


def _ordered(events: Iterable[Event]) -> list[Event]:
    return sorted(events, key=lambda event: (event.time_us, event.statement_id))


def sessions_of(events: Iterable[Event], gap_us: int) -> list[ContentSession]:
    """The sessions of one learner in one piece of content, oldest first.

    A session is a run of events each less than ``gap_us`` after the one
    before. Its time spent is the time from its first event to its last, or
    the longest duration one of them reports, whichever is longer (a cmi5
    ``terminated`` statement reports the whole session; summing durations
    would count it twice).
    """
    sessions: list[ContentSession] = []
    run: list[Event] = []
    for event in _ordered(events):
        if run and event.time_us - run[-1].time_us >= gap_us:
            sessions.append(_session(run))
            run = []
        run.append(event)
    if run:
        sessions.append(_session(run))
    return sessions


def _session(run: Sequence[Event]) -> ContentSession:
    first, last = run[0], run[-1]
    return ContentSession(
        first.learner,
        first.content,
        first.time_us,
        last.time_us,
        max(last.time_us - first.time_us, max(event.duration_us for event in run)),
        max(event.progress for event in run),
        any(event.completes for event in run),
        len(run),
    )


def summary_of(events: Iterable[Event], sessions: Sequence[ContentSession]) -> ContentSummary:
    """The summary of one learner in one piece of content, from its events and their sessions.

    Kind and course are those of the latest event that names one.
    """
    ordered = _ordered(events)
    first, last = ordered[0], ordered[-1]
    completing = [event.time_us for event in ordered if event.completes]
    return ContentSummary(
        first.learner,
        first.content,
        next((event.kind for event in reversed(ordered) if event.kind), ""),
        next((event.course for event in reversed(ordered) if event.course), ""),
        first.time_us,
        last.time_us,
        completing[0] if completing else None,
        sum(session.time_spent_us for session in sessions),
        max(session.progress for session in sessions),
        len(sessions),
    )
