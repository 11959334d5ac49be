"""Statements kept in this process's memory, indexed by every query term."""

import bisect
import threading
from collections.abc import Iterator, Sequence

from lrs.xapi.statements.base import (
    Record,
    StatementQuery,
    StatementStore,
    Terms,
    check_batch,
    wanted_ids,
)

_Position = tuple[int, str]  # (stored_us, id): the order of statements


def _index_keys(terms: Terms) -> Iterator[str]:
    yield f"verb {terms.verb}"
    for agent in terms.agents:
        yield f"agent {agent}"
    for agent in terms.related_agents:
        yield f"related-agent {agent}"
    if terms.activity is not None:
        yield f"activity {terms.activity}"
    for activity in terms.related_activities:
        yield f"related-activity {activity}"
    if terms.registration is not None:
        yield f"registration {terms.registration}"


def _query_keys(query: StatementQuery) -> list[str]:
    keys = []
    if query.verb is not None:
        keys.append(f"verb {query.verb}")
    if query.agent is not None:
        keys.append(f"{'related-agent' if query.related_agents else 'agent'} {query.agent}")
    if query.activity is not None:
        kind = "related-activity" if query.related_activities else "activity"
        keys.append(f"{kind} {query.activity}")
    if query.registration is not None:
        keys.append(f"registration {query.registration}")
    return keys


class MemoryStatementStore(StatementStore):
    """A statement store in dicts and sorted lists; thread-safe, one process only.

    Every query term has a list of positions in stored order, so a filtered
    query walks only the statements that carry its rarest term, from the
    right end, and stops at its limit: its cost does not grow with the store.
    """

    def __init__(self) -> None:
        """Create an empty store."""
        self._lock = threading.Lock()
        self._records: dict[str, Record] = {}
        self._order: list[_Position] = []
        self._index: dict[str, list[_Position]] = {}

    def save(self, records: Sequence[Record]) -> list[str]:
        """Store a batch of new statements, all or nothing (see ``StatementStore``)."""
        with self._lock:
            wanted = wanted_ids(records)
            stored = {key: self._records[key] for key in wanted if key in self._records}
            new = check_batch(records, stored)
            for record in new:
                self._records[record.id] = record
                position = (record.stored_us, record.id)
                self._insert(self._order, position)
                keys = {key for terms in record.term_sets for key in _index_keys(terms)}
                for key in keys:
                    self._insert(self._index.setdefault(key, []), position)
            for record in new:
                target = self._records.get(record.voids or "")
                if target is not None:
                    self._records[target.id] = target._replace(voided=True)
        return [record.id for record in new]

    @staticmethod
    def _insert(positions: list[_Position], position: _Position) -> None:
        if not positions or position > positions[-1]:
            positions.append(position)  # the usual case: the newest statement
        else:
            bisect.insort(positions, position)

    def get(self, statement_id: str) -> Record | None:
        """Return the record with this id, or ``None``."""
        return self._records.get(statement_id)

    def query(self, query: StatementQuery) -> list[Record]:
        """Return the matching unvoided records, a page at a time (see ``StatementStore``)."""
        with self._lock:
            keys = _query_keys(query)
            candidates = [self._index.get(key, []) for key in keys] or [self._order]
            positions = min(candidates, key=len)
            found = []
            for position in self._walk(positions, query):
                record = self._records[position[1]]
                if record.voided or not query.matches(record):
                    continue
                found.append(record)
                if len(found) >= query.limit:
                    break
            return found

    @staticmethod
    def _walk(positions: list[_Position], query: StatementQuery) -> Iterator[_Position]:
        """Positions inside the query's time window and past its cursor, in its order."""
        low, high = 0, len(positions)
        if query.since_us is not None:
            low = bisect.bisect_right(positions, (query.since_us, "\uffff"))
        if query.until_us is not None:
            high = bisect.bisect_right(positions, (query.until_us, "\uffff"))
        if query.after is not None:
            if query.ascending:
                low = max(low, bisect.bisect_right(positions, query.after))
            else:
                high = min(high, bisect.bisect_left(positions, query.after))
        if query.ascending:
            for index in range(low, high):
                yield positions[index]
        else:
            for index in range(high - 1, low - 1, -1):
                yield positions[index]

    def count(self) -> int:
        """Return how many statements are stored."""
        return len(self._records)
