"""History in a SQLite file: the ``history`` table (see ``lrs.sqlite_schema``).

A learner-state client on the same file appends its entries inside the
transaction of the write they record (``append_in``): the state and its
history commit together or not at all.
"""

import sqlite3
from collections.abc import Iterator, Sequence

from lrs.history.base import HistoryEntry, HistoryLog, Retention
from lrs.sqlite import SqliteDatabase, translate_errors


class SqliteHistoryLog(HistoryLog):
    """A history log in the ``history`` table."""

    def __init__(
        self, database: SqliteDatabase, retention: Retention | None = None, *, owns: bool = False
    ) -> None:
        """Keep history in ``database``; close it with this log when the log ``owns`` it."""
        super().__init__(retention)
        self.database = database
        self._owns = owns

    def append(self, entries: Sequence[HistoryEntry]) -> None:
        """Store ``entries`` in one transaction."""
        with self.database.transaction() as connection:
            self.append_in(connection, entries)

    @staticmethod
    def append_in(connection: sqlite3.Connection, entries: Sequence[HistoryEntry]) -> None:
        """Store ``entries`` in the transaction open on ``connection``."""
        connection.executemany(
            "INSERT INTO history (username, scope, block, time_us, state) VALUES (?, ?, ?, ?, ?)",
            [
                (entry.username, entry.scope, entry.block, entry.time_us, entry.state)
                for entry in entries
            ],
        )

    def entries(self, username: str, scope: str, block: str) -> Iterator[HistoryEntry]:
        """Yield the entries of one block, newest first (in write order within one moment)."""
        with translate_errors():
            rows = (
                self.database.connection()
                .execute(
                    "SELECT time_us, state FROM history WHERE username = ? AND scope = ? "
                    "AND block = ? ORDER BY time_us DESC, rowid DESC",
                    (username, scope, block),
                )
                .fetchall()
            )
        return (HistoryEntry(username, scope, block, state, time_us) for time_us, state in rows)

    def forget(self, username: str) -> int:
        """Remove every entry of ``username``; return how many went."""
        with self.database.transaction() as connection:
            return int(
                connection.execute("DELETE FROM history WHERE username = ?", (username,)).rowcount
            )

    def _prune(self, keep_last: int | None, cutoff_us: int | None) -> int:
        removed = 0
        with self.database.transaction() as connection:
            if cutoff_us is not None:
                removed += connection.execute(
                    "DELETE FROM history WHERE time_us < ?", (cutoff_us,)
                ).rowcount
            if keep_last is not None:
                removed += connection.execute(
                    "DELETE FROM history WHERE rowid IN (SELECT rowid FROM (SELECT rowid, "
                    "row_number() OVER (PARTITION BY username, scope, block "
                    "ORDER BY time_us DESC, rowid DESC) AS place FROM history) WHERE place > ?)",
                    (keep_last,),
                ).rowcount
        return removed

    def close(self) -> None:
        """Close the database if this log owns it."""
        if self._owns:
            self.database.close()
