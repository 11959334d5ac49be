r"""Finding, and mending, what an older LRS stored that today's rules refuse.

Before every pattern matched whole (``lrs.patterns``), a string that ended in
a newline passed for an identifier. A statement id ``"<uuid>\n"`` was stored
with the newline raw inside its JSON text, so that text was not JSON: every
query that included it failed. ``lrs check`` lists such records
(``findings``); ``lrs check --repair`` mends the statements
(``repair_statements``): each is stored again under its id without the
newline, or, when that UUID is stored already (the same statement twice), the
malformed copy is removed, as the LRS would have refused it. Users and
enrollments with such values are listed for an administrator to mend.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from lrs.clock import to_us
from lrs.enrollments.base import is_course_key, is_email
from lrs.usecases.rebuild import rebuild
from lrs.usecases.storage import Storage
from lrs.xapi.courses import course_of
from lrs.xapi.digests import digest
from lrs.xapi.statements.base import Record, StatementQuery, terms_of
from lrs.xapi.syntax import is_uuid, parse_timestamp


@dataclass(frozen=True)
class Finding:
    """A stored record that breaks a rule every stored record must keep."""

    store: str  # "statements", "users" or "enrollments"
    key: str  # which record: a statement id, a username, "username course"
    problem: str


def findings(storage: Storage) -> Iterator[Finding]:
    """Every stored record that breaks a rule of its store, store by store."""
    for record in storage.statements.walk(StatementQuery(with_voided=True)):
        problem = statement_problem(record)
        if problem is not None:
            yield Finding("statements", repr(record.id), problem)
    for user in storage.enrollments.list_users():
        if user.email and not is_email(user.email):
            yield Finding("users", user.username, f"the e-mail {user.email!r} is not an address")
    for enrollment in storage.enrollments.list_enrollments():
        if not is_course_key(enrollment.course_key):
            yield Finding(
                "enrollments",
                f"{enrollment.username} {enrollment.course_key!r}",
                "the course key is not one",
            )


def statement_problem(record: Record) -> str | None:
    """What is wrong with a stored statement, or ``None`` when it is sound."""
    if not is_uuid(record.id):
        return "its id is not a UUID"
    try:
        statement = orjson.loads(record.text)
    except orjson.JSONDecodeError:
        return "its stored text is not JSON"
    if not isinstance(statement, dict) or statement.get("id") != record.id:
        return "its stored text does not carry its id"
    return None


def repair_statements(storage: Storage) -> dict[str, int]:
    """Mend every statement ``statement_problem`` finds fault with; return what was done.

    Counts: ``restored`` (stored again under its id without control
    characters around it, its text JSON again), ``removed`` (a second copy of
    a UUID stored already), ``left`` (no UUID in its id, or text that no
    reading makes JSON: listed again by the next check, for an administrator
    to remove). The progress of the learners
    concerned is derived again.
    """
    counts = {"restored": 0, "removed": 0, "left": 0}
    broken = [
        record
        for record in storage.statements.walk(StatementQuery(with_voided=True))
        if statement_problem(record) is not None
    ]
    learners: set[str] = set()
    for record in broken:
        mended_id = record.id.strip().lower()
        if not is_uuid(mended_id):
            counts["left"] += 1
            continue
        try:
            statement = _lenient(record.text)
        except ValueError:
            counts["left"] += 1
            continue
        learners.update(record.terms.agents)
        with storage.transaction():
            if mended_id != record.id and storage.statements.get(mended_id) is not None:
                storage.statements.delete([record.id])
                counts["removed"] += 1
                continue
            statement["id"] = mended_id
            storage.statements.delete([record.id])
            storage.statements.save([_record(statement, mended_id, record.stored_us)])
            counts["restored"] += 1
    for learner in sorted(learners):
        rebuild(storage.progress, storage.statements, learner=learner)
    return counts


def _lenient(text: str) -> dict[str, Any]:
    """A statement from text that may hold raw control characters inside its strings."""
    statement: dict[str, Any] = json.loads(text, strict=False)
    return statement


def _record(statement: dict[str, Any], statement_id: str, stored_us: int) -> Record:
    """The record of a statement stored again, as ``StatementStore.erase_agents`` makes one."""
    sent = statement
    if statement.get("timestamp") == statement.get("stored"):
        sent = {key: value for key, value in statement.items() if key != "timestamp"}
    timestamp = statement.get("timestamp")
    return Record(
        statement_id,
        orjson.dumps(statement).decode(),
        stored_us,
        digest(sent),
        terms_of(statement),
        course=course_of(statement),
        time_us=stored_us if not isinstance(timestamp, str) else to_us(parse_timestamp(timestamp)),
    )
