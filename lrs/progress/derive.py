"""From statements to progress: the events they give, and the sessions and summaries of those.

Every rule here is a function of a set of events, never of the order they
arrived in: events are sorted by (time, statement id) before anything is
computed from them. The rules, with the IRIs they read, are in
``docs/progress.md``; this module is where they live.
"""

import functools
import re
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from lrs.clock import to_us
from lrs.progress.answers import ANSWERED_VERB, Answer, answer_of, criterion_of, is_interaction
from lrs.xapi.agents import agent_key
from lrs.xapi.courses import activity_type as _type
from lrs.xapi.courses import course_of
from lrs.xapi.syntax import context_activities, parse_timestamp

#: The verbs that say a learner passed or failed (ADL's vocabulary).
PASSED_VERB = "http://adlnet.gov/expapi/verbs/passed"
FAILED_VERB = "http://adlnet.gov/expapi/verbs/failed"
#: Verbs that complete the content they are about (ADL's vocabulary).
COMPLETING_VERBS = frozenset(
    {
        "http://adlnet.gov/expapi/verbs/completed",
        "http://adlnet.gov/expapi/verbs/passed",
        "http://adlnet.gov/expapi/verbs/mastered",
    }
)
#: Verbs that close an exam (an assessment) they are about.
CLOSING_VERBS = COMPLETING_VERBS - {"http://adlnet.gov/expapi/verbs/mastered"} | {
    "http://adlnet.gov/expapi/verbs/failed",
    "http://adlnet.gov/expapi/verbs/terminated",
}
#: Verbs that complete a try (with its mastery criterion met).
MASTERING_VERBS = frozenset(
    {"http://adlnet.gov/expapi/verbs/passed", "http://adlnet.gov/expapi/verbs/mastered"}
)
#: The activity type of an exam.
ASSESSMENT_TYPE = "http://adlnet.gov/expapi/activities/assessment"
#: cmi5's progress: a whole number from 0 to 100.
PROGRESS_EXTENSION = "https://w3id.org/xapi/cmi5/result/extensions/progress"
#: The xAPI Video profile's progress: a number from 0 to 1 (video players send it).
VIDEO_PROGRESS_EXTENSION = "https://w3id.org/xapi/video/extensions/progress"
#: Activity types of a question, whose content is the exercise or quiz it is in.
QUESTION_TYPES = frozenset(
    {
        "http://adlnet.gov/expapi/activities/cmi.interaction",
        "http://adlnet.gov/expapi/activities/question",
    }
)
#: The activity type that makes a grouping or parent activity a course.
#: The default gap that ends a session (``LRS_SESSION_GAP_SECONDS``).
SESSION_GAP_SECONDS = 300
# The time of a kind or course no event named: before every event.
_NEVER = -(2**62)


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
    platform: str  # context.platform, "" when none
    closes: bool  # a closing verb about the content itself (not one of its questions)
    score: float | None  # result.score.scaled of a statement about the content itself
    registration: str = ""  # context.registration, "" when none
    masters: bool = False  # a mastering verb about the content itself
    criterion: tuple[int, int] | None = None  # the content's mastery criterion (m, n)
    answer: Answer | None = None  # a question answered
    success: bool | None = None  # passed (True) or failed (False), about the content itself


class ContentSession(NamedTuple):
    """One learner's contiguous visit to one piece of content.

    Every field is a join of its events' (a minimum, a maximum, the latest
    by time): two sessions of one key that come within the gap of each other
    join into one, and an event joined twice changes nothing.
    """

    learner: str
    content: str
    start_us: int
    end_us: int
    longest_us: int  # the longest duration one of its events reports
    progress: float
    completion_us: int | None  # its earliest completing event's time
    kind: str  # of its latest event that names one (the greatest, at one time), or ""
    kind_us: int  # that event's time
    course: str  # likewise
    course_us: int
    platforms: tuple[str, ...]  # every context.platform of its events, sorted
    closed_us: int | None  # its earliest closing event's time
    score: float | None  # of its latest scored event (the highest, at one time)
    score_us: int  # that event's time
    # Passed (True) or failed (False): its latest event that says (passed, at one
    # time). Records written before it was kept have none until a rebuild.
    success: bool | None = None
    success_us: int = _NEVER

    @property
    def time_spent_us(self) -> int:
        """From its first event to its last, or its longest duration, whichever is more.

        A cmi5 ``terminated`` statement reports the whole session, and
        ``completed`` the time since launch: adding durations up would count
        time twice.
        """
        return max(self.end_us - self.start_us, self.longest_us)

    @property
    def completed(self) -> bool:
        """Whether one of its events completes the content."""
        return self.completion_us is not None


_PLATFORMS = ContentSession._fields.index("platforms")


_SESSION_DEFAULTS = tuple(ContentSession._field_defaults.values())


def session_from(values: Sequence[Any]) -> ContentSession:
    """A session from its fields as JSON keeps them (its platforms as a list).

    One kept before its last fields existed gets their defaults.
    """
    fields = list(values)
    fields[_PLATFORMS] = tuple(fields[_PLATFORMS])
    missing = len(ContentSession._fields) - len(fields)
    if missing > 0:
        fields.extend(_SESSION_DEFAULTS[-missing:])
    return ContentSession._make(fields)


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
    closed_us: int | None  # when a closing statement about the content itself came first
    score: float | None  # of the latest scored statement about the content itself
    success: bool | None = None  # passed (True), failed (False), or no statement says


# Possessive quantifiers: a number is always followed by its unit letter, so
# the matcher never needs to give digits back (and runs twice as fast).
_NUMBER = r"(\d++(?:[.,]\d++)?+)"
_DURATION = re.compile(
    f"P(?:{_NUMBER}Y)?+(?:{_NUMBER}M)?+(?:{_NUMBER}W)?+(?:{_NUMBER}D)?+"
    f"(?:T(?:{_NUMBER}H)?+(?:{_NUMBER}M)?+(?:{_NUMBER}S)?+)?+"
)
# Seconds in each component, in the pattern's order; a year counts 365 days
# and a month 30.
_SECONDS = (365 * 86_400, 30 * 86_400, 7 * 86_400, 86_400, 3_600, 60, 1)
#: The longest duration a statement counts for: a year. xAPI bounds none, but
#: "P99999999999Y" is valid, and time spent must fit in 64 bits when summed.
MAX_DURATION_SECONDS = 365 * 86_400
# Durations already read: a few forms ("PT1M", "PT30S") come again and again.
_DURATIONS: dict[str, int] = {}
_DURATIONS_KEPT = 4096


def duration_us(value: Any) -> int:
    """An ISO 8601 duration (``result.duration``) in microseconds; 0 when it is not one.

    At most a year (``MAX_DURATION_SECONDS``): longer ones count as a year.
    """
    if not isinstance(value, str):
        return 0
    known = _DURATIONS.get(value)
    if known is not None:
        return known
    match = _DURATION.fullmatch(value.replace(",", ".") if "," in value else value)
    total = 0.0
    if match is not None:
        for number, seconds in zip(match.groups(), _SECONDS, strict=True):
            if number is not None:
                total += float(number) * seconds
    if len(_DURATIONS) >= _DURATIONS_KEPT:
        _DURATIONS.clear()
    found = _DURATIONS[value] = int(round(min(total, MAX_DURATION_SECONDS) * 1_000_000))
    return found


def event_of(
    statement: dict[str, Any],
    statement_id: str,
    stored_us: int,
    *,
    course: str | None = None,
    time_us: int | None = None,
) -> Event | None:
    """The event a valid stored statement gives, or ``None`` when it is not about progress.

    A statement gives one when its actor is an agent with an identifier and
    its object an activity; voiding statements give none.

    Args:
        statement: the statement, as sent or as stored.
        statement_id: its id.
        stored_us: when it was stored (its time when it has no timestamp).
        course: its course, when read already (``lrs.xapi.courses.course_of``).
        time_us: its timestamp, when read already.
    """
    actor, target = statement.get("actor"), statement.get("object")
    context = found if isinstance(found := statement.get("context"), dict) else {}
    if not isinstance(actor, dict) or actor.get("objectType", "Agent") != "Agent":
        return None
    learner = agent_key(actor)
    if learner is None or not isinstance(target, dict):
        return None
    if target.get("objectType", "Activity") != "Activity":
        return None  # voiding and other statements about statements, agents
    content, kind = str(target["id"]), _type(target)
    definition = target.get("definition")
    verb = statement.get("verb", {}).get("id", "")
    interaction = kind in QUESTION_TYPES or is_interaction(definition)
    question = False
    if interaction or verb == ANSWERED_VERB:
        parents = context_activities(context, "parent")
        if parents and isinstance(parents[0], dict) and "id" in parents[0]:
            content, kind = str(parents[0]["id"]), _type(parents[0])
            definition = parents[0].get("definition")
            question = True
    if time_us is None:
        timestamp = statement.get("timestamp")
        time_us = to_us(parse_timestamp(timestamp)) if isinstance(timestamp, str) else stored_us
    result = statement.get("result")
    if not isinstance(result, dict):
        result = {}
    completes = _completes(verb, result, question, alone=interaction or verb == ANSWERED_VERB)
    progress = 0.0 if question else _progress_of(result)
    score = result.get("score", {}).get("scaled") if isinstance(result.get("score"), dict) else None
    registration = context.get("registration")
    return Event(
        learner,
        content,
        time_us,
        statement_id,
        duration_us(result.get("duration")),
        1.0 if completes else progress,
        completes,
        kind,
        course_of(statement) if course is None else course,
        platform if isinstance(platform := context.get("platform"), str) else "",
        not question and verb in CLOSING_VERBS,
        None if question or not isinstance(score, int | float) else float(score),
        registration.lower() if isinstance(registration, str) else "",
        not question and verb in MASTERING_VERBS,
        criterion_of(definition),
        answer_of(statement, interaction),
        None if question else _success(verb, result),
    )


def _completes(verb: str, result: dict[str, Any], question: bool, *, alone: bool) -> bool:
    """Whether a statement completes its content.

    A question answered counts as time in its exercise, never as its
    completion; a problem on its own (``alone``: no exercise around it)
    answered right is done.
    """
    if question:
        return False
    if verb in COMPLETING_VERBS or result.get("completion") is True:
        return True
    return alone and result.get("success") is True


def _success(verb: str, result: dict[str, Any]) -> bool | None:
    """Passed or failed: ``result.success``, else the verb passed or failed; else ``None``."""
    success = result.get("success")
    if isinstance(success, bool):
        return success
    if verb == PASSED_VERB:
        return True
    if verb == FAILED_VERB:
        return False
    return None


def _progress_of(result: dict[str, Any]) -> float:
    """A result's progress from 0 to 1: cmi5's extension (0-100), else the Video profile's."""
    extensions = result.get("extensions")
    if not isinstance(extensions, dict):
        return 0.0
    for name, scale in ((PROGRESS_EXTENSION, 100), (VIDEO_PROGRESS_EXTENSION, 1)):
        value = extensions.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return min(1.0, max(0.0, value / scale))
    return 0.0


def _ordered(events: Iterable[Event]) -> list[Event]:
    return sorted(events, key=lambda event: (event.time_us, event.statement_id))


def session_of(event: Event) -> ContentSession:
    """The session of one event alone."""
    return ContentSession(
        event.learner,
        event.content,
        event.time_us,
        event.time_us,
        event.duration_us,
        event.progress,
        event.time_us if event.completes else None,
        event.kind,
        event.time_us if event.kind else _NEVER,
        event.course,
        event.time_us if event.course else _NEVER,
        (event.platform,) if event.platform else (),
        event.time_us if event.closes else None,
        event.score,
        event.time_us if event.score is not None else _NEVER,
        event.success,
        event.time_us if event.success is not None else _NEVER,
    )


def joined(sessions: Sequence[ContentSession]) -> ContentSession:
    """One session of several of a key's: the join of every field."""
    return functools.reduce(_join, sessions)


def _join(a: ContentSession, b: ContentSession) -> ContentSession:
    completion = _earliest(a.completion_us, b.completion_us)
    closed = _earliest(a.closed_us, b.closed_us)
    score = max((a.score_us, _number(a.score)), (b.score_us, _number(b.score)))
    kind = max((a.kind_us, a.kind), (b.kind_us, b.kind))
    course = max((a.course_us, a.course), (b.course_us, b.course))
    # The latest verdict; at one time, passed. (A tuple of the time and None
    # is never compared by its second element: only _NEVER goes with None.)
    success = max((a.success_us, a.success is True), (b.success_us, b.success is True))
    success_from = a if (a.success_us, a.success is True) == success else b
    return ContentSession(
        a.learner,
        a.content,
        min(a.start_us, b.start_us),
        max(a.end_us, b.end_us),
        max(a.longest_us, b.longest_us),
        max(a.progress, b.progress),
        completion,
        kind[1],
        kind[0],
        course[1],
        course[0],
        a.platforms if a.platforms == b.platforms else tuple(sorted({*a.platforms, *b.platforms})),
        closed,
        None if score[0] == _NEVER else score[1],
        score[0],
        success_from.success,
        success_from.success_us,
    )


def _earliest(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _number(score: float | None) -> float:
    # None only where no event was scored (time _NEVER): any number sorts it.
    return -2.0 if score is None else score


def sessions_of(events: Iterable[Event], gap_us: int) -> list[ContentSession]:
    """The sessions of one learner in one piece of content, oldest first.

    A session is a run of events each less than ``gap_us`` after the one
    before (sorted by time, then statement id).
    """
    sessions: list[ContentSession] = []
    run: list[ContentSession] = []
    for event in _ordered(events):
        if run and event.time_us - run[-1].end_us >= gap_us:
            sessions.append(joined(run))
            run = []
        run.append(session_of(event))
    if run:
        sessions.append(joined(run))
    return sessions


def with_event(
    sessions: Sequence[ContentSession], event: Event, gap_us: int
) -> list[ContentSession]:
    """A key's sessions (oldest first) once ``event`` joined them.

    The event joins every session that has an event less than ``gap_us``
    from it (those start less than ``gap_us`` after it and end less than
    ``gap_us`` before it), and so joins them into one. An event that is in a
    session already changes nothing.
    """
    time = event.time_us
    near: list[ContentSession] = []
    kept: list[ContentSession] = []
    for session in sessions:
        (near if session.start_us - gap_us < time < session.end_us + gap_us else kept).append(
            session
        )
    kept.append(joined([*near, session_of(event)]) if near else session_of(event))
    return sorted(kept, key=lambda session: session.start_us)


def summary_of(sessions: Sequence[ContentSession]) -> ContentSummary:
    """The summary of one learner in one piece of content, from all its sessions (oldest first)."""
    whole = joined(sessions)
    return ContentSummary(
        whole.learner,
        whole.content,
        whole.kind,
        whole.course,
        whole.start_us,
        whole.end_us,
        whole.completion_us,
        sum(session.time_spent_us for session in sessions),
        whole.progress,
        len(sessions),
        whole.closed_us,
        whole.score,
        whole.success,
    )


def resessioned(
    sessions: Sequence[ContentSession],
    events: Iterable[Event],
    times: Iterable[int],
    gap_us: int,
) -> list[ContentSession]:
    """A key's sessions once events at ``times`` were taken back (their statements voided).

    Only the sessions within ``gap_us`` of those times can change (taking an
    event back shrinks or splits only those): they are derived again from
    the key's ``events`` between their bounds; the others are kept.

    Args:
        sessions: the key's sessions before, oldest first.
        events: the key's events now (others' events are ignored).
        times: the times of the events taken back.
        gap_us: the gap that ends a session.
    """
    times = list(times)
    low, high = min(times) - gap_us, max(times) + gap_us
    near = [session for session in sessions if session.end_us >= low and session.start_us <= high]
    start = min([min(times)] + [session.start_us for session in near])
    end = max([max(times)] + [session.end_us for session in near])
    kept = [session for session in sessions if session.end_us < start or session.start_us > end]
    new = sessions_of((event for event in events if start <= event.time_us <= end), gap_us)
    return sorted(kept + new, key=lambda session: session.start_us)


class UserSession(NamedTuple):
    """One learner's contiguous activity, whatever the content (Kolibri's user session log)."""

    learner: str
    start_us: int
    end_us: int  # the last interaction
    activities: tuple[str, ...]  # the contents touched, sorted
    courses: tuple[str, ...]  # their courses (of each content session), sorted
    platforms: tuple[str, ...]  # every context.platform, sorted (device information)


def user_sessions_of(sessions: Iterable[ContentSession], gap_us: int) -> list[UserSession]:
    """The user sessions of learners, from all their content sessions: by learner, then start.

    A learner's events split at every gap of ``gap_us`` or more, whatever the
    content. No content session spans such a gap (its own events would have
    one), so the user sessions are the content sessions' intervals joined
    where less than ``gap_us`` apart: the events need not be read again.
    """
    found: list[UserSession] = []
    ordered = sorted(sessions, key=lambda session: (session.learner, session.start_us))
    run: list[ContentSession] = []
    end_us = 0  # the run's last interaction
    for session in ordered:
        if run and (session.learner != run[0].learner or session.start_us - end_us >= gap_us):
            found.append(_user_session(run))
            run = []
        end_us = max(end_us, session.end_us) if run else session.end_us
        run.append(session)
    if run:
        found.append(_user_session(run))
    return found


def _user_session(run: Sequence[ContentSession]) -> UserSession:
    return UserSession(
        run[0].learner,
        min(session.start_us for session in run),
        max(session.end_us for session in run),
        tuple(sorted({session.content for session in run})),
        tuple(sorted({session.course for session in run if session.course})),
        tuple(sorted({platform for session in run for platform in session.platforms})),
    )
