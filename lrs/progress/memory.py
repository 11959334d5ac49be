"""Progress in this process's memory: a dict under one lock.

Sessions, try records and summaries are kept as plain tuples, which Python's garbage
collector stops tracking (named tuples it walks at every full collection).
"""

import threading
from collections.abc import Sequence
from typing import Any

from lrs.progress.base import Key, ProgressStore
from lrs.progress.derive import ContentSession, ContentSummary
from lrs.progress.tries import Mark, Span, TryRecords

# Where a summary's tuple holds what the filters look at.
_LEARNER, _CONTENT, _COURSE = map(ContentSummary._fields.index, ("learner", "content", "course"))
# A key's version, sessions, summary, and try records (spans, marks), as plain tuples.
_Plain = tuple[tuple[Any, ...], ...]
_Held = tuple[int, _Plain, tuple[Any, ...] | None, tuple[_Plain, _Plain]]
_NOTHING: _Held = (0, (), None, ((), ()))


class MemoryProgressStore(ProgressStore):
    """Sessions and summaries in a dict; each hook holds the lock."""

    def __init__(self) -> None:
        """An empty store."""
        self._lock = threading.Lock()
        self._records: dict[Key, _Held] = {}
        # Each learner's contents: a learner's records without a walk of all.
        self._contents: dict[str, set[str]] = {}

    def summaries(
        self, *, learner: str | None = None, content: str | None = None, course: str | None = None
    ) -> list[ContentSummary]:
        """The content summaries that match every filter given, by learner then content."""
        make = ContentSummary._make  # tuple.__new__ without the keyword handling
        matching = self._matching(learner, content, course)
        found = [make(summary) for _, _, summary, _ in matching if summary is not None]
        # Tuples sort by learner, then content (unique per summary): no key function.
        return sorted(found)

    def sessions(
        self, *, learner: str | None = None, content: str | None = None, course: str | None = None
    ) -> list[ContentSession]:
        """The content sessions that match every filter given, by learner, content, then start."""
        found = [
            ContentSession(*session)
            for _, sessions, _, _ in self._matching(learner, content, course)
            for session in sessions
        ]
        return sorted(
            found, key=lambda session: (session.learner, session.content, session.start_us)
        )

    def _tried(
        self, learner: str | None, content: str | None, course: str | None
    ) -> list[tuple[ContentSummary, list[ContentSession], TryRecords]]:
        found = [
            (
                ContentSummary._make(summary),
                [ContentSession(*session) for session in sessions],
                _try_records(tries),
            )
            for _, sessions, summary, tries in self._matching(learner, content, course)
            if tries[1] and summary is not None
        ]
        return sorted(found, key=lambda item: (item[0].learner, item[0].content))

    def _matching(
        self, learner: str | None, content: str | None, course: str | None
    ) -> list[_Held]:
        """The records of every key whose summary passes the filters given.

        Filtered on the plain tuples, before any record is built.
        """
        with self._lock:
            if learner is None:
                records = list(self._records.values())
            else:
                mine = self._contents.get(learner, ())
                records = [self._records[(learner, item)] for item in mine]
        return [
            record
            for record in records
            if (summary := record[2]) is not None
            and (learner is None or summary[_LEARNER] == learner)
            and (content is None or summary[_CONTENT] == content)
            and (course is None or summary[_COURSE] == course)
        ]

    def _load(self, key: Key) -> tuple[int, list[ContentSession], TryRecords]:
        with self._lock:
            version, sessions, _, tries = self._records.get(key, _NOTHING)
        make = ContentSession._make  # tuple.__new__ without the keyword handling
        return version, [make(session) for session in sessions], _try_records(tries)

    def _save(
        self,
        key: Key,
        version: int,
        sessions: Sequence[ContentSession],
        tries: TryRecords,
        summary: ContentSummary | None,
    ) -> bool:
        with self._lock:
            if self._records.get(key, _NOTHING)[0] != version:
                return False
            learner, content = key
            if summary is None:
                # No events left: nothing is kept of the key (not its learner either).
                if self._records.pop(key, None) is not None:
                    contents = self._contents[learner]
                    contents.discard(content)
                    if not contents:
                        del self._contents[learner]
                return True
            self._contents.setdefault(learner, set()).add(content)
            self._records[key] = (
                version + 1,
                tuple(tuple(session) for session in sessions),
                None if summary is None else tuple(summary),
                _plain(tries),
            )
            return True

    def _clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._contents.clear()


def _try_records(plain: tuple[_Plain, _Plain]) -> TryRecords:
    spans, marks = plain
    if not spans and not marks:
        return _NO_TRIES
    return TryRecords(tuple(map(Span._make, spans)), tuple(map(Mark._make, marks)))


def _plain(tries: TryRecords) -> tuple[_Plain, _Plain]:
    if not tries.spans and not tries.marks:
        return ((), ())
    return tuple(map(tuple, tries.spans)), tuple(map(tuple, tries.marks))


_NO_TRIES = TryRecords()
