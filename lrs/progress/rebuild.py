"""Deriving every progress record again from the statements stored."""

from collections.abc import Callable, Iterator

import orjson

from lrs.progress.base import ProgressStore
from lrs.progress.derive import Event, event_of
from lrs.xapi.statements.base import StatementQuery, StatementStore

# Statements read at a time.
_PAGE = 1000


def stored_events(
    statements: StatementStore, on_statement: Callable[[], None] | None = None
) -> Iterator[Event]:
    """The events of every stored statement that is not voided, oldest first.

    Args:
        statements: the statement store.
        on_statement: called once per statement read (for a progress bar).
    """
    after = None
    while True:
        records = statements.query(StatementQuery(ascending=True, limit=_PAGE, after=after))
        for record in records:
            event = event_of(orjson.loads(record.text), record.id, record.stored_us)
            if on_statement is not None:
                on_statement()
            if event is not None:
                yield event
        if len(records) < _PAGE:
            return
        after = (records[-1].stored_us, records[-1].id)


def rebuild(
    progress: ProgressStore,
    statements: StatementStore,
    on_statement: Callable[[], None] | None = None,
) -> int:
    """Forget every progress record and derive them from the statements; return the keys."""
    return progress.rebuild(stored_events(statements, on_statement))
