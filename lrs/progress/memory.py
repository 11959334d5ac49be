"""Progress in this process's memory: dicts under one lock."""

import threading
from collections.abc import Sequence

from lrs.progress.base import Key, ProgressStore, matches
from lrs.progress.derive import ContentSession, ContentSummary, Event


class MemoryProgressStore(ProgressStore):
    """Events, counters and records in dicts; each hook holds the lock."""

    def __init__(self) -> None:
        """An empty store."""
        self._lock = threading.Lock()
        self._events_by_id: dict[str, Event] = {}
        self._ids_by_key: dict[Key, set[str]] = {}
        self._counters: dict[Key, int] = {}
        # Per key: the counter it was written with, its summary and sessions.
        self._records: dict[Key, tuple[int, ContentSummary | None, list[ContentSession]]] = {}

    def summaries(
        self, *, learner: str | None = None, content: str | None = None, course: str | None = None
    ) -> list[ContentSummary]:
        """The content summaries that match every filter given, by learner then content."""
        with self._lock:
            found = [summary for _, summary, _ in self._records.values() if summary is not None]
        return sorted(
            (summary for summary in found if matches(summary, learner, content, course)),
            key=lambda summary: (summary.learner, summary.content),
        )

    def sessions(
        self, *, learner: str | None = None, content: str | None = None, course: str | None = None
    ) -> list[ContentSession]:
        """The content sessions that match every filter given, by learner, content, then start."""
        with self._lock:
            records = list(self._records.values())
        found = [
            session
            for _, summary, sessions in records
            if summary is not None and matches(summary, learner, content, course)
            for session in sessions
        ]
        return sorted(
            found, key=lambda session: (session.learner, session.content, session.start_us)
        )

    def _add_events(self, events: Sequence[Event]) -> None:
        with self._lock:
            for event in events:
                if event.statement_id not in self._events_by_id:
                    self._events_by_id[event.statement_id] = event
                    key = (event.learner, event.content)
                    self._ids_by_key.setdefault(key, set()).add(event.statement_id)

    def _remove_events(self, statement_ids: Sequence[str]) -> set[Key]:
        keys = set()
        with self._lock:
            for statement_id in statement_ids:
                event = self._events_by_id.pop(statement_id, None)
                if event is not None:
                    key = (event.learner, event.content)
                    self._ids_by_key[key].discard(statement_id)
                    keys.add(key)
        return keys

    def _bump(self, keys: Sequence[Key]) -> dict[Key, int]:
        with self._lock:
            for key in keys:
                self._counters[key] = self._counters.get(key, 0) + 1
            return {key: self._counters[key] for key in keys}

    def _events(self, key: Key) -> list[Event]:
        with self._lock:
            return [self._events_by_id[item] for item in self._ids_by_key.get(key, ())]

    def _write(
        self,
        key: Key,
        counter: int,
        summary: ContentSummary | None,
        sessions: Sequence[ContentSession],
    ) -> None:
        with self._lock:
            written = self._records.get(key)
            if written is None or written[0] < counter:
                self._records[key] = (counter, summary, list(sessions))

    def _clear(self) -> None:
        with self._lock:
            self._events_by_id.clear()
            self._ids_by_key.clear()
            self._counters.clear()
            self._records.clear()
