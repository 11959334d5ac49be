"""Progress in this process's memory: dicts under one lock."""

import bisect
import threading
from collections.abc import Sequence

from lrs.progress.base import Key, ProgressStore, matches
from lrs.progress.derive import ContentSession, ContentSummary, Event


class MemoryProgressStore(ProgressStore):
    """Events, sessions and summaries in dicts; each hook holds the lock."""

    def __init__(self) -> None:
        """An empty store."""
        self._lock = threading.Lock()
        self._events_by_id: dict[str, Event] = {}
        # Per key, its events sorted by (time, statement id).
        self._timeline: dict[Key, list[tuple[int, str]]] = {}
        # Per key: its version, sessions and summary.
        self._records: dict[Key, tuple[int, list[ContentSession], ContentSummary | None]] = {}

    def summaries(
        self, *, learner: str | None = None, content: str | None = None, course: str | None = None
    ) -> list[ContentSummary]:
        """The content summaries that match every filter given, by learner then content."""
        with self._lock:
            found = [summary for _, _, summary in self._records.values() if summary is not None]
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
            for _, sessions, summary in records
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
                    timeline = self._timeline.setdefault((event.learner, event.content), [])
                    bisect.insort(timeline, (event.time_us, event.statement_id))

    def _remove_events(self, statement_ids: Sequence[str]) -> list[Event]:
        removed = []
        with self._lock:
            for statement_id in statement_ids:
                event = self._events_by_id.pop(statement_id, None)
                if event is not None:
                    timeline = self._timeline[(event.learner, event.content)]
                    del timeline[bisect.bisect_left(timeline, (event.time_us, statement_id))]
                    removed.append(event)
        return removed

    def _events_between(self, key: Key, first_us: int, last_us: int) -> list[Event]:
        with self._lock:
            timeline = self._timeline.get(key, [])
            start = bisect.bisect_left(timeline, (first_us, ""))
            end = bisect.bisect_left(timeline, (last_us + 1, ""))
            return [self._events_by_id[statement_id] for _, statement_id in timeline[start:end]]

    def _load(self, key: Key) -> tuple[int, list[ContentSession]]:
        with self._lock:
            version, sessions, _ = self._records.get(key, (0, [], None))
            return version, list(sessions)

    def _save(
        self,
        key: Key,
        version: int,
        sessions: Sequence[ContentSession],
        summary: ContentSummary | None,
    ) -> bool:
        with self._lock:
            if self._records.get(key, (0, [], None))[0] != version:
                return False
            self._records[key] = (version + 1, list(sessions), summary)
            return True

    def _clear(self) -> None:
        with self._lock:
            self._events_by_id.clear()
            self._timeline.clear()
            self._records.clear()
