"""The progress store: events from statements, and the sessions and summaries derived from them.

The records of one learner in one piece of content (a *key*) are always
derived again from all of that key's events, so that they never depend on the
order in which statements arrived. Keeping them current under concurrent
writers is one protocol, here, on small backend hooks:

1. the new events are added (each once, by statement id), and those of voided
   statements removed;
2. each touched key's counter is incremented, which returns its new value;
3. the key's events are read, its records derived, and written only if no
   writer holding a higher counter has written them already.

The writer that holds a key's highest counter read its events after every
writer with a lower one had added theirs (steps 1 and 2 come in that order),
so the records last written are derived from every event added. No backend
needs a transaction for this, though SQLite runs it in one.
"""

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from lrs.closeable import Closeable
from lrs.progress.derive import (
    SESSION_GAP_SECONDS,
    ContentSession,
    ContentSummary,
    Event,
    sessions_of,
    summary_of,
)

#: A learner's agent key and a content's activity id.
Key = tuple[str, str]
# Events added at a time by a rebuild.
_REBUILD_BATCH = 1000


class ProgressStore(Closeable, ABC):
    """Progress derived from statements: content sessions and content summaries."""

    #: The gap that ends a session, in microseconds (``LRS_SESSION_GAP_SECONDS``);
    #: records derived with another gap need a rebuild.
    session_gap_us: int = SESSION_GAP_SECONDS * 1_000_000

    def record(self, events: Sequence[Event], voided: Sequence[str] = ()) -> None:
        """Add what new statements say, take back what voided ones said, and update their keys.

        Args:
            events: the events of newly stored statements (a statement stored
                before gives none: see ``event_of``).
            voided: ids of statements voided by them.
        """
        if not events and not voided:
            return
        with self._transaction():
            keys = {(event.learner, event.content) for event in events}
            if voided:
                keys |= self._remove_events(voided)
            if events:
                self._add_events(events)
            self._update(keys)

    def rebuild(self, events: Iterable[Event]) -> int:
        """Forget every record and derive them again from ``events``; return the keys derived.

        ``events`` are those of every stored statement that is not voided.
        Statements stored while a rebuild runs may be lost from the records
        until the next rebuild: run it while the server does not take
        statements.
        """
        with self._transaction():
            self._clear()
        keys: set[Key] = set()
        for batch in _batches(events, _REBUILD_BATCH):
            with self._transaction():
                self._add_events(batch)
            keys.update((event.learner, event.content) for event in batch)
        for batch_keys in _batches(sorted(keys), _REBUILD_BATCH):
            with self._transaction():
                self._update(set(batch_keys))
        return len(keys)

    def _update(self, keys: set[Key]) -> None:
        ordered = sorted(keys)
        counters = self._bump(ordered)
        for key in ordered:
            events = self._events(key)
            if events:
                sessions = sessions_of(events, self.session_gap_us)
                self._write(key, counters[key], summary_of(events, sessions), sessions)
            else:
                self._write(key, counters[key], None, [])

    @abstractmethod
    def summaries(
        self, *, learner: str | None = None, content: str | None = None, course: str | None = None
    ) -> list[ContentSummary]:
        """The content summaries that match every filter given, by learner then content."""

    @abstractmethod
    def sessions(
        self, *, learner: str | None = None, content: str | None = None, course: str | None = None
    ) -> list[ContentSession]:
        """The content sessions that match every filter given, by learner, content, then start."""

    # Backend hooks (see the module's text).

    def _transaction(self) -> AbstractContextManager[Any]:
        """A transaction around one step, where the backend has them."""
        return nullcontext()

    @abstractmethod
    def _add_events(self, events: Sequence[Event]) -> None:
        """Add events; one whose statement id is held already is left as it is."""

    @abstractmethod
    def _remove_events(self, statement_ids: Sequence[str]) -> set[Key]:
        """Remove the events of these statements; return the keys they were under."""

    @abstractmethod
    def _bump(self, keys: Sequence[Key]) -> dict[Key, int]:
        """Increment each key's counter (from 0); return the new values."""

    @abstractmethod
    def _events(self, key: Key) -> list[Event]:
        """Every event of a key."""

    @abstractmethod
    def _write(
        self,
        key: Key,
        counter: int,
        summary: ContentSummary | None,
        sessions: Sequence[ContentSession],
    ) -> None:
        """Write a key's records, unless they were written with ``counter`` or a higher one.

        ``summary`` is ``None`` when the key has no events left: it has no records.
        """

    @abstractmethod
    def _clear(self) -> None:
        """Remove every event, counter and record."""


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def matches(
    summary: ContentSummary, learner: str | None, content: str | None, course: str | None
) -> bool:
    """Whether a summary (and so its sessions) passes the filters given."""
    return (
        (learner is None or summary.learner == learner)
        and (content is None or summary.content == content)
        and (course is None or summary.course == course)
    )
