"""Canonical activity definitions in a SQLite file: the ``activities`` table."""

from typing import Any

import orjson

from lrs.sqlite import SqliteDatabase, rows_in, translate_errors
from lrs.xapi.activities.base import ActivityStore, merged_text


class SqliteActivityStore(ActivityStore):
    """Definitions as JSON text, merged inside one write transaction per batch."""

    def __init__(self, database: SqliteDatabase) -> None:
        """Keep definitions in ``database``."""
        self._database = database

    def get(self, activity_id: str) -> dict[str, Any] | None:
        """Return the activity's canonical definition, or ``None``."""
        with translate_errors():
            row = (
                self._database.connection()
                .execute("SELECT definition FROM activities WHERE id = ?", (activity_id,))
                .fetchone()
            )
        return None if row is None else orjson.loads(row[0])

    def _get_many(self, activity_ids: list[str]) -> dict[str, dict[str, Any]]:
        with translate_errors():
            rows = list(
                rows_in(
                    self._database.connection(),
                    "SELECT id, definition FROM activities WHERE id IN ({marks})",
                    activity_ids,
                )
            )
        return {activity_id: orjson.loads(text) for activity_id, text in rows}

    def _merge(self, definitions: list[tuple[str, dict[str, Any]]]) -> None:
        # One transaction: the write lock makes each merge whole.
        ids = [activity_id for activity_id, _ in definitions]
        with self._database.transaction() as connection:
            stored: dict[str, str] = dict(
                rows_in(
                    connection, "SELECT id, definition FROM activities WHERE id IN ({marks})", ids
                )
            )
            changed = []
            for activity_id, definition in definitions:
                new = merged_text(stored.get(activity_id), definition)
                if new is not None:
                    changed.append((activity_id, new.decode()))
            connection.executemany(
                "INSERT INTO activities (id, definition) VALUES (?, ?) "
                "ON CONFLICT (id) DO UPDATE SET definition = excluded.definition",
                changed,
            )
