"""Progress records as JSON fields: what ``/api/v1/progress`` answers and exports write.

Times are ``datetime`` (aware UTC), durations seconds. The learner's
``username``/``agent`` are left to the caller, which knows the accounts.
"""

from datetime import datetime
from typing import Any

from lrs.clock import from_us
from lrs.progress.derive import ContentSession, ContentSummary
from lrs.progress.tries import Attempt, Try


def time_or_none(us: int | None) -> datetime | None:
    """A time in microseconds as a ``datetime``; ``None`` stays ``None``."""
    return None if us is None else from_us(us)


def overlaps(record: Any, since: int | None, until: int | None) -> bool:
    """Whether a record's time overlaps the range: ends at or after ``since``, starts by ``until``.

    A summary's time is from its first statement to its last.
    """
    if isinstance(record, ContentSummary):
        start, end = record.first_us, record.last_us
    else:
        start, end = record.start_us, record.end_us
    return (since is None or end >= since) and (until is None or start <= until)


def summary_fields(summary: ContentSummary) -> dict[str, Any]:
    """A content summary's fields."""
    return {
        "kind": summary.kind,
        "course_key": summary.course,
        "first": from_us(summary.first_us),
        "last": from_us(summary.last_us),
        "completed": time_or_none(summary.completion_us),
        "time_spent": summary.time_spent_us / 1_000_000,
        "progress": summary.progress,
        "sessions": summary.sessions,
        "closed": time_or_none(summary.closed_us),
        "score": summary.score,
        "passed": summary.success,
    }


def session_fields(session: ContentSession) -> dict[str, Any]:
    """A content session's fields."""
    return {
        "start": from_us(session.start_us),
        "end": from_us(session.end_us),
        "time_spent": session.time_spent_us / 1_000_000,
        "progress": session.progress,
        "completed": time_or_none(session.completion_us),
    }


def attempt_fields(attempt: Attempt) -> dict[str, Any]:
    """An attempt's fields: its latest answer."""
    return {
        "item": attempt.item,
        "registration": attempt.registration,
        "start": from_us(attempt.start_us),
        "end": from_us(attempt.end_us),
        "correct": attempt.correct,
        "response": attempt.response,
        "readable": attempt.readable,
        "hinted": attempt.hinted,
    }


def attempt_history_fields(attempt: Attempt) -> dict[str, Any]:
    """An attempt's fields, with every answer in it, oldest first."""
    return {
        **attempt_fields(attempt),
        "history": [
            {
                "time": from_us(step.time_us),
                "statement_id": step.statement_id,
                "correct": step.correct,
                "response": step.response,
                "readable": step.readable,
                "hinted": step.hinted,
            }
            for step in attempt.history
        ],
    }


def try_fields(found: Try) -> dict[str, Any]:
    """A try's fields, with its attempts."""
    criterion = found.criterion
    return {
        "registration": found.registration,
        "start": from_us(found.start_us),
        "end": from_us(found.end_us),
        "time_spent": found.time_spent_us / 1_000_000,
        "criterion": None if criterion is None else {"m": criterion[0], "n": criterion[1]},
        "completed": time_or_none(found.completion_us),
        "attempts": [attempt_fields(attempt) for attempt in found.attempts],
    }
