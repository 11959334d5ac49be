"""Progress in a SQLite file: the ``progress`` table (see ``lrs.sqlite_schema``).

Each step of the protocol of ``lrs.progress.base`` runs in a write
transaction (joining the POST's when there is one), so versions never
conflict here; they are kept all the same.
"""

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from lrs.progress.base import Key, ProgressStore, Write
from lrs.progress.derive import ContentSession, ContentSummary, session_from
from lrs.progress.tries import TryRecords, try_records_from
from lrs.sqlite import SqliteDatabase, pack_json, translate_errors, unpack_json

# Parameters bound at once by a batch's read (SQLite binds at least 32,766).
_BOUND_AT_ONCE = 2_000
# A summary's columns: the fields of ContentSummary after learner and content.
_SUMMARY = (
    "kind",
    "course",
    "first_us",
    "last_us",
    "completion_us",
    "time_spent_us",
    "progress",
    "sessions",
    "closed_us",
    "score",
    "success",
)
_SUMMARY_READ = "learner, content, " + ", ".join(_SUMMARY)
_INSERT = (
    f"INSERT OR IGNORE INTO progress (learner, content, version, {', '.join(_SUMMARY)}, tried, "
    f"records) VALUES (?, ?, 1, {', '.join('?' * len(_SUMMARY))}, ?, ?)"
)
_UPDATE = (
    f"UPDATE progress SET version = version + 1, {', '.join(f'{name} = ?' for name in _SUMMARY)}, "
    "tried = ?, records = ? WHERE learner = ? AND content = ? AND version = ?"
)
# A join, so that each key is a search of by_key ("(learner, content) IN
# (VALUES …)" scans the whole table).
_LOAD_MANY = (
    "SELECT p.learner, p.content, p.version, p.records FROM (VALUES {marks}) AS k "
    "JOIN progress p ON p.learner = k.column1 AND p.content = k.column2"
)


def _values(write: Write) -> tuple[Any, ...]:
    """The summary's, tried and records columns of a key's row (its summary is not None)."""
    summary, tries = write.summary, write.tries
    assert summary is not None
    tried = bool(tries.marks or tries.spans)
    records = [[list(session) for session in write.sessions], tries.to_json() if tried else None]
    return (*summary[2:], int(tried), pack_json(records))


def _summary(row: Sequence[Any]) -> ContentSummary:
    """A summary from its row (learner, content, then ``_SUMMARY``'s columns)."""
    success = row[-1]
    return ContentSummary._make((*row[:-1], None if success is None else bool(success)))


def _loaded(version: int, records: bytes) -> tuple[int, list[ContentSession], TryRecords]:
    sessions, tries = unpack_json(records)
    return version, [session_from(session) for session in sessions], try_records_from(tries)


class SqliteProgressStore(ProgressStore):
    """Sessions, try records and summaries in a table of a SQLite file."""

    def __init__(self, database: SqliteDatabase) -> None:
        """Keep progress in ``database``."""
        self._database = database

    def summaries(
        self, *, learner: str | None = None, content: str | None = None, course: str | None = None
    ) -> list[ContentSummary]:
        """The content summaries that match every filter given, by learner then content."""
        # Only the summary's columns: a course report reads thousands.
        return [_summary(row) for row in self._rows(_SUMMARY_READ, learner, content, course)]

    def sessions(
        self, *, learner: str | None = None, content: str | None = None, course: str | None = None
    ) -> list[ContentSession]:
        """The content sessions that match every filter given, by learner, content, then start."""
        return [
            session_from(session)
            for (records,) in self._rows("records", learner, content, course)
            for session in unpack_json(records)[0]
        ]

    def _tried(
        self, learner: str | None, content: str | None, course: str | None
    ) -> list[tuple[ContentSummary, list[ContentSession], TryRecords]]:
        found = []
        for *summary, records in self._rows(
            f"{_SUMMARY_READ}, records", learner, content, course, tried=True
        ):
            sessions, tries = unpack_json(records)
            found.append(
                (
                    _summary(summary),
                    [session_from(session) for session in sessions],
                    try_records_from(tries),
                )
            )
        return found

    def _rows(
        self,
        columns: str,
        learner: str | None,
        content: str | None,
        course: str | None,
        *,
        tried: bool = False,
    ) -> list[Any]:
        """``columns`` of the keys that match, by learner then content."""
        conditions: list[str] = []
        values: list[str] = []
        if tried:
            conditions.append("tried = 1")
        for name, value in (("learner", learner), ("content", content), ("course", course)):
            if value is not None:
                conditions.append(f"{name} = ?")
                values.append(value)
        with translate_errors():
            return (
                self._database.connection()
                .execute(
                    f"SELECT {columns} FROM progress "
                    f"WHERE {' AND '.join(conditions) or 'true'} ORDER BY learner, content",
                    values,
                )
                .fetchall()
            )

    def _transaction(self) -> AbstractContextManager[Any]:
        return self._database.transaction()

    def _load(self, key: Key) -> tuple[int, list[ContentSession], TryRecords]:
        row = (
            self._database.connection()
            .execute("SELECT version, records FROM progress WHERE learner = ? AND content = ?", key)
            .fetchone()
        )
        return (0, [], TryRecords()) if row is None else _loaded(*row)

    def _load_many(
        self, keys: Sequence[Key]
    ) -> dict[Key, tuple[int, list[ContentSession], TryRecords]]:
        # One query for a batch's keys: a join of their list with by_key.
        found: dict[Key, tuple[int, list[ContentSession], TryRecords]] = {}
        connection = self._database.connection()
        flat = [part for key in keys for part in key]
        for start in range(0, len(flat), _BOUND_AT_ONCE):
            chunk = flat[start : start + _BOUND_AT_ONCE]
            marks = ", ".join(["(?, ?)"] * (len(chunk) // 2))
            rows = connection.execute(_LOAD_MANY.format(marks=marks), chunk)
            for learner, content, version, records in rows:
                found[learner, content] = _loaded(version, records)
        return {key: found.get(key) or (0, [], TryRecords()) for key in keys}

    def _save_many(self, writes: Sequence[Write]) -> list[Key]:
        # Under the write lock no version changes between the read and these
        # writes: new keys are inserted in one statement, changed ones updated
        # in another, each still on its version. Should the count of rows
        # written fall short all the same, every key is reported lost and done
        # again from what is stored (events are joins: counted twice is once).
        kept = [write for write in writes if write.summary is not None]
        lost = [write.key for write in writes if write.summary is None and not self._save(*write)]
        new = [(*write.key, *_values(write)) for write in kept if write.version == 0]
        changed = [
            (*_values(write), *write.key, write.version) for write in kept if write.version != 0
        ]
        connection = self._database.connection()
        written = 0
        if new:
            written += connection.executemany(_INSERT, new).rowcount
        if changed:
            written += connection.executemany(_UPDATE, changed).rowcount
        if written == len(kept):
            return lost
        return lost + [write.key for write in kept]

    def _save(
        self,
        key: Key,
        version: int,
        sessions: Sequence[ContentSession],
        tries: TryRecords,
        summary: ContentSummary | None,
    ) -> bool:
        connection = self._database.connection()
        if summary is None:
            # No events left: nothing is kept of the key (not its learner either).
            cursor = connection.execute(
                "DELETE FROM progress WHERE learner = ? AND content = ? AND version = ?",
                (*key, version),
            )
            if cursor.rowcount == 1:
                return True
            held = connection.execute(
                "SELECT 1 FROM progress WHERE learner = ? AND content = ?", key
            ).fetchone()
            return version == 0 and held is None
        values = _values(Write(key, version, list(sessions), tries, summary))
        if version == 0:
            cursor = connection.execute(
                _INSERT,
                (*key, *values),
            )
        else:
            cursor = connection.execute(_UPDATE, (*values, *key, version))
        return cursor.rowcount == 1

    def _clear(self) -> None:
        self._database.connection().execute("DELETE FROM progress")
