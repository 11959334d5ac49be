"""Progress in a SQLite file: the ``progress`` table (see ``lrs.sqlite_schema``).

Each step of the protocol of ``lrs.progress.base`` runs in a write
transaction (joining the POST's when there is one), so versions never
conflict here; they are kept all the same.
"""

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

import orjson

from lrs.progress.base import Key, ProgressStore
from lrs.progress.derive import ContentSession, ContentSummary, session_from
from lrs.sqlite import SqliteDatabase, translate_errors


class SqliteProgressStore(ProgressStore):
    """Sessions and summaries in a table of a SQLite file."""

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
            session_from(session)
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

    def _load(self, key: Key) -> tuple[int, list[ContentSession]]:
        row = (
            self._database.connection()
            .execute(
                "SELECT version, sessions FROM progress WHERE learner = ? AND content = ?", key
            )
            .fetchone()
        )
        if row is None:
            return 0, []
        return row[0], [session_from(session) for session in orjson.loads(row[1])]

    def _save(
        self,
        key: Key,
        version: int,
        sessions: Sequence[ContentSession],
        summary: ContentSummary | None,
    ) -> bool:
        values = (
            None if summary is None else summary.course,
            None if summary is None else orjson.dumps(list(summary)).decode(),
            orjson.dumps([list(session) for session in sessions]).decode(),
        )
        connection = self._database.connection()
        if version == 0:
            cursor = connection.execute(
                "INSERT OR IGNORE INTO progress "
                "(learner, content, version, course, summary, sessions) VALUES (?, ?, 1, ?, ?, ?)",
                (*key, *values),
            )
        else:
            cursor = connection.execute(
                "UPDATE progress SET version = version + 1, course = ?, summary = ?, sessions = ? "
                "WHERE learner = ? AND content = ? AND version = ?",
                (*values, *key, version),
            )
        return cursor.rowcount == 1

    def _clear(self) -> None:
        self._database.connection().execute("DELETE FROM progress")
