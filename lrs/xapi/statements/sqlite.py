"""Statements in a SQLite file: ``statements``, ``term_values`` and ``statement_terms``.

A batch is one ``BEGIN IMMEDIATE`` transaction: its ids are looked up, the
checks every backend shares run (``check_batch``), and the statements, their
terms and the voiding of their targets are written, all or nothing. Each
value a statement is queried by is stored once in ``term_values``; the index
rows in ``statement_terms`` hold its number, the kind of term, and the
statement's stored time and row number: a batch of 100 statements writes a
few hundred small index rows, and a commit writes every page they touch.

A filtered query walks ``statement_terms`` for one of its filters (the most
selective kind first: registration, activity, agent, verb) in stored order,
from where the time window and the page cursor put it, and stops at the limit;
two statements stored in the same microsecond are ordered by id. With more
than one filter, each candidate's term sets are tested whole, as the memory
store does, since every filter must hold in one term set.
"""

import sqlite3
from collections.abc import Sequence
from typing import Any

import orjson

from lrs.sqlite import SqliteDatabase, rows_in, translate_errors
from lrs.xapi.statements.base import (
    RELATED_AGENT,
    Record,
    StatementQuery,
    StatementStore,
    Terms,
    check_batch,
    hashes_named,
    index_keys,
    wanted_ids,
)
from lrs.xapi.statements.sqlite_bodies import Bodies

_COLUMNS = "s.id, s.body, s.stored_us, s.digest, s.voided, s.course, s.time_us"
# The most candidates read at a time when a query has more than one filter.
_BATCH = 500
# Term numbers kept in memory per store; past this, forgotten and read again.
_KNOWN_TERMS = 200_000


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
    """Statements and their query terms in tables of a SQLite file."""

    # About 0.1 s of the write lock each (benchmarks/bench_long_writes.py).
    written_at_once = 200

    def __init__(self, database: SqliteDatabase) -> None:
        """Keep statements in ``database``."""
        self._database = database
        self._bodies = Bodies(database.connection)
        # Numbers of term values, committed ones only: a number taken in a
        # transaction that rolls back is given to another value later.
        self._term_ids: dict[str, int] = {}

    def _record(self, row: tuple[Any, ...]) -> Record:
        statement_id, body, stored_us, digest, voided, course, time_us = row
        termsets, text = self._bodies.unpack(body)
        own, *inherited = (_terms(terms) for terms in orjson.loads(termsets))
        return Record(
            statement_id,
            text,
            stored_us,
            digest,
            own,
            bool(voided),
            tuple(inherited),
            course,
            time_us,
        )

    def _pack(self, record: Record) -> bytes:
        termsets = orjson.dumps([list(terms) for terms in record.term_sets]).decode()
        return self._bodies.pack(termsets, record.text)

    def save(self, records: Sequence[Record]) -> list[str]:
        """Store a batch of new statements, all or nothing (see ``StatementStore``)."""
        wanted = sorted(wanted_ids(records))
        with self._database.transaction() as connection:
            rows = rows_in(
                connection, f"SELECT {_COLUMNS} FROM statements s WHERE s.id IN ({{marks}})", wanted
            )
            stored = {row[0]: self._record(row) for row in rows}
            new = check_batch(records, stored)
            if not new:
                return []
            keys = [
                [(kind, value) for terms in record.term_sets for kind, value in index_keys(terms)]
                for record in new
            ]
            term_ids = self._numbered(connection, {value for each in keys for _, value in each})
            (last,) = connection.execute(
                # Never a number given before, even to a statement deleted since:
                # the feed's places (forwarding cursors) must not come round again.
                "SELECT max(coalesce((SELECT max(seq) FROM statements), 0), "
                "coalesce((SELECT value FROM counters WHERE name = 'statements'), 0))"
            ).fetchone()
            self._bodies.before_saving(self._database, connection, last)
            connection.executemany(
                "INSERT INTO statements "
                "(seq, id, stored_us, voided, digest, body, course, time_us) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        last + number,
                        record.id,
                        record.stored_us,
                        int(record.voided),
                        record.digest,
                        self._pack(record),
                        record.course,
                        record.time_us,
                    )
                    for number, record in enumerate(new, 1)
                ],
            )
            # Sorted, so that the rows of one index page go in one after another.
            term_rows = sorted(
                {
                    (term_ids[value], kind, record.stored_us, last + number)
                    for number, (record, each) in enumerate(zip(new, keys, strict=True), 1)
                    for kind, value in each
                }
            )
            connection.executemany(
                "INSERT INTO statement_terms (term, kind, stored_us, seq) VALUES (?, ?, ?, ?)",
                term_rows,
            )
            targets = [(record.voids,) for record in new if record.voids is not None]
            connection.executemany("UPDATE statements SET voided = 1 WHERE id = ?", targets)
        return [record.id for record in new]

    def _numbered(self, connection: sqlite3.Connection, values: set[str]) -> dict[str, int]:
        """The numbers of these term values, numbering the new ones (in a write transaction)."""
        known = self._term_ids
        found = {value: known[value] for value in values if value in known}
        missing = sorted(values - found.keys())
        found.update(
            rows_in(
                connection, "SELECT value, id FROM term_values WHERE value IN ({marks})", missing
            )
        )
        new = [value for value in missing if value not in found]
        if new:
            (last,) = connection.execute("SELECT coalesce(max(id), 0) FROM term_values").fetchone()
            numbered = {value: last + number for number, value in enumerate(new, 1)}
            connection.executemany(
                "INSERT INTO term_values (id, value) VALUES (?, ?)",
                [(number, value) for value, number in numbered.items()],
            )
            found.update(numbered)
        read = {value: found[value] for value in missing}
        self._database.after_commit(lambda: self._remember(read))
        return found

    def _remember(self, numbers: dict[str, int]) -> None:
        if len(self._term_ids) + len(numbers) > _KNOWN_TERMS:
            self._term_ids = {}
        self._term_ids.update(numbers)

    def _number(self, value: str) -> int | None:
        """The number of a term value, or ``None`` when no statement has it (for queries)."""
        number = self._term_ids.get(value)
        if number is None:
            connection = self._database.connection()
            with translate_errors():
                row = connection.execute(
                    "SELECT id FROM term_values WHERE value = ?", (value,)
                ).fetchone()
            if row is None:
                return None
            number = row[0]
            if not connection.in_transaction:  # committed, then
                self._remember({value: number})
        return number

    def get(self, statement_id: str) -> Record | None:
        """Return the record with this id (voided or not), or ``None``."""
        with translate_errors():
            row = (
                self._database.connection()
                .execute(f"SELECT {_COLUMNS} FROM statements s WHERE s.id = ?", (statement_id,))
                .fetchone()
            )
        return None if row is None else self._record(row)

    def query(self, query: StatementQuery) -> list[Record]:
        """Return up to ``query.limit`` unvoided records that match (see ``StatementStore``)."""
        keys = query.index_keys()
        walk = None
        if keys:
            kind, value = keys[0]
            number = self._number(value)
            if number is None:
                return []
            walk = (number, kind)
        check = len(keys) > 1
        found: list[Record] = []
        after = query.after
        # A page's worth of candidates first (when every candidate passes, the
        # usual case, one read does), then more at a time while they fail.
        batch = query.limit
        while True:
            rows = self._page(query, walk, after, batch)
            for row in rows:
                record = self._record(row)
                if not check or query.matches(record):
                    found.append(record)
                    if len(found) >= query.limit:
                        return found
            if len(rows) < batch:
                return found
            last = rows[-1]
            after = (last[2], last[0])
            batch = max(batch, min(4 * batch, _BATCH))

    def _page(
        self,
        query: StatementQuery,
        walk: tuple[int, int] | None,
        after: tuple[int, str] | None,
        limit: int,
    ) -> list[tuple[Any, ...]]:
        """Up to ``limit`` rows (unvoided ones, unless asked) past ``after``, in the query's order.

        ``walk`` is the (term number, kind) whose index rows are walked; without
        it, the walk is on the statements' time index.
        """
        conditions: list[str] = [] if query.with_voided else ["s.voided = 0"]
        values: list[int | str] = []
        # The stored time is read from the index walked: t for a term, s without.
        time = "s.stored_us" if walk is None else "t.stored_us"
        if walk is not None:
            conditions += ["t.term = ?", "t.kind = ?"]
            values += list(walk)
        if query.since_us is not None:
            conditions.append(f"{time} > ?")
            values.append(query.since_us)
        if query.until_us is not None:
            conditions.append(f"{time} <= ?")
            values.append(query.until_us)
        beyond = ">" if query.ascending else "<"
        if after is not None:
            # Spelled out, so that the first part bounds the index walk.
            conditions.append(f"{time} {beyond}= ? AND ({time} {beyond} ? OR s.id {beyond} ?)")
            values += [after[0], after[0], after[1]]
        direction = "ASC" if query.ascending else "DESC"
        source = (
            "statements s"
            if walk is None
            else "statement_terms t JOIN statements s ON s.seq = t.seq"
        )
        with translate_errors():
            return (
                self._database.connection()
                .execute(
                    f"SELECT {_COLUMNS} FROM {source} WHERE {' AND '.join(conditions) or '1'} "
                    f"ORDER BY {time} {direction}, s.id {direction} LIMIT ?",
                    (*values, limit),
                )
                .fetchall()
            )

    def _course_times(self, course: str, since_us: int, until_us: int) -> list[int]:
        # "course != ''" lets SQLite use the partial index statements_by_course.
        with translate_errors():
            rows = self._database.connection().execute(
                "SELECT time_us FROM statements WHERE course = ? AND course != '' "
                "AND time_us >= ? AND time_us < ? AND voided = 0",
                (course, since_us, until_us),
            )
            return [row[0] for row in rows]

    def count(self) -> int:
        """Return how many statements are stored."""
        with translate_errors():
            row = self._database.connection().execute("SELECT count(*) FROM statements")
            return int(row.fetchone()[0])

    def _ids_with_agents(self, keys: frozenset[str]) -> list[str]:
        numbers = [number for key in sorted(keys) if (number := self._number(key)) is not None]
        with translate_errors():
            return sorted(
                row[0]
                for row in rows_in(
                    self._database.connection(),
                    "SELECT DISTINCT s.id FROM statement_terms t JOIN statements s "
                    f"ON s.seq = t.seq WHERE t.kind = {RELATED_AGENT} AND t.term IN ({{marks}})",
                    numbers,
                )
            )

    def _replace(self, records: Sequence[Record]) -> None:
        with self._database.transaction() as connection:
            seqs = dict(
                rows_in(
                    connection,
                    "SELECT id, seq FROM statements WHERE id IN ({marks})",
                    [record.id for record in records],
                )
            )
            keys = [
                {(kind, value) for terms in record.term_sets for kind, value in index_keys(terms)}
                for record in records
            ]
            term_ids = self._numbered(connection, {value for each in keys for _, value in each})
            # The terms every changed statement had: those no statement has any
            # more are forgotten, values and all.
            old_terms = self._unindex(connection, list(seqs.values()))
            connection.executemany(
                "UPDATE statements SET body = ?, digest = ? WHERE seq = ?",
                [(self._pack(record), record.digest, seqs[record.id]) for record in records],
            )
            connection.executemany(
                "INSERT INTO statement_terms (term, kind, stored_us, seq) VALUES (?, ?, ?, ?)",
                sorted(
                    {
                        (term_ids[value], kind, record.stored_us, seqs[record.id])
                        for record, each in zip(records, keys, strict=True)
                        for kind, value in each
                    }
                ),
            )
            self._drop_unused_terms(connection, old_terms)

    def _unindex(self, connection: sqlite3.Connection, seqs: list[int]) -> set[int]:
        """Delete the index rows of these statements; return the terms they were under.

        Each row is found by its whole key, made from the statement's stored
        term sets as ``save`` made it: ``statement_terms`` has no index by
        statement (every statement would pay for one), and a search by ``seq``
        alone reads the whole table.
        """
        rows = rows_in(
            connection,
            "SELECT seq, stored_us, body FROM statements WHERE seq IN ({marks})",
            seqs,
        )
        wanted = []
        for seq, stored_us, body in rows:
            termsets, _ = self._bodies.unpack(body)
            for values in orjson.loads(termsets):
                for kind, value in index_keys(_terms(values)):
                    wanted.append((value, kind, stored_us, seq))
        ids = dict(
            rows_in(
                connection,
                "SELECT value, id FROM term_values WHERE value IN ({marks})",
                sorted({value for value, *_ in wanted}),
            )
        )
        keys = sorted(
            {(ids[value], kind, us, seq) for value, kind, us, seq in wanted if value in ids}
        )
        connection.executemany(
            "DELETE FROM statement_terms WHERE term = ? AND kind = ? AND stored_us = ? AND seq = ?",
            keys,
        )
        return {key[0] for key in keys}

    def _drop_unused_terms(self, connection: sqlite3.Connection, terms: set[int]) -> None:
        """Delete the values of these terms that no statement has any more."""
        unused = [
            (term,)
            for term in sorted(terms)
            if connection.execute(
                "SELECT 1 FROM statement_terms WHERE term = ? LIMIT 1", (term,)
            ).fetchone()
            is None
        ]
        connection.executemany("DELETE FROM term_values WHERE id = ?", unused)
        # Numbers remembered for values that are gone would be wrong later.
        self._database.after_commit(self._forget_terms)

    def _forget_terms(self) -> None:
        self._term_ids = {}

    def _delete(self, ids: Sequence[str]) -> int:
        with self._database.transaction() as connection:
            seqs = [
                row[0]
                for row in rows_in(
                    connection, "SELECT seq FROM statements WHERE id IN ({marks})", ids
                )
            ]
            terms = self._unindex(connection, seqs)
            # The highest number given stays known once its row is gone (see ``save``).
            connection.execute(  # (max(seq) is there: ids were found)
                "INSERT INTO counters (name, value) SELECT 'statements', max(seq) FROM statements "
                "WHERE true ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)"
            )
            connection.executemany("DELETE FROM statements WHERE seq = ?", [(seq,) for seq in seqs])
            self._drop_unused_terms(connection, terms)
            return len(seqs)

    def feed(
        self, after: tuple[int, str] | None, until_us: int, limit: int
    ) -> list[tuple[tuple[int, str], Record]]:
        """The next statements after a place: by ``seq``, given in the order of commits.

        Numbers are taken under the write lock and never given again, so the
        feed holds statements imported with old stored times too.
        """
        with translate_errors():
            rows = (
                self._database.connection()
                .execute(
                    f"SELECT s.seq, {_COLUMNS} FROM statements s WHERE s.seq > ? "
                    "ORDER BY s.seq LIMIT ?",
                    (0 if after is None else after[0], limit),
                )
                .fetchall()
            )
        return [((row[0], ""), self._record(row[1:])) for row in rows]

    def feed_end(self) -> tuple[int, str] | None:
        """The place of the statement stored last."""
        with translate_errors():
            (last,) = (
                self._database.connection().execute("SELECT max(seq) FROM statements").fetchone()
            )
        return None if last is None else (int(last), "")

    def feed_after(self, stored_us: int) -> tuple[int, str] | None:
        """Before the first statement stored after ``stored_us`` (by number)."""
        with translate_errors():
            row = (
                self._database.connection()
                .execute("SELECT min(seq) FROM statements WHERE stored_us > ?", (stored_us,))
                .fetchone()
            )
        return self.feed_end() if row[0] is None else (int(row[0]) - 1, "")

    def _using_attachments(self, hashes: set[str]) -> set[str]:
        # Bodies are compressed: each is read and unpacked once, for every hash.
        with translate_errors():
            rows = self._database.connection().execute("SELECT body FROM statements")
            return hashes_named((self._bodies.unpack(body)[1] for (body,) in rows), hashes)

    def _count_older_than(self, stored_us: int) -> int:
        with translate_errors():
            row = (
                self._database.connection()
                .execute("SELECT count(*) FROM statements WHERE stored_us < ?", (stored_us,))
                .fetchone()
            )
        return int(row[0])

    def _older_than(self, stored_us: int, limit: int) -> list[str]:
        with translate_errors():
            rows = (
                self._database.connection()
                .execute(
                    "SELECT id FROM statements WHERE stored_us < ? ORDER BY stored_us, id LIMIT ?",
                    (stored_us, limit),
                )
                .fetchall()
            )
        return [row[0] for row in rows]
