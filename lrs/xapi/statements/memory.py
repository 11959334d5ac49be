"""Statements kept in this process's memory, indexed by every query term."""

from __future__ import annotations

import bisect
import threading
from array import array
from collections.abc import Iterator, Sequence
from typing import Any

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

# The garbage collector: a full collection walks every tracked container,
# item by item, and reads the header of each item it finds. So the store
# holds no tracked container that grows with it. Records are plain tuples
# (CPython stops tracking an exact tuple of strings, numbers and such tuples,
# but never a subclass such as a NamedTuple), kept by _Rows in tuples of
# 1024; every other structure refers to them by their number, kept in arrays
# of machine integers, which the collector does not walk and which take 8
# bytes an entry.
_Row = tuple[Any, ...]
_CHUNK_BITS = 10
_CHUNK = 1 << _CHUNK_BITS


class _Rows:
    """A list of rows, numbered from 0, whose full chunks are tuples."""

    def __init__(self) -> None:
        self._chunks: list[tuple[_Row, ...]] = []
        self._tail: list[_Row] = []

    def __len__(self) -> int:
        return len(self._chunks) * _CHUNK + len(self._tail)

    def __getitem__(self, number: int) -> _Row:
        chunk = number >> _CHUNK_BITS
        if chunk < len(self._chunks):
            return self._chunks[chunk][number & (_CHUNK - 1)]
        return self._tail[number & (_CHUNK - 1)]

    def __setitem__(self, number: int, row: _Row) -> None:
        chunk = number >> _CHUNK_BITS
        if chunk < len(self._chunks):
            rows = list(self._chunks[chunk])
            rows[number & (_CHUNK - 1)] = row
            self._chunks[chunk] = tuple(rows)
        else:
            self._tail[number & (_CHUNK - 1)] = row

    def append(self, row: _Row) -> int:
        """Add a row; return its number."""
        self._tail.append(row)
        if len(self._tail) == _CHUNK:
            self._chunks.append(tuple(self._tail))
            self._tail = []
        return len(self) - 1


def _record(row: _Row) -> Record:
    # tuple.__new__ skips the NamedTuples' argument handling: queries build
    # one Record per statement they return.
    inherited = tuple(_new_tuple(Terms, terms) for terms in row[6]) if row[6] else ()
    statement_id, text, stored_us, digest = row[:4]
    terms = _new_tuple(Terms, row[4])
    return _new_tuple(
        Record, (statement_id, text, stored_us, digest.hex(), terms, row[5], inherited, *row[7:])
    )


_new_tuple = tuple.__new__


def _keys_of(row: _Row) -> set[tuple[int, str]]:
    """The index keys a stored row is listed under: its own terms' and its inherited ones'."""
    return {key for terms in (row[4], *row[6]) for key in index_keys(terms)}


class MemoryStatementStore(StatementStore):
    """A statement store in lists and sorted arrays; thread-safe, one process only.

    Every query term has an array of statement numbers in stored order, so a
    filtered query walks only the statements that carry its rarest term, from
    the right end, and stops at its limit: its cost does not grow with the
    store.
    """

    def __init__(self) -> None:
        """Create an empty store."""
        self._lock = threading.Lock()
        self._rows = _Rows()
        self._numbers: dict[str, int] = {}  # statement id -> its number in _rows
        self._order = array("q")
        self._index: tuple[dict[str, array[int]], ...] = tuple({} for _ in range(6))
        # One string object for each term value, however many statements
        # carry it (verbs, agents, activities repeat): records share them.
        # (Targets of StatementRefs are kept as they come: few statements
        # share one.)
        self._strings: dict[str, str] = {}
        self._share = self._strings.setdefault
        self._newest: tuple[int, str] = (-1, "")  # the greatest position stored
        # Per course, its statements' numbers and their timestamps, side by side.
        self._courses: dict[str, tuple[array[int], array[int]]] = {}

    def _position(self, number: int) -> tuple[int, str]:
        """Where a statement sorts: (stored_us, id)."""
        row = self._rows[number]
        return row[2], row[0]

    def save(self, records: Sequence[Record]) -> list[str]:
        """Store a batch of new statements, all or nothing (see ``StatementStore``)."""
        with self._lock:
            stored = {
                key: _record(self._rows[self._numbers[key]])
                for key in wanted_ids(records)
                if key in self._numbers
            }
            new = check_batch(records, stored)
            for record in new:
                terms = self._shared(record.terms)
                inherited = tuple(map(self._shared, record.inherited)) if record.inherited else ()
                # The digest as its 32 bytes, not 64 hex digits: 48 bytes less a statement.
                digest = bytes.fromhex(record.digest)
                row = (*record[:3], digest, terms, record.voided, inherited, *record[7:])
                number = self._rows.append(row)
                self._numbers[record.id] = number
                lists = self._lists(terms)
                lists.append(self._order)
                if inherited:
                    for more in inherited:
                        lists += self._lists(more)
                    lists = list({id(numbers): numbers for numbers in lists}.values())
                if record.course:
                    numbers, times = self._courses.setdefault(
                        self._share(record.course, record.course), (array("q"), array("q"))
                    )
                    numbers.append(number)
                    times.append(record.time_us)
                position = (record.stored_us, record.id)
                if position > self._newest:
                    # The usual case: newer than everything stored, so last in every list.
                    self._newest = position
                    for numbers in lists:
                        numbers.append(number)
                else:
                    for numbers in lists:
                        bisect.insort(numbers, number, key=self._position)
            for record in new:
                target = self._numbers.get(record.voids or "")
                if target is not None:
                    row = self._rows[target]
                    self._rows[target] = (*row[:5], True, *row[6:])
        return [record.id for record in new]

    def _shared(self, terms: Terms) -> tuple[Any, ...]:
        """The terms as a plain tuple, made of the store's shared strings."""
        share = self._share
        verb, agents, related_agents, activity, related_activities, registration = terms[:6]
        return (
            share(verb, verb),
            tuple([share(agent, agent) for agent in agents]),
            tuple([share(agent, agent) for agent in related_agents]),
            None if activity is None else share(activity, activity),
            tuple([share(item, item) for item in related_activities]),
            None if registration is None else share(registration, registration),
            terms.target,
        )

    def _lists(self, terms: tuple[Any, ...]) -> list[array[int]]:
        """The index lists a statement with these terms belongs in, created as needed."""
        index = self._index
        lists = []
        for kind, value in index_keys(terms):
            numbers = index[kind].get(value)
            if numbers is None:
                numbers = index[kind][value] = array("q")
            lists.append(numbers)
        return lists

    def get(self, statement_id: str) -> Record | None:
        """Return the record with this id, or ``None``."""
        number = self._numbers.get(statement_id)
        return None if number is None else _record(self._rows[number])

    def query(self, query: StatementQuery) -> list[Record]:
        """Return the matching unvoided records, a page at a time (see ``StatementStore``)."""
        with self._lock:
            keys = query.index_keys()
            candidates = [self._index[kind].get(value, array("q")) for kind, value in keys] or [
                self._order
            ]
            numbers = min(candidates, key=len)
            # A statement in one term's list carries that term in one of its
            # term sets: only a second filter needs the full test.
            check = len(keys) > 1
            found = []
            for number in self._walk(numbers, query):
                row = self._rows[number]
                if row[5] and not query.with_voided:
                    continue
                record = _record(row)
                if check and not query.matches(record):
                    continue
                found.append(record)
                if len(found) >= query.limit:
                    break
            return found

    def _walk(self, numbers: array[int], query: StatementQuery) -> Iterator[int]:
        """Statement numbers inside the query's time window and past its cursor, in its order."""
        low, high = 0, len(numbers)
        key = self._position
        if query.since_us is not None:
            low = bisect.bisect_right(numbers, (query.since_us, "\uffff"), key=key)
        if query.until_us is not None:
            high = bisect.bisect_right(numbers, (query.until_us, "\uffff"), key=key)
        if query.after is not None:
            if query.ascending:
                low = max(low, bisect.bisect_right(numbers, query.after, key=key))
            else:
                high = min(high, bisect.bisect_left(numbers, query.after, key=key))
        if query.ascending:
            for index in range(low, high):
                yield numbers[index]
        else:
            for index in range(high - 1, low - 1, -1):
                yield numbers[index]

    def feed(
        self, after: tuple[int, str] | None, until_us: int, limit: int
    ) -> list[tuple[tuple[int, str], Record]]:
        """The next statements after a place: by their number, given in the order stored."""
        found: list[tuple[tuple[int, str], Record]] = []
        with self._lock:
            number = 0 if after is None else after[0] + 1
            while number < len(self._rows) and len(found) < limit:
                row = self._rows[number]
                if self._numbers.get(row[0]) == number:  # not deleted
                    found.append(((number, ""), _record(row)))
                number += 1
        return found

    def feed_end(self) -> tuple[int, str] | None:
        """The place of the statement stored last."""
        with self._lock:
            return None if not len(self._rows) else (len(self._rows) - 1, "")

    def feed_after(self, stored_us: int) -> tuple[int, str] | None:
        """Before the first statement stored after ``stored_us`` (by number)."""
        with self._lock:
            for number in range(len(self._rows)):
                if self._rows[number][2] > stored_us and self._rows[number][0] in self._numbers:
                    return (number - 1, "")
        return self.feed_end()

    def count(self) -> int:
        """Return how many statements are stored."""
        return len(self._numbers)

    def _course_times(self, course: str, since_us: int, until_us: int) -> list[int]:
        with self._lock:
            numbers, times = self._courses.get(course, (array("q"), array("q")))
            rows = self._rows
            return [
                time_us
                for number, time_us in zip(numbers, times, strict=True)
                if since_us <= time_us < until_us and not rows[number][5]
            ]

    def _delete(self, ids: Sequence[str]) -> int:
        with self._lock:
            numbers = {self._numbers.pop(item) for item in ids if item in self._numbers}
            if not numbers:
                return 0
            lists: set[tuple[int, str]] = set()
            for number in numbers:
                row = self._rows[number]
                lists |= _keys_of(row)
                # A row's number stays taken (numbers are positions); its data goes.
                self._rows[number] = (row[0], "", row[2], b"", (), True, (), "", 0)
            for key in lists:
                self._unlist(key, numbers)
            self._order = array("q", (n for n in self._order if n not in numbers))
            return len(numbers)

    def _unlist(self, key: tuple[int, str], numbers: set[int]) -> None:
        """Take ``numbers`` out of one index list (the lock held); an emptied list goes.

        A value no list holds any more goes from the shared strings too: an
        erased learner's key is not kept in memory.
        """
        kind, value = key
        kept = array("q", (n for n in self._index[kind][value] if n not in numbers))
        if kept:
            self._index[kind][value] = kept
            return
        del self._index[kind][value]
        if not any(value in index for index in self._index):
            self._strings.pop(value, None)

    def _using_attachments(self, hashes: set[str]) -> set[str]:
        with self._lock:
            texts = [self._rows[number][1] for number in self._numbers.values()]
        return hashes_named(texts, hashes)

    def _count_older_than(self, stored_us: int) -> int:
        with self._lock:
            return self._stored_before(stored_us)

    def _older_than(self, stored_us: int, limit: int) -> list[str]:
        with self._lock:
            end = min(self._stored_before(stored_us), limit)
            return [self._rows[number][0] for number in self._order[:end]]

    def _stored_before(self, stored_us: int) -> int:
        """How many statements were stored before ``stored_us`` (the lock held)."""
        return bisect.bisect_left(self._order, (stored_us, ""), key=self._position)

    def _ids_with_agents(self, keys: frozenset[str]) -> list[str]:
        with self._lock:
            numbers = {
                number for key in keys for number in self._index[RELATED_AGENT].get(key, array("q"))
            }
            return [self._rows[number][0] for number in sorted(numbers)]

    def _replace(self, records: Sequence[Record]) -> None:
        with self._lock:
            # Per index list, the numbers leaving it and those joining it: each
            # list changed is then rebuilt once, however many records it loses.
            leaving: dict[tuple[int, str], set[int]] = {}
            joining: dict[tuple[int, str], set[int]] = {}
            for record in records:
                number = self._numbers[record.id]
                row = self._rows[number]
                old = _keys_of(row)
                terms = self._shared(record.terms)
                inherited = tuple(map(self._shared, record.inherited))
                new = {key for each in (terms, *inherited) for key in index_keys(each)}
                for key in old - new:
                    leaving.setdefault(key, set()).add(number)
                for key in new - old:
                    joining.setdefault(key, set()).add(number)
                digest = bytes.fromhex(record.digest)
                self._rows[number] = (
                    row[0],
                    record.text,
                    row[2],
                    digest,
                    terms,
                    row[5],
                    inherited,
                    *row[7:],
                )
            for key, numbers in leaving.items():
                self._unlist(key, numbers)
            for (kind, value), numbers in joining.items():
                merged = sorted({*self._index[kind].get(value, ()), *numbers}, key=self._position)
                self._index[kind][value] = array("q", merged)
