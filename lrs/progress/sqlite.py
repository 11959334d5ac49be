"""Progress in a SQLite file: ``progress_events`` and ``progress`` (see ``lrs.sqlite_schema``).

Each step of the protocol of ``lrs.progress.base`` runs in a write
transaction (joining the POST's when there is one): on SQLite the counters
are never needed to break a race, and are kept all the same.
"""

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

import orjson

from lrs.progress.base import Key, ProgressStore
from lrs.progress.derive import ContentSession, ContentSummary, Event
from lrs.sqlite import SqliteDatabase, rows_in, translate_errors


class SqliteProgressStore(ProgressStore):
    """Events and records of progress in tables of a SQLite file."""

    def __init__(self, database: SqliteDatabase) -> None:
        """Keep progress in ``database``."""
        self._database = database

    def summaries(
        self, *, learner: str | None = None, content: str | None = None, course: str | None = None
    ) -> list[ContentSummary]:
        """The content summaries that match every filter given, by learner then content."""
        return [
            ContentSummary(*orjson.loads(row[0]))
            for row in self._rows("summary", learner, content, course)
        ]

    def sessions(
        self, *, learner: str | None = None, content: str | None = None, course: str | None = None
    ) -> list[ContentSession]:
        """The content sessions that match every filter given, by learner, content, then start."""
        return [
            ContentSession(*session)
            for row in self._rows("sessions", learner, content, course)
            for session in orjson.loads(row[0])
        ]

    def _rows(
        self, column: str, learner: str | None, content: str | None, course: str | None
    ) -> list[Any]:
        conditions, values = ["summary IS NOT NULL"], []
        for name, value in (("learner", learner), ("content", content), ("course", course)):
            if value is not None:
                conditions.append(f"{name} = ?")
                values.append(value)
        with translate_errors():
            return (
                self._database.connection()
                .execute(
                    f"SELECT {column} FROM progress WHERE {' AND '.join(conditions)} "
                    "ORDER BY learner, content",
                    values,
                )
                .fetchall()
            )

    def _transaction(self) -> AbstractContextManager[Any]:
        return self._database.transaction()

    def _add_events(self, events: Sequence[Event]) -> None:
        self._database.connection().executemany(
            "INSERT OR IGNORE INTO progress_events (statement_id, learner, content, event) "
            "VALUES (?, ?, ?, ?)",
            [
                (
                    event.statement_id,
                    event.learner,
                    event.content,
                    orjson.dumps(list(event)).decode(),
                )
                for event in events
            ],
        )

    def _remove_events(self, statement_ids: Sequence[str]) -> set[Key]:
        connection = self._database.connection()
        keys = set(
            rows_in(
                connection,
                "SELECT learner, content FROM progress_events WHERE statement_id IN ({marks})",
                list(statement_ids),
            )
        )
        connection.executemany(
            "DELETE FROM progress_events WHERE statement_id = ?",
            [(item,) for item in statement_ids],
        )
        return {(learner, content) for learner, content in keys}

    def _bump(self, keys: Sequence[Key]) -> dict[Key, int]:
        connection = self._database.connection()
        counters = {}
        for key in keys:
            connection.execute(
                "INSERT INTO progress (learner, content, counter, written) VALUES (?, ?, 1, 0) "
                "ON CONFLICT (learner, content) DO UPDATE SET counter = counter + 1",
                key,
            )
            (counters[key],) = connection.execute(
                "SELECT counter FROM progress WHERE learner = ? AND content = ?", key
            ).fetchone()
        return counters

    def _events(self, key: Key) -> list[Event]:
        rows = self._database.connection().execute(
            "SELECT event FROM progress_events WHERE learner = ? AND content = ?", key
        )
        return [Event(*orjson.loads(row[0])) for row in rows]

    def _write(
        self,
        key: Key,
        counter: int,
        summary: ContentSummary | None,
        sessions: Sequence[ContentSession],
    ) -> None:
        self._database.connection().execute(
            "UPDATE progress SET written = ?, course = ?, summary = ?, sessions = ? "
            "WHERE learner = ? AND content = ? AND written < ?",
            (
                counter,
                None if summary is None else summary.course,
                None if summary is None else orjson.dumps(list(summary)).decode(),
                orjson.dumps([list(session) for session in sessions]).decode(),
                *key,
                counter,
            ),
        )

    def _clear(self) -> None:
        connection = self._database.connection()
        connection.execute("DELETE FROM progress_events")
        connection.execute("DELETE FROM progress")
