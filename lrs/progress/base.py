"""The progress store: events from statements, and the sessions and summaries derived from them.

A *key* is one learner in one piece of content. Its sessions are a function
of its events (``lrs.progress.derive``), whatever order they arrived in, and
its summary a function of its sessions. Keeping them current is one protocol,
here, on small backend hooks:

1. the new events are added (each once, by statement id), and those of
   voided statements removed;
2. for each touched key: its sessions and their version are read; each new
   event joins the sessions it comes within the gap of
   (``derive.with_event``: no event is read), and the sessions near a removed
   event are derived again from the events now held between their bounds
   (``derive.resessioned``); sessions and summary are then written only if
   the version is still the one read, else it all starts again from the read.

Every field of a session is a join (minimum, maximum, latest), so joining an
event twice changes nothing. A writer that loses a race starts again from
what the winner wrote, which holds the winner's events, and joins its own; a
removal that derives sessions again may read events whose writers have not
written yet, and those writers then join them again, which changes nothing.
No backend needs a transaction for this; SQLite runs it in one (in the
POST's), so its writes never conflict.
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
    resessioned,
    sessions_of,
    summary_of,
    with_event,
)

#: A learner's agent key and a content's activity id.
Key = tuple[str, str]
# Events added at a time by a rebuild.
_REBUILD_BATCH = 1000
# The first and last microseconds there are: a window that holds every event.
_ALWAYS = (-(2**62), 2**62)


class ProgressStore(Closeable, ABC):
    """Progress derived from statements: content sessions and content summaries."""

    #: The gap that ends a session, in microseconds (``LRS_SESSION_GAP_SECONDS``);
    #: records derived with another gap need a rebuild.
    session_gap_us: int = SESSION_GAP_SECONDS * 1_000_000

    def record(self, events: Sequence[Event], voided: Sequence[str] = ()) -> None:
        """Add what new statements say, take back what voided ones said, and update their keys.

        Args:
            events: the events of newly stored statements (a statement held
                already changes nothing).
            voided: ids of statements voided by them.
        """
        if not events and not voided:
            return
        with self._transaction():
            removed = self._remove_events(voided) if voided else []
            if events:
                self._add_events(events)
            added: dict[Key, list[Event]] = {}
            gone: dict[Key, list[int]] = {}
            for event in events:
                added.setdefault((event.learner, event.content), []).append(event)
            for event in removed:
                gone.setdefault((event.learner, event.content), []).append(event.time_us)
            for key in sorted(added.keys() | gone.keys()):
                self._refresh(key, added.get(key, []), gone.get(key, []))

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
                for key in batch_keys:
                    self._derive(key)
        return len(keys)

    def _derive(self, key: Key) -> None:
        """Derive a key's records from all of its events (for a rebuild)."""
        while True:
            version, _ = self._load(key)
            sessions = sessions_of(self._events_between(key, *_ALWAYS), self.session_gap_us)
            if self._save(key, version, sessions, summary_of(sessions) if sessions else None):
                return

    def _refresh(self, key: Key, added: Sequence[Event], removed_us: Sequence[int]) -> None:
        """Bring a key's records up to date with events added and removed (see the module)."""
        while True:
            version, sessions = self._load(key)
            if removed_us:
                sessions = resessioned(
                    sessions,
                    lambda first, last: self._events_between(key, first, last),
                    removed_us,
                    self.session_gap_us,
                )
            for event in added:
                sessions = with_event(sessions, event, self.session_gap_us)
            if self._save(key, version, sessions, summary_of(sessions) if sessions else None):
                return

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
    def _remove_events(self, statement_ids: Sequence[str]) -> list[Event]:
        """Remove the events of these statements; return those there were."""

    @abstractmethod
    def _events_between(self, key: Key, first_us: int, last_us: int) -> list[Event]:
        """A key's events with times from ``first_us`` to ``last_us``, both included."""

    @abstractmethod
    def _load(self, key: Key) -> tuple[int, list[ContentSession]]:
        """A key's version (0 when it has never been written) and sessions, oldest first."""

    @abstractmethod
    def _save(
        self,
        key: Key,
        version: int,
        sessions: Sequence[ContentSession],
        summary: ContentSummary | None,
    ) -> bool:
        """Write a key's sessions and summary if its version is still ``version``; say if it was.

        The write makes the version ``version + 1``. ``summary`` is ``None``
        when the key has no events left: it then has no records.
        """

    @abstractmethod
    def _clear(self) -> None:
        """Remove every event and record."""


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
