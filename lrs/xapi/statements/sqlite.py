"""Statements in a SQLite file: ``statements`` and ``statement_terms`` (see ``lrs.sqlite_schema``).

A batch is one ``BEGIN IMMEDIATE`` transaction: its ids are looked up, the
checks every backend shares run (``check_batch``), and the statements, their
terms and the voiding of their targets are written, all or nothing.

A filtered query walks ``statement_terms`` for one of its filters (the most
selective kind first: registration, activity, agent, verb) in stored order,
from where the time window and the page cursor put it, and stops at the limit;
with more than one filter, each candidate's term sets are tested whole, as the
memory store does, since every filter must hold in one term set.
"""

from collections.abc import Sequence
from typing import Any

import orjson

from lrs.sqlite import SqliteDatabase, translate_errors
from lrs.xapi.statements.base import (
    Record,
    StatementQuery,
    StatementStore,
    Terms,
    check_batch,
    index_keys,
    wanted_ids,
)

_COLUMNS = "s.id, s.text, s.stored_us, s.digest, s.voided, s.termsets"
# Candidates read at a time when a query has more than one filter.
_BATCH = 500


def _record(row: tuple[Any, ...]) -> Record:
    statement_id, text, stored_us, digest, voided, termsets = row
    own, *inherited = (_terms(terms) for terms in orjson.loads(termsets))
    return Record(statement_id, text, stored_us, digest, own, bool(voided), tuple(inherited))


def _terms(values: list[Any]) -> Terms:
    verb, agents, related_agents, activity, related_activities, registration, target = values
    return Terms(
        verb,
        tuple(agents),
        tuple(related_agents),
        activity,
        tuple(related_activities),
        registration,
        target,
    )


class SqliteStatementStore(StatementStore):
    """Statements and their query terms in two tables of a SQLite file."""

    def __init__(self, database: SqliteDatabase) -> None:
        """Keep statements in ``database``."""
        self._database = database

    def save(self, records: Sequence[Record]) -> list[str]:
        """Store a batch of new statements, all or nothing (see ``StatementStore``)."""
        wanted = sorted(wanted_ids(records))
        with self._database.transaction() as connection:
            stored: dict[str, Record] = {}
            for start in range(0, len(wanted), _BATCH):
                chunk = wanted[start : start + _BATCH]
                marks = ", ".join("?" * len(chunk))
                rows = connection.execute(
                    f"SELECT {_COLUMNS} FROM statements s WHERE s.id IN ({marks})", chunk
                )
                stored.update((row[0], _record(row)) for row in rows)
            new = check_batch(records, stored)
            connection.executemany(
                "INSERT INTO statements (id, text, stored_us, digest, voided, termsets) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        record.id,
                        record.text,
                        record.stored_us,
                        record.digest,
                        int(record.voided),
                        orjson.dumps([list(terms) for terms in record.term_sets]).decode(),
                    )
                    for record in new
                ],
            )
            connection.executemany(
                "INSERT OR IGNORE INTO statement_terms (kind, value, stored_us, id) "
                "VALUES (?, ?, ?, ?)",
                [
                    (kind, value, record.stored_us, record.id)
                    for record in new
                    for terms in record.term_sets
                    for kind, value in index_keys(terms)
                ],
            )
            targets = [(record.voids,) for record in new if record.voids is not None]
            connection.executemany("UPDATE statements SET voided = 1 WHERE id = ?", targets)
        return [record.id for record in new]

    def get(self, statement_id: str) -> Record | None:
        """Return the record with this id (voided or not), or ``None``."""
        with translate_errors():
            row = (
                self._database.connection()
                .execute(f"SELECT {_COLUMNS} FROM statements s WHERE s.id = ?", (statement_id,))
                .fetchone()
            )
        return None if row is None else _record(row)

    def query(self, query: StatementQuery) -> list[Record]:
        """Return up to ``query.limit`` unvoided records that match (see ``StatementStore``)."""
        keys = query.index_keys()
        check = len(keys) > 1
        found: list[Record] = []
        after = query.after
        # Read in batches only when candidates may fail the full test.
        batch = max(query.limit, _BATCH) if check else query.limit
        while True:
            rows = self._page(query, keys[0] if keys else None, after, batch)
            for row in rows:
                record = _record(row)
                if not check or query.matches(record):
                    found.append(record)
                    if len(found) >= query.limit:
                        return found
            if len(rows) < batch:
                return found
            last = rows[-1]
            after = (last[2], last[0])

    def _page(
        self,
        query: StatementQuery,
        key: tuple[int, str] | None,
        after: tuple[int, str] | None,
        limit: int,
    ) -> list[tuple[Any, ...]]:
        """Up to ``limit`` unvoided rows past ``after``, in the query's order, for one key."""
        # The walk is on the terms index (t) for a filter, on the time index (s) without.
        walk = "s" if key is None else "t"
        conditions, values = ["s.voided = 0"], []
        if key is not None:
            conditions += ["t.kind = ?", "t.value = ?"]
            values += list(key)
        if query.since_us is not None:
            conditions.append(f"{walk}.stored_us > ?")
            values.append(query.since_us)
        if query.until_us is not None:
            conditions.append(f"{walk}.stored_us <= ?")
            values.append(query.until_us)
        if after is not None:
            conditions.append(
                f"({walk}.stored_us, {walk}.id) {'>' if query.ascending else '<'} (?, ?)"
            )
            values += list(after)
        direction = "ASC" if query.ascending else "DESC"
        source = (
            "statements s" if key is None else "statement_terms t JOIN statements s ON s.id = t.id"
        )
        with translate_errors():
            return (
                self._database.connection()
                .execute(
                    f"SELECT {_COLUMNS} FROM {source} WHERE {' AND '.join(conditions)} "
                    f"ORDER BY {walk}.stored_us {direction}, {walk}.id {direction} LIMIT ?",
                    (*values, limit),
                )
                .fetchall()
            )

    def count(self) -> int:
        """Return how many statements are stored."""
        with translate_errors():
            row = self._database.connection().execute("SELECT count(*) FROM statements")
            return int(row.fetchone()[0])
