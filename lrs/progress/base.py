"""The progress store: the records derived from statements, kept current.

A *key* is one learner in one piece of content. Its sessions are a function
of the events of its statements (``lrs.progress.derive``), whatever order
they arrived in, and its summary a function of its sessions; its try
records (``lrs.progress.tries``) are likewise a function of its events,
and its tries of its try records and sessions. The store keeps only those
records; the statements themselves are the raw records, kept by the
statement store. Keeping the records current is one protocol, here, on
backend hooks (``_load``, ``_save``, ``_clear``, and ``_tried`` to read):

1. for each touched key, its sessions, try records and their version are read;
2. each new event joins the sessions it comes within the gap of
   (``derive.with_event``: nothing else is read) and the try records
   (``tries.tries_with``); the sessions near an event taken back (its
   statement voided) and the span of its registration are derived again
   from the key's events as the statement store now holds them
   (``derive.resessioned``, ``tries.tries_without``), and its mark goes;
3. the records are written only if the version is still the one read; else
   it all starts again from the read.

Every field of a session is a join (a minimum, a maximum, the latest), and
so is every try record (a span's bounds; marks, a set by statement id), so
joining an event twice changes nothing. A writer that loses a race starts
again from what the winner wrote, which holds the winner's events, and joins
its own; sessions derived again from the statements may hold events whose
writers have not written yet, and those writers then join them again, which
changes nothing. No backend needs a transaction for this; SQLite runs it in
one (in the POST's), so its writes never conflict.
"""

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, NamedTuple

from lrs.closeable import Closeable
from lrs.progress.derive import (
    ASSESSMENT_TYPE,
    SESSION_GAP_SECONDS,
    ContentSession,
    ContentSummary,
    Event,
    UserSession,
    resessioned,
    summary_of,
    user_sessions_of,
    with_event,
)
from lrs.progress.tries import Attempt, Try, TryRecords, tries_of, tries_with, tries_without
from lrs.retries import attempts

#: A learner's agent key and a content's activity id.
Key = tuple[str, str]
#: The events of one key, as the statements now stored give them.
EventsOf = Callable[[Key], list[Event]]
# Keys written at a time by a rebuild.
_REBUILD_BATCH = 1000


def key_of(record: Event | ContentSummary | ContentSession) -> Key:
    """The key an event, summary or session counts for."""
    return record.learner, record.content


class Write(NamedTuple):
    """A key's records to write, if its version is still the one read (``_save``)."""

    key: Key
    version: int
    sessions: list[ContentSession]
    tries: TryRecords
    summary: ContentSummary | None


class ProgressStore(Closeable, ABC):
    """Progress derived from statements: content sessions, summaries, tries and attempts."""

    #: The gap that ends a session, in microseconds (``LRS_SESSION_GAP_SECONDS``);
    #: records derived with another gap need a rebuild.
    session_gap_us: int = SESSION_GAP_SECONDS * 1_000_000

    def record(
        self,
        events: Sequence[Event],
        voided: Sequence[Event] = (),
        events_of: EventsOf | None = None,
    ) -> None:
        """Count what newly stored statements say, and take back what voided ones said.

        Args:
            events: the events of newly stored statements (an event counted
                already changes nothing).
            voided: the events of statements they void.
            events_of: the events of a key's stored, unvoided statements, as
                they are now (required with ``voided``).
        """
        if voided:
            if events_of is None:
                raise TypeError("taking events back needs events_of")
            # A statement voided in the batch that stores it says nothing.
            gone_ids = {event.statement_id for event in voided}
            events = [event for event in events if event.statement_id not in gone_ids]
        added: dict[Key, list[Event]] = {}
        gone: dict[Key, list[Event]] = {}
        for event in events:
            added.setdefault(key_of(event), []).append(event)
        for event in voided:
            gone.setdefault(key_of(event), []).append(event)
        if not added and not gone:
            return
        with self._transaction():
            keys = sorted(added.keys() | gone.keys())
            # Every key read at once and written at once (one query each where
            # the backend can); a key that loses a race is done again alone.
            loaded = self._load_many(keys)
            writes = []
            for key in keys:
                version, sessions, tries = loaded[key]
                sessions, tries = self._updated(
                    key, sessions, tries, added.get(key, []), gone.get(key, []), events_of
                )
                summary = summary_of(sessions) if sessions else None
                writes.append(Write(key, version, sessions, tries, summary))
            for key in self._save_many(writes):
                self._refresh(key, added.get(key, []), gone.get(key, []), events_of)

    def _updated(
        self,
        key: Key,
        sessions: list[ContentSession],
        tries: TryRecords,
        added: Sequence[Event],
        gone: Sequence[Event],
        events_of: EventsOf | None,
    ) -> tuple[list[ContentSession], TryRecords]:
        """A key's sessions and try records once ``added`` joined and ``gone`` left them."""
        if gone and events_of is not None:
            now = events_of(key)
            times = [event.time_us for event in gone]
            sessions = resessioned(sessions, now, times, self.session_gap_us)
            tries = tries_without(tries, gone, now)
        for event in added:
            sessions = with_event(sessions, event, self.session_gap_us)
            tries = tries_with(tries, event)
        return sessions, tries

    def _refresh(
        self,
        key: Key,
        added: Sequence[Event],
        gone: Sequence[Event],
        events_of: EventsOf | None,
    ) -> None:
        """Bring one key's records up to date (see the module), read again each round."""
        for _ in attempts("a learner's progress"):
            version, sessions, tries = self._load(key)
            sessions, tries = self._updated(key, sessions, tries, added, gone, events_of)
            summary = summary_of(sessions) if sessions else None
            if self._save(key, version, sessions, tries, summary):
                return

    def rebuild(self, events: Iterable[Event]) -> int:
        """Forget every record and derive them again from ``events``; return the keys derived.

        ``events`` are those of every stored statement that is not voided;
        the sessions of every key are held in memory until they are written.
        Statements stored while a rebuild runs may be lost from the records
        until the next rebuild: run it while the server takes no statements.
        """
        derived = self._fold(events)
        with self._transaction():
            self._clear()
        keys = sorted(derived)
        for start in range(0, len(keys), _REBUILD_BATCH):
            with self._transaction():
                part = keys[start : start + _REBUILD_BATCH]
                self._insert_new([(key, *derived[key]) for key in part])
        return len(keys)

    def _insert_new(self, records: Sequence[tuple[Key, list[ContentSession], TryRecords]]) -> None:
        """Write the records of keys that have none (a rebuild's, after ``_clear``).

        One ``_save`` each, unless the backend writes them together; a key
        that a writer created meanwhile is written over by compare-and-set.
        """
        for key, sessions, tries in records:
            if not self._save(key, 0, sessions, tries, summary_of(sessions)):
                self._replace(key, sessions, tries)

    def rebuild_part(
        self, events: Iterable[Event], *, learner: str | None = None, course: str | None = None
    ) -> int:
        """Derive again the records of one learner, or of one course; return the keys derived.

        Args:
            events: every event of the keys in question (those of the
                learner; those of the keys with an event in the course).
            learner: the learner whose records are derived again.
            course: the course whose records are derived again.

        Keys that have records in that part and no event any more lose them;
        records of other keys are left as they are.
        """
        derived = self._fold(events)
        held = {key_of(summary) for summary in self.summaries(learner=learner, course=course)}
        keys = sorted(derived.keys() | held)
        for start in range(0, len(keys), _REBUILD_BATCH):
            with self._transaction():
                for key in keys[start : start + _REBUILD_BATCH]:
                    self._replace(key, *derived.get(key, ([], TryRecords())))
        return len(derived)

    def _fold(self, events: Iterable[Event]) -> dict[Key, tuple[list[ContentSession], TryRecords]]:
        """The sessions and try records of every key of ``events``, held in memory."""
        derived: dict[Key, tuple[list[ContentSession], TryRecords]] = {}
        for event in events:
            key = key_of(event)
            sessions, tries = derived.get(key, ([], TryRecords()))
            derived[key] = (
                with_event(sessions, event, self.session_gap_us),
                tries_with(tries, event),
            )
        return derived

    def _replace(self, key: Key, sessions: list[ContentSession], tries: TryRecords) -> None:
        for _ in attempts("a learner's progress"):
            version, _, _ = self._load(key)
            summary = summary_of(sessions) if sessions else None
            if self._save(key, version, sessions, tries, summary):
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

    def tries(
        self,
        *,
        learner: str | None = None,
        content: str | None = None,
        course: str | None = None,
        kind: str | None = None,
    ) -> list[Try]:
        """The tries that match every filter given, by learner, content, start, registration.

        ``kind``: only in contents of that activity type (their summary's).
        """
        return [
            found
            for summary, sessions, records in self._tried(learner, content, course)
            if kind is None or summary.kind == kind
            for found in tries_of(summary.learner, summary.content, sessions, records)
        ]

    def attempts(
        self,
        *,
        learner: str | None = None,
        content: str | None = None,
        course: str | None = None,
        kind: str | None = None,
    ) -> list[Attempt]:
        """The attempts of the tries that match every filter given, in the tries' order."""
        return [
            attempt
            for found in self.tries(learner=learner, content=content, course=course, kind=kind)
            for attempt in found.attempts
        ]

    def exams(
        self, *, learner: str | None = None, content: str | None = None, course: str | None = None
    ) -> list[ContentSummary]:
        """The summaries of exams (contents of type assessment), by learner then content."""
        return [
            summary
            for summary in self.summaries(learner=learner, content=content, course=course)
            if summary.kind == ASSESSMENT_TYPE
        ]

    def user_sessions(
        self,
        *,
        learner: str | None = None,
        course: str | None = None,
        within: frozenset[str] | None = None,
    ) -> list[UserSession]:
        """The user sessions of learners (of one, or those touching a course), by learner, start.

        Derived when asked from the learners' content sessions
        (``derive.user_sessions_of``); with ``course``, the sessions of
        learners who have progress in it, that touched it. With ``within``,
        made of the content sessions of those courses only (what a coach may
        see of a learner who also learns elsewhere).
        """
        if within is not None:
            parts = [
                item
                for name in sorted(within)
                for item in self.sessions(learner=learner, course=name)
            ]
            found = user_sessions_of(parts, self.session_gap_us)
            return [session for session in found if course is None or course in session.courses]
        if course is not None:
            learners = {summary.learner for summary in self.summaries(course=course)}
            if learner is not None:
                learners &= {learner}
            found = [
                session
                for name in sorted(learners)
                for session in user_sessions_of(self.sessions(learner=name), self.session_gap_us)
            ]
            return [session for session in found if course in session.courses]
        return user_sessions_of(self.sessions(learner=learner), self.session_gap_us)

    # Backend hooks (see the module's text).

    def _transaction(self) -> AbstractContextManager[Any]:
        """A transaction around one step, where the backend has them."""
        return nullcontext()

    @abstractmethod
    def _tried(
        self, learner: str | None, content: str | None, course: str | None
    ) -> list[tuple[ContentSummary, list[ContentSession], TryRecords]]:
        """Summary, sessions and try records of the keys with try records passing the filters.

        By learner, then content.
        """

    @abstractmethod
    def _load(self, key: Key) -> tuple[int, list[ContentSession], TryRecords]:
        """A key's version (0 when it has never been written), sessions (oldest first), tries."""

    def _load_many(
        self, keys: Sequence[Key]
    ) -> dict[Key, tuple[int, list[ContentSession], TryRecords]]:
        """``_load`` of each key; a backend that can reads them in one query."""
        return {key: self._load(key) for key in keys}

    def _save_many(self, writes: Sequence["Write"]) -> list[Key]:
        """``_save`` of each write; return the keys whose version had changed (nothing written).

        A backend that can writes them together, each still on its condition.
        """
        return [
            write.key
            for write in writes
            if not self._save(write.key, write.version, write.sessions, write.tries, write.summary)
        ]

    @abstractmethod
    def _save(
        self,
        key: Key,
        version: int,
        sessions: Sequence[ContentSession],
        tries: TryRecords,
        summary: ContentSummary | None,
    ) -> bool:
        """Write a key's records if its version is still ``version``; say if it was.

        The write makes the version ``version + 1``. ``summary`` is ``None``
        when the key has no events left: its records are then removed, and
        its version is 0 again.
        """

    @abstractmethod
    def _clear(self) -> None:
        """Remove every record."""
