"""Progress from the statements stored: every event (for a rebuild), or one key's."""

from collections.abc import Callable, Iterator

import orjson

from lrs.progress.base import Key, ProgressStore, key_of
from lrs.progress.derive import Event, event_of
from lrs.xapi.statements.base import StatementQuery, StatementStore

# Statements read at a time.
_PAGE = 1000
# Every statement (StatementQuery is frozen: one instance serves every call).
_EVERY = StatementQuery()


def stored_events(
    statements: StatementStore,
    on_statement: Callable[[], None] | None = None,
    query: StatementQuery = _EVERY,
) -> Iterator[Event]:
    """The events of the stored statements that are not voided, oldest first.

    Args:
        statements: the statement store.
        on_statement: called once per statement read (for a progress bar).
        query: which statements (default: all); its order, page and limit
            are this function's.
    """
    for record in statements.walk(query, _PAGE):
        event = event_of(orjson.loads(record.text), record.id, record.stored_us)
        if on_statement is not None:
            on_statement()
        if event is not None:
            yield event


def key_events(statements: StatementStore, key: Key) -> list[Event]:
    """The events of one learner in one piece of content, from the statements stored.

    Read through the statement query by agent and related activity (the
    content is the object, or a question's parent), and kept when they
    count for that key.
    """
    learner, content = key
    query = StatementQuery(agent=learner, activity=content, related_activities=True)
    return [event for event in stored_events(statements, query=query) if key_of(event) == key]


def rebuild(
    progress: ProgressStore,
    statements: StatementStore,
    on_statement: Callable[[], None] | None = None,
    *,
    learner: str | None = None,
    course: str | None = None,
) -> int:
    """Derive progress records again from the statements; return the keys derived.

    Every record, or those of one ``learner`` (an agent key: their statements
    are read through the statement query by agent), or of one ``course`` (the
    keys with an event in it or records saying it: every statement is read
    twice).
    """
    if learner is None and course is None:
        return progress.rebuild(stored_events(statements, on_statement))
    if learner is not None and course is not None:
        raise ValueError("rebuild one learner or one course, not both")
    if learner is not None:
        query = StatementQuery(agent=learner)
        events = (
            event
            for event in stored_events(statements, on_statement, query)
            if event.learner == learner
        )
        return progress.rebuild_part(events, learner=learner)
    # The keys with an event in the course, and those whose records say it.
    keys = {key_of(event) for event in stored_events(statements) if event.course == course}
    keys |= {key_of(summary) for summary in progress.summaries(course=course)}
    events = (event for event in stored_events(statements, on_statement) if key_of(event) in keys)
    return progress.rebuild_part(events, course=course)
