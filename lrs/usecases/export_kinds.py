"""What can be exported: each kind's records, read a page at a time, and its columns.

A kind reads its records from the stores, filtered by a time range and a
course, and says how each is written: as JSON (one line of NDJSON) and as
CSV cells under its documented columns (docs/transfer.md). Times are UTC ISO
8601; a record's time for ``since``/``until`` is:

- statements: their stored time (``since`` exclusive, ``until`` inclusive,
  as in xAPI queries); voided statements are exported too (a backup keeps
  them, and their voiding statements void them again on import);
- users, enrollments: their last change (``updated``);
- enrollment changes, state history: the change's time;
- summaries, sessions, attempts, exams: the time they span (kept when it
  overlaps the range, as ``/api/v1/progress`` filters).

The course of a statement is the one progress reads (``course_of``); of a
user, the courses they are enrolled in.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from lrs.clock import from_us, to_us
from lrs.enrollments.base import Change, Enrollment, User, as_dict
from lrs.exceptions import InvalidInput
from lrs.progress.fields import (
    attempt_history_fields,
    overlaps,
    session_fields,
    summary_fields,
)
from lrs.usecases.names import Names
from lrs.usecases.storage import Storage
from lrs.xapi import syntax
from lrs.xapi.agents import AccountAgents, agent_key
from lrs.xapi.courses import course_of
from lrs.xapi.statements.base import Record, StatementQuery

# Statements read at a time.
_PAGE = 1000


@dataclass(frozen=True)
class Filters:
    """Which records: a time range (microseconds, ``None`` for open) and a course."""

    since_us: int | None = None
    until_us: int | None = None
    course_key: str | None = None
    #: Progress records of these learners only (agent keys): a coach's export.
    learners: frozenset[str] | None = None

    def __post_init__(self) -> None:
        """Refuse a range that ends before it starts."""
        if self.since_us is not None and self.until_us is not None:
            if self.since_us > self.until_us:
                raise InvalidInput("since is after until")

    def within(self, us: int) -> bool:
        """Whether a moment is inside the range: after ``since``, at or before ``until``."""
        return (self.since_us is None or us > self.since_us) and (
            self.until_us is None or us <= self.until_us
        )

    def as_json(self) -> dict[str, Any]:
        """The filters given, for the record of an export."""
        found: dict[str, Any] = {}
        if self.since_us is not None:
            found["since"] = _iso(from_us(self.since_us))
        if self.until_us is not None:
            found["until"] = _iso(from_us(self.until_us))
        if self.course_key is not None:
            found["course_key"] = self.course_key
        return found


@dataclass(frozen=True)
class Kind:
    """One kind of record that can be exported."""

    name: str
    description: str
    columns: tuple[str, ...]
    #: The records, in a stable order (``storage``, ``accounts``, ``filters``).
    read: Callable[[Storage, AccountAgents, Filters], Iterator[Any]]
    #: One record as one line of JSON (no newline).
    as_json: Callable[[Any], bytes]
    #: One record as CSV cells, one per column.
    as_cells: Callable[[Any], list[Any]]
    #: Whether it is a progress record (coaches may export their courses').
    progress: bool = False
    #: How many records there are at most, cheaply, for a progress bar.
    count: Callable[[Storage], int] | None = None
    #: Whether it is exported a course at a time.
    needs_course: bool = False


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def moment_us(value: str, name: str = "time") -> int:
    """A time given to an export (ISO 8601; a date alone is its midnight, UTC), in microseconds.

    Raises:
        InvalidInput: ``value`` is not such a time (the message names ``name``).
    """
    text = f"{value}T00:00:00Z" if _DATE.fullmatch(value) else value
    if not syntax.is_timestamp(text, offset_required=False):
        raise InvalidInput(
            f"{name} must be an ISO 8601 time in years 1 to 9999 (2026-09-01 or "
            f"2026-09-01T08:00:00Z), not {value!r}"
        )
    return to_us(syntax.parse_timestamp(text))


def _iso(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.isoformat().replace("+00:00", "Z")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_json_default, option=orjson.OPT_PASSTHROUGH_DATETIME)


def _text(value: Any) -> Any:
    """A CSV cell: JSON for containers, ISO for times, as it is otherwise."""
    if isinstance(value, (dict, list)):
        return _dumps(value).decode()
    if isinstance(value, datetime):
        return _iso(value)
    return value


# -- statements ---------------------------------------------------------------


def read_statements(
    storage: Storage, accounts: AccountAgents, filters: Filters
) -> Iterator[Record]:
    """Every statement stored in the range (voided ones too), oldest first, a page at a time."""
    query = StatementQuery(since_us=filters.since_us, until_us=filters.until_us, with_voided=True)
    for record in storage.statements.walk(query, _PAGE):
        if filters.course_key is None or course_of(orjson.loads(record.text)) == filters.course_key:
            yield record


def _statement_json(record: Record) -> bytes:
    return record.text.encode()


def _agent_name(agent: Any) -> str:
    if not isinstance(agent, dict):
        return ""
    return str(agent.get("name") or "")


STATEMENT_COLUMNS = (
    "id",
    "stored",
    "timestamp",
    "actor_name",
    "actor",
    "verb",
    "verb_id",
    "object_type",
    "object_id",
    "object_name",
    "score_scaled",
    "score_raw",
    "success",
    "completion",
    "duration",
    "response",
    "registration",
    "course_key",
    "parent",
    "platform",
    "authority",
    "version",
    "voided",
    "statement",
)


def _statement_cells(record: Record) -> list[Any]:
    statement = orjson.loads(record.text)
    obj = statement.get("object") or {}
    definition = obj.get("definition") or {}
    result = statement.get("result") or {}
    score = result.get("score") or {}
    context = statement.get("context") or {}
    parents = (context.get("contextActivities") or {}).get("parent") or []
    return [
        record.id,
        statement.get("stored", ""),
        statement.get("timestamp", ""),
        _agent_name(statement.get("actor")),
        agent_key(statement.get("actor")) or "",
        syntax.language_text((statement.get("verb") or {}).get("display")),
        (statement.get("verb") or {}).get("id", ""),
        obj.get("objectType", "Activity"),
        obj.get("id") or agent_key(obj) or "",
        syntax.language_text(definition.get("name")) or _agent_name(obj),
        score.get("scaled", ""),
        score.get("raw", ""),
        _text(result.get("success", "")),
        _text(result.get("completion", "")),
        result.get("duration", ""),
        _text(result.get("response", "")),
        context.get("registration", ""),
        course_of(statement),
        " ".join(str(parent.get("id", "")) for parent in parents if isinstance(parent, dict)),
        context.get("platform", ""),
        agent_key(statement.get("authority")) or _text(statement.get("authority", "")),
        statement.get("version", ""),
        "true" if record.voided else "false",
        record.text,
    ]


# -- users and enrollments ------------------------------------------------------


def read_users(storage: Storage, accounts: AccountAgents, filters: Filters) -> Iterator[User]:
    """Users by username: changed in the range, enrolled in the course."""
    enrolled = None
    if filters.course_key is not None:
        enrolled = {
            item.username
            for item in storage.enrollments.list_enrollments(course_key=filters.course_key)
        }
    for user in storage.enrollments.list_users():
        if enrolled is not None and user.username not in enrolled:
            continue
        if user.updated is not None and not filters.within(to_us(user.updated)):
            continue
        yield user


USER_COLUMNS = (
    "username",
    "email",
    "full_name",
    "language",
    "is_staff",
    "is_active",
    "created",
    "updated",
    "profile",
)


def read_enrollments(
    storage: Storage, accounts: AccountAgents, filters: Filters
) -> Iterator[Enrollment]:
    """Enrollments by course then username: changed in the range, of the course."""
    for enrollment in storage.enrollments.list_enrollments(course_key=filters.course_key):
        if enrollment.updated is None or filters.within(to_us(enrollment.updated)):
            yield enrollment


ENROLLMENT_COLUMNS = ("username", "course_key", "mode", "role", "is_active", "created", "updated")


def read_enrollment_changes(
    storage: Storage, accounts: AccountAgents, filters: Filters
) -> Iterator[Change]:
    """Every change of an enrollment in the range: by course, username, then oldest first."""
    enrollments = storage.enrollments
    for enrollment in enrollments.list_enrollments(course_key=filters.course_key):
        changes = enrollments.history(enrollment.username, enrollment.course_key)
        for change in reversed(changes):
            if filters.within(to_us(change.time)):
                yield change


CHANGE_COLUMNS = ("time", "username", "course_key", "action", "actor", "reason", "before", "after")


def _change_fields(change: Change) -> dict[str, Any]:
    return {
        "time": change.time,
        "username": change.username,
        "course_key": change.course_key,
        "action": change.action,
        "actor": change.actor,
        "reason": change.reason,
        "before": change.before,
        "after": change.after,
    }


# -- learner state history ------------------------------------------------------


def read_state_history(
    storage: Storage, accounts: AccountAgents, filters: Filters
) -> Iterator[dict[str, Any]]:
    """Every write of learner state in a course's blocks, by block and user, oldest first.

    Raises:
        InvalidInput: no course is given (history is kept per block, found
            through the course's blocks).
    """
    if filters.course_key is None:
        raise InvalidInput(ONE_COURSE.format("state-history"))
    state = storage.state
    for current in state.iter_all_for_course(filters.course_key):
        entries = list(state.get_history(current.username, current.block_key, current.scope))
        for entry in reversed(entries):
            if filters.within(to_us(entry.updated)):
                yield {
                    "updated": entry.updated,
                    "username": entry.username,
                    "block_key": str(entry.block_key),
                    "scope": str(entry.scope),
                    "state": entry.state,
                }


STATE_COLUMNS = ("updated", "username", "block_key", "scope", "state")


# -- progress -------------------------------------------------------------------


def _progress(
    listed: str, fields: Callable[[Any], dict[str, Any]]
) -> Callable[[Storage, AccountAgents, Filters], Iterator[dict[str, Any]]]:
    """The reader of one list of the progress store (``summaries``, ``sessions``...)."""

    def records(
        storage: Storage, accounts: AccountAgents, filters: Filters
    ) -> Iterator[dict[str, Any]]:
        # Names for those who open the file in a spreadsheet, looked up once each.
        names = Names(storage.activities, storage.enrollments, accounts)
        for record in getattr(storage.progress, listed)(course=filters.course_key):
            if filters.learners is not None and record.learner not in filters.learners:
                continue
            # Kept when it overlaps the range (bounds included).
            if overlaps(record, filters.since_us, filters.until_us):
                username = accounts.username(record.learner)
                yield {
                    "username": username,
                    "full_name": "" if username is None else names.full_name(username),
                    "agent": record.learner,
                    "activity": record.content,
                    "activity_name": names.activity(record.content),
                    **fields(record),
                }

    return records


_LEARNER = ("username", "full_name", "agent", "activity", "activity_name")
SUMMARY_COLUMNS = (
    *_LEARNER,
    "kind",
    "course_key",
    "first",
    "last",
    "completed",
    "time_spent",
    "progress",
    "sessions",
    "closed",
    "score",
    "passed",
)
SESSION_COLUMNS = (*_LEARNER, "start", "end", "time_spent", "progress", "completed")
ATTEMPT_COLUMNS = (
    *_LEARNER,
    "item",
    "registration",
    "start",
    "end",
    "correct",
    "response",
    "readable",
    "hinted",
    "history",
)


def _record_json(fields: Callable[[Any], dict[str, Any]]) -> Callable[[Any], bytes]:
    return lambda record: _dumps(fields(record))


def _cells(
    columns: tuple[str, ...], fields: Callable[[Any], dict[str, Any]]
) -> Callable[[Any], list[Any]]:
    def cells(record: Any) -> list[Any]:
        found = fields(record)
        return [_text(found.get(column, "")) for column in columns]

    return cells


def _same(record: dict[str, Any]) -> dict[str, Any]:
    return record


def _kind(
    name: str,
    description: str,
    columns: tuple[str, ...],
    read: Callable[[Storage, AccountAgents, Filters], Iterator[Any]],
    fields: Callable[[Any], dict[str, Any]] = _same,
    *,
    progress: bool = False,
    needs_course: bool = False,
) -> Kind:
    return Kind(
        name,
        description,
        columns,
        read,
        _record_json(fields),
        _cells(columns, fields),
        progress=progress,
        needs_course=needs_course,
    )


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "statements",
            "statements, voided ones too, by stored time",
            STATEMENT_COLUMNS,
            read_statements,
            _statement_json,
            _statement_cells,
            count=lambda storage: storage.statements.count(),
        ),
        _kind("users", "users, by username", USER_COLUMNS, read_users, as_dict),
        _kind(
            "enrollments",
            "enrollments, by course then username",
            ENROLLMENT_COLUMNS,
            read_enrollments,
            as_dict,
        ),
        _kind(
            "enrollment-changes",
            "every change of an enrollment, by course, username, then time",
            CHANGE_COLUMNS,
            read_enrollment_changes,
            _change_fields,
        ),
        _kind(
            "state-history",
            "every write of learner state in one course",
            STATE_COLUMNS,
            read_state_history,
            needs_course=True,
        ),
        _kind(
            "summaries",
            "content summaries (Kolibri's summary logs)",
            SUMMARY_COLUMNS,
            _progress("summaries", summary_fields),
            progress=True,
        ),
        _kind(
            "sessions",
            "content sessions (Kolibri's session logs)",
            SESSION_COLUMNS,
            _progress("sessions", session_fields),
            progress=True,
        ),
        _kind(
            "attempts",
            "attempts at questions, with every answer",
            ATTEMPT_COLUMNS,
            _progress("attempts", attempt_history_fields),
            progress=True,
        ),
        _kind(
            "exams",
            "exams: the summaries of assessments",
            SUMMARY_COLUMNS,
            _progress("exams", summary_fields),
            progress=True,
        ),
    )
}


ONE_COURSE = "{} is exported a course at a time: give a course key"


def kind_named(name: str) -> Kind:
    """The kind of this name.

    Raises:
        InvalidInput: no such kind (the message lists them).
    """
    found = KINDS.get(name)
    if found is None:
        raise InvalidInput(f"no export kind {name!r}; the kinds are {', '.join(KINDS)}")
    return found
