"""Canonical activity definitions in a SQLite file: the ``activities`` table."""

from typing import Any

import orjson

from lrs.sqlite import SqliteDatabase, translate_errors
from lrs.xapi.activities.base import ActivityStore, merge_definitions


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

    def merge(self, definitions: dict[str, dict[str, Any]]) -> None:
        """Merge definitions into the canonical ones; the write lock makes each merge whole."""
        if not definitions:
            return
        with self._database.transaction() as connection:
            for activity_id, definition in definitions.items():
                row = connection.execute(
                    "SELECT definition FROM activities WHERE id = ?", (activity_id,)
                ).fetchone()
                text = orjson.dumps(definition).decode()
                if row is not None and row[0] == text:
                    continue  # the definition held already, word for word
                old = None if row is None else orjson.loads(row[0])
                new = merge_definitions(old, definition)
                if new != old:
                    connection.execute(
                        "INSERT INTO activities (id, definition) VALUES (?, ?) "
                        "ON CONFLICT (id) DO UPDATE SET definition = excluded.definition",
                        (activity_id, orjson.dumps(new).decode()),
                    )
