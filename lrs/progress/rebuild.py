"""Progress from the statements stored: every event (for a rebuild), or one key's."""

from collections.abc import Callable, Iterator
from dataclasses import replace

import orjson

from lrs.progress.base import Key, ProgressStore, key_of
from lrs.progress.derive import Event, event_of
from lrs.xapi.statements.base import StatementQuery, StatementStore

# Statements read at a time.
_PAGE = 1000


def stored_events(
    statements: StatementStore,
    on_statement: Callable[[], None] | None = None,
    query: StatementQuery | None = None,
) -> Iterator[Event]:
    """The events of the stored statements that are not voided, oldest first.

    Args:
        statements: the statement store.
        on_statement: called once per statement read (for a progress bar).
        query: which statements (default: all); its order, page and limit
            are this function's.
    """
    query = StatementQuery(ascending=True, limit=_PAGE) if query is None else query
    after = None
    while True:
        records = statements.query(replace(query, ascending=True, limit=_PAGE, after=after))
        for record in records:
            event = event_of(orjson.loads(record.text), record.id, record.stored_us)
            if on_statement is not None:
                on_statement()
            if event is not None:
                yield event
        if len(records) < _PAGE:
            return
        after = (records[-1].stored_us, records[-1].id)


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
) -> int:
    """Forget every progress record and derive them from the statements; return the keys."""
    return progress.rebuild(stored_events(statements, on_statement))
