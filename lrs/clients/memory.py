"""Learner state in this process's memory: for tests, demos and one-process servers.

Each block's state is kept as one JSON text, which is immutable: a read decodes
fresh objects (callers can never alter what is stored), and a history entry
shares the text rather than copying it.
"""

import threading
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Final

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
from lrs.history.memory import MemoryHistoryLog

# A block's record: (state text, updated, course id, block type). A plain tuple,
# not a NamedTuple or dataclass: immutable, quick to make, and, holding only
# strings and a datetime, untracked by the garbage collector, so that a full
# collection does not walk every stored block.
_Record = tuple[str, datetime, str | None, str | None]
_TEXT: Final = 0
_UPDATED: Final = 1
_COURSE: Final = 2
_TYPE: Final = 3


# (username, scope, block id)
_Identity = tuple[str, Scope, str]


class MemoryUserStateClient(StoredUserStateClient):
    """A learner-state client whose store is a dict; thread-safe, one process only."""

    def __init__(self, history: HistoryLog | None = None, key_parser: KeyParser = str) -> None:
        """Create an empty store.

        Args:
            history: where changes are recorded (default: a new in-memory log).
            key_parser: rebuilds key objects for ``iter_all_for_course``.
        """
        super().__init__(history if history is not None else MemoryHistoryLog(), key_parser)
        # One lock orders writes, so each history entry is exactly the state
        # its write produced.
        self._lock = threading.Lock()
        self._records: dict[_Identity, _Record] = {}
        self._by_block: dict[tuple[Scope, str], set[str]] = {}
        self._by_course: dict[tuple[Scope, str], set[tuple[str, str]]] = {}

    def _get_many(
        self,
        username: str,
        scope: Scope,
        blocks: Mapping[str, BlockKey],
        fields: list[str] | None,
    ) -> Iterator[UserState]:
        # No lock: records are immutable and a dict lookup is atomic, so a
        # reader sees each block either before or after a write.
        records = self._records
        # Decoded now rather than by a generator: the same work, less overhead
        # on the many one-block reads.
        found: list[UserState] = []
        for block, key in blocks.items():
            record = records.get((username, scope, block))
            if record is not None:
                state = decode_state(record[_TEXT], fields)
                found.append(UserState(username, key, state, record[_UPDATED], scope))
        return iter(found)

    def _apply(
        self,
        username: str,
        scope: Scope,
        changes: Mapping[str, tuple[BlockKey, BlockChange]],
        conditions: Conditions = UNCONDITIONAL,
    ) -> dict[str, HistoryEntry]:
        # One lock orders the writes: a condition is checked against the state
        # it is applied to, and each history entry is the state its write left.
        with self._lock:
            time_us = default_clock.now_us()
            updated = from_us(time_us)
            records = self._records
            old_records: dict[str, _Record] = {}
            stored: dict[str, str] = {}
            for block in changes:
                old = records.get((username, scope, block))
                if old is not None:
                    old_records[block] = old
                    stored[block] = old[_TEXT]
            entries = self._entries(username, scope, changes, stored, conditions, time_us)
            new: dict[_Identity, _Record | None] = {}
            for block, entry in entries.items():
                identity = (username, scope, block)
                old, text, key = old_records.get(block), entry.state, changes[block][0]
                if text is None:
                    new[identity] = None
                elif old is None:
                    new[identity] = (text, updated, *block_location(key))
                else:
                    new[identity] = (text, updated, old[_COURSE], old[_TYPE])
            if new:
                # History first: a failing log leaves the state untouched.
                self.history.append(list(entries.values()))
                self._store(new)
        return entries

    def _store(self, new: Mapping[_Identity, _Record | None]) -> None:
        """Replace (or remove) records, and keep the indexes in step."""
        records = self._records
        for identity, record in new.items():
            username, scope, block = identity
            old = records.get(identity)
            if record is None:
                if old is not None:
                    del records[identity]
                    self._unindex(identity, old)
                continue
            # One assignment: a reader (who takes no lock) sees the old record
            # or the new one, never none (a pop, then a set, showed none).
            records[identity] = record
            if old is None:
                self._by_block.setdefault((scope, block), set()).add(username)
                if record[_COURSE] is not None:
                    self._by_course.setdefault((scope, record[_COURSE]), set()).add(
                        (block, username)
                    )

    def _count_user(self, username: str) -> int:
        with self._lock:
            return sum(1 for identity in self._records if identity[0] == username)

    def _forget_user(self, username: str) -> int:
        with self._lock:
            mine = [identity for identity in self._records if identity[0] == username]
            for identity in mine:
                self._unindex(identity, self._records.pop(identity))
            return len(mine)

    def _unindex(self, identity: _Identity, record: _Record) -> None:
        username, scope, block = identity
        users = self._by_block[(scope, block)]
        users.discard(username)
        if not users:
            del self._by_block[(scope, block)]
        if record[_COURSE] is not None:
            members = self._by_course[(scope, record[_COURSE])]
            members.discard((block, username))
            if not members:
                del self._by_course[(scope, record[_COURSE])]

    def _current(self, username: str, scope: Scope, block: str) -> tuple[str, datetime] | None:
        record = self._records.get((username, scope, block))
        return None if record is None else (record[_TEXT], record[_UPDATED])

    def _iter_all_for_block(
        self, block_key: BlockKey, scope: Scope, batch_size: int
    ) -> Iterator[UserState]:
        block = str(block_key)
        with self._lock:
            usernames = sorted(self._by_block.get((scope, block), ()))
        wanted = [(username, block, block_key) for username in usernames]
        return self._stream(wanted, scope, batch_size)

    def _iter_all_for_course(
        self, course: str, block_type: str | None, scope: Scope, batch_size: int
    ) -> Iterator[UserState]:
        with self._lock:
            members = [
                (self._records[(username, scope, block)][_TYPE] or "", block, username)
                for block, username in self._by_course.get((scope, course), ())
            ]
        members.sort()
        return self._stream(
            [
                (username, block, self.key_parser(block))
                for type_, block, username in members
                if block_type is None or type_ == block_type
            ],
            scope,
            batch_size,
        )

    def _stream(
        self, wanted: list[tuple[str, str, BlockKey]], scope: Scope, batch_size: int
    ) -> Iterator[UserState]:
        # Read the records a batch at a time, so a long iteration holds the
        # lock only briefly and sees each block as it is when its batch is read.
        for start in range(0, len(wanted), batch_size):
            with self._lock:
                batch = [
                    (username, key, self._records.get((username, scope, block)))
                    for username, block, key in wanted[start : start + batch_size]
                ]
            for username, key, record in batch:
                if record is not None:
                    yield UserState(
                        username, key, decode_state(record[_TEXT]), record[_UPDATED], scope
                    )
