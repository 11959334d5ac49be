"""Learner state in a SQLite file: the ``state`` table (see ``lrs.sqlite_schema``).

A write is one ``BEGIN IMMEDIATE`` transaction: the blocks' current states are
read, the conditions checked against them, the new states written, and, when
the history log is on the same file, the history entries appended, all
committed together. So of several writers holding one ETag exactly one wins,
and no write is ever without its history entry.
"""

import sqlite3
from collections.abc import Iterator, Mapping
from datetime import datetime

from lrs.clients.base import (
    BlockKey,
    KeyParser,
    Scope,
    StoredUserStateClient,
    UserState,
    block_location,
)
from lrs.clients.values import BlockChange, decode_state
from lrs.clock import default_clock, from_us
from lrs.conditions import UNCONDITIONAL, Conditions
from lrs.history.base import HistoryEntry, HistoryLog
from lrs.history.sqlite import SqliteHistoryLog
from lrs.sqlite import SqliteDatabase, rows_in, translate_errors


def _stored(
    connection: sqlite3.Connection, username: str, scope: Scope, blocks: list[str]
) -> dict[str, tuple[str, int]]:
    """The stored state (JSON text) and update time of those of ``blocks`` that have one."""
    rows = rows_in(
        connection,
        "SELECT block, state, updated_us FROM state WHERE username = ? AND scope = ? "
        "AND block IN ({marks})",
        blocks,
        username,
        scope.value,
    )
    return {block: (text, updated) for block, text, updated in rows}


class SqliteUserStateClient(StoredUserStateClient):
    """A learner-state client on a SQLite file; safe across threads and processes."""

    def __init__(
        self,
        database: SqliteDatabase,
        history: HistoryLog | None = None,
        key_parser: KeyParser = str,
        *,
        owns: bool = False,
    ) -> None:
        """Keep learner state in ``database``.

        Args:
            database: the file.
            history: where changes are recorded (default: the same file).
            key_parser: rebuilds key objects for ``iter_all_for_course``.
            owns: close the database (and the history) with this client.
        """
        super().__init__(history if history is not None else SqliteHistoryLog(database), key_parser)
        self._database = database
        self._owns = owns
        # History on the same file is written in the state's own transaction
        # (through another connection it would wait for this one's lock).
        self._history_in_transaction = isinstance(self.history, SqliteHistoryLog) and (
            self.history.database.path.resolve() == database.path.resolve()
        )

    def _get_many(
        self,
        username: str,
        scope: Scope,
        blocks: Mapping[str, BlockKey],
        fields: list[str] | None,
    ) -> Iterator[UserState]:
        with translate_errors():
            found = _stored(self._database.connection(), username, scope, list(blocks))
        return iter(
            [
                UserState(
                    username,
                    key,
                    decode_state(found[block][0], fields),
                    from_us(found[block][1]),
                    scope,
                )
                for block, key in blocks.items()
                if block in found
            ]
        )

    def _apply(
        self,
        username: str,
        scope: Scope,
        changes: Mapping[str, tuple[BlockKey, BlockChange]],
        conditions: Conditions = UNCONDITIONAL,
    ) -> dict[str, HistoryEntry]:
        with self._database.transaction() as connection:
            time_us = default_clock.now_us()
            found = _stored(connection, username, scope, list(changes))
            stored = {block: text for block, (text, _) in found.items()}
            entries = self._entries(username, scope, changes, stored, conditions, time_us)
            writes, deletes = [], []
            for block, entry in entries.items():
                text = entry.state
                if text is None:
                    deletes.append((username, scope.value, block))
                else:
                    course, block_type = block_location(changes[block][0])
                    writes.append(
                        (username, scope.value, block, text, time_us, course, block_type or "")
                    )
            if not entries:
                return entries
            if not self._history_in_transaction:
                # History first, as on the other backends: a failing log leaves
                # the state untouched (the transaction rolls back).
                self.history.append(list(entries.values()))
            connection.executemany(
                "INSERT INTO state (username, scope, block, state, updated_us, course, "
                "block_type) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (username, scope, block) "
                "DO UPDATE SET state = excluded.state, updated_us = excluded.updated_us",
                writes,
            )
            connection.executemany(
                "DELETE FROM state WHERE username = ? AND scope = ? AND block = ?", deletes
            )
            if self._history_in_transaction:
                SqliteHistoryLog.append_in(connection, list(entries.values()))
        return entries

    def _count_user(self, username: str) -> int:
        with translate_errors():
            row = (
                self._database.connection()
                .execute("SELECT count(*) FROM state WHERE username = ?", (username,))
                .fetchone()
            )
        return int(row[0])

    def _forget_user(self, username: str) -> int:
        with self._database.transaction() as connection:
            return int(
                connection.execute("DELETE FROM state WHERE username = ?", (username,)).rowcount
            )

    def _current(self, username: str, scope: Scope, block: str) -> tuple[str, datetime] | None:
        with translate_errors():
            row = (
                self._database.connection()
                .execute(
                    "SELECT state, updated_us FROM state WHERE username = ? AND scope = ? "
                    "AND block = ?",
                    (username, scope.value, block),
                )
                .fetchone()
            )
        return None if row is None else (row[0], from_us(row[1]))

    def _iter_all_for_block(
        self, block_key: BlockKey, scope: Scope, batch_size: int
    ) -> Iterator[UserState]:
        block = str(block_key)
        after = ""
        while True:
            with translate_errors():
                rows = (
                    self._database.connection()
                    .execute(
                        "SELECT username, state, updated_us FROM state WHERE scope = ? AND "
                        "block = ? AND username > ? ORDER BY username LIMIT ?",
                        (scope.value, block, after, batch_size),
                    )
                    .fetchall()
                )
            for username, text, updated in rows:
                yield UserState(username, block_key, decode_state(text), from_us(updated), scope)
            if len(rows) < batch_size:
                return
            after = rows[-1][0]

    def _iter_all_for_course(
        self, course: str, block_type: str | None, scope: Scope, batch_size: int
    ) -> Iterator[UserState]:
        # By block type, block and username; with the type fixed, the walk of
        # the index (and the page cursor) is on block and username alone.
        order = ("block_type", "block", "username") if block_type is None else ("block", "username")
        fixed: tuple[str, ...] = (scope.value, course)
        where = "scope = ? AND course = ?"
        if block_type is not None:
            fixed += (block_type,)
            where += " AND block_type = ?"
        columns = ", ".join(order)
        after: tuple[str, ...] | None = None
        while True:
            since = "" if after is None else f" AND ({columns}) > ({', '.join('?' * len(order))})"
            with translate_errors():
                rows = (
                    self._database.connection()
                    .execute(
                        f"SELECT {columns}, state, updated_us FROM state WHERE {where}{since} "
                        f"ORDER BY {columns} LIMIT ?",
                        (*fixed, *(after or ()), batch_size),
                    )
                    .fetchall()
                )
            for *keys, text, updated in rows:
                block, username = keys[-2:]
                yield UserState(
                    username, self.key_parser(block), decode_state(text), from_us(updated), scope
                )
            if len(rows) < batch_size:
                return
            after = tuple(rows[-1][: len(order)])

    def close(self) -> None:
        """Close the history, and the database if this client owns it."""
        if self._owns:
            self.history.close()
            self._database.close()
