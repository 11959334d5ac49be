"""Forwarding targets in a SQLite file: ``forward_targets`` and ``forward_dead``."""

import orjson

from lrs.forwarding.base import DeadLetter, ForwardingStore, Target, target_from
from lrs.sqlite import SqliteDatabase, translate_errors


class SqliteForwardingStore(ForwardingStore):
    """A row per target (its JSON and revision), a row per dead letter."""

    def __init__(self, database: SqliteDatabase) -> None:
        """Keep targets in ``database``."""
        self._database = database

    def _insert(self, target: Target) -> None:
        with self._database.transaction() as connection:
            connection.execute(
                "INSERT INTO forward_targets (id, revision, target) VALUES (?, ?, ?)",
                (target.id, target.revision, orjson.dumps(target.as_json()).decode()),
            )

    def _read(self, target_id: str) -> Target | None:
        with translate_errors():
            row = (
                self._database.connection()
                .execute("SELECT target FROM forward_targets WHERE id = ?", (target_id,))
                .fetchone()
            )
        return None if row is None else target_from(orjson.loads(row[0]))

    def _list(self) -> list[Target]:
        with translate_errors():
            rows = self._database.connection().execute("SELECT target FROM forward_targets")
            return [target_from(orjson.loads(row[0])) for row in rows.fetchall()]

    def _write(self, target: Target, revision: int) -> bool:
        with self._database.transaction() as connection:
            done = connection.execute(
                "UPDATE forward_targets SET revision = ?, target = ? WHERE id = ? AND revision = ?",
                (target.revision, orjson.dumps(target.as_json()).decode(), target.id, revision),
            )
            return done.rowcount == 1

    def _delete(self, target_id: str) -> None:
        with self._database.transaction() as connection:
            connection.execute("DELETE FROM forward_targets WHERE id = ?", (target_id,))

    def _add_dead(self, letters: list[DeadLetter]) -> None:
        with self._database.transaction() as connection:
            connection.executemany(
                "INSERT OR REPLACE INTO forward_dead "
                "(target, statement_id, time_us, status, answer) VALUES (?, ?, ?, ?, ?)",
                [
                    (item.target, item.statement_id, item.time_us, item.status, item.answer)
                    for item in letters
                ],
            )

    def _dead(self, target_id: str) -> list[DeadLetter]:
        with translate_errors():
            rows = self._database.connection().execute(
                "SELECT target, statement_id, time_us, status, answer FROM forward_dead "
                "WHERE target = ?",
                (target_id,),
            )
            return [DeadLetter(*row) for row in rows.fetchall()]

    def _remove_dead(self, target_id: str, statement_ids: list[str] | None) -> int:
        with self._database.transaction() as connection:
            if statement_ids is None:
                done = connection.execute("DELETE FROM forward_dead WHERE target = ?", (target_id,))
                return int(done.rowcount)
            removed = 0
            for statement_id in statement_ids:
                done = connection.execute(
                    "DELETE FROM forward_dead WHERE target = ? AND statement_id = ?",
                    (target_id, statement_id),
                )
                removed += done.rowcount
            return removed

    def _clear_answers(self, statement_ids: list[str]) -> int:
        cleared = 0
        with self._database.transaction() as connection:
            for start in range(0, len(statement_ids), 500):
                part = statement_ids[start : start + 500]
                marks = ", ".join("?" * len(part))
                done = connection.execute(
                    f"UPDATE forward_dead SET answer = '' WHERE answer != '' "
                    f"AND statement_id IN ({marks})",
                    part,
                )
                cleared += done.rowcount
        return cleared
