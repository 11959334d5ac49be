"""Learner state in this process's memory: for tests, demos and one-process servers.

Each block's state is kept as one JSON text, which is immutable: a read decodes
fresh objects (callers can never alter what is stored), and a history entry
shares the text rather than copying it.
"""

import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lrs.clients.base import (
    BlockKey,
    KeyParser,
    Scope,
    StoredUserStateClient,
    UserState,
    block_location,
    check_batch_size,
    check_fields,
    check_username,
)
from lrs.clients.values import decode_state, encode_state, overlay
from lrs.clock import default_clock, from_us
from lrs.history.base import HistoryEntry, HistoryLog
from lrs.history.memory import MemoryHistoryLog


@dataclass(frozen=True, slots=True)
class _Record:
    text: str
    updated: datetime
    course: str | None
    block_type: str | None


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

    def get_many(
        self,
        username: str,
        block_keys: Iterable[BlockKey],
        scope: object = Scope.user_state,
        fields: Iterable[str] | None = None,
    ) -> Iterator[UserState]:
        """Return the stored state of several blocks (see ``UserStateClient``)."""
        check_username(username)
        scope = Scope.coerce(scope)
        names = check_fields(fields)
        # No lock: records are immutable and a dict lookup is atomic, so a
        # reader sees each block either before or after a write.
        records = self._records
        found: dict[str, tuple[BlockKey, _Record]] = {}
        for key in block_keys:
            block = str(key)
            if block not in found:
                record = records.get((username, scope, block))
                if record is not None:
                    found[block] = (key, record)
        return (
            UserState(username, key, decode_state(record.text, names), record.updated, scope)
            for key, record in found.values()
        )

    def set_many(
        self,
        username: str,
        block_keys_to_state: Mapping[BlockKey, Mapping[str, Any]],
        scope: object = Scope.user_state,
    ) -> None:
        """Overlay new fields on several blocks (see ``UserStateClient``)."""
        check_username(username)
        scope = Scope.coerce(scope)
        changes = []
        for key, state in block_keys_to_state.items():
            block = str(key)
            text = encode_state(block, state)
            if state:
                changes.append((key, block, text))
        if not changes:
            return
        with self._lock:
            time_us = default_clock.now_us()
            updated = from_us(time_us)
            new: dict[_Identity, _Record | None] = {}
            for key, block, text in changes:
                identity = (username, scope, block)
                old = new.get(identity) or self._records.get(identity)
                if old is None:
                    course, block_type = block_location(key)
                    new[identity] = _Record(text, updated, course, block_type)
                else:
                    new[identity] = _Record(
                        overlay(old.text, text), updated, old.course, old.block_type
                    )
            self._commit(new, time_us)

    def delete_many(
        self,
        username: str,
        block_keys: Iterable[BlockKey],
        scope: object = Scope.user_state,
        fields: Iterable[str] | None = None,
    ) -> None:
        """Delete fields, or whole blocks (see ``UserStateClient``)."""
        check_username(username)
        scope = Scope.coerce(scope)
        names = check_fields(fields)
        blocks = [str(key) for key in block_keys]
        with self._lock:
            time_us = default_clock.now_us()
            updated = from_us(time_us)
            new: dict[_Identity, _Record | None] = {}
            for block in blocks:
                identity = (username, scope, block)
                old = new[identity] if identity in new else self._records.get(identity)
                if old is None:
                    continue
                if names is None:
                    new[identity] = None
                    continue
                state = decode_state(old.text)
                if not any(name in state for name in names):
                    continue
                for name in names:
                    state.pop(name, None)
                new[identity] = (
                    _Record(encode_state(block, state), updated, old.course, old.block_type)
                    if state
                    else None
                )
            self._commit(new, time_us)

    def _commit(self, new: Mapping[_Identity, _Record | None], time_us: int) -> None:
        """Record history, then apply: a failing history log leaves the state untouched."""
        if not new:
            return
        self.history.append(
            [
                HistoryEntry(
                    username, scope, block, None if record is None else record.text, time_us
                )
                for (username, scope, block), record in new.items()
            ]
        )
        for identity, record in new.items():
            username, scope, block = identity
            old = self._records.pop(identity, None)
            if record is None:
                if old is not None:
                    self._unindex(identity, old)
                continue
            self._records[identity] = record
            if old is None:
                self._by_block.setdefault((scope, block), set()).add(username)
                if record.course is not None:
                    self._by_course.setdefault((scope, record.course), set()).add((block, username))

    def _unindex(self, identity: _Identity, record: _Record) -> None:
        username, scope, block = identity
        users = self._by_block[(scope, block)]
        users.discard(username)
        if not users:
            del self._by_block[(scope, block)]
        if record.course is not None:
            members = self._by_course[(scope, record.course)]
            members.discard((block, username))
            if not members:
                del self._by_course[(scope, record.course)]

    def _current(self, username: str, scope: Scope, block: str) -> tuple[str, datetime] | None:
        record = self._records.get((username, scope, block))
        return None if record is None else (record.text, record.updated)

    def iter_all_for_block(
        self,
        block_key: BlockKey,
        scope: object = Scope.user_state,
        batch_size: int | None = None,
    ) -> Iterator[UserState]:
        """Yield every learner's state in one block (see ``UserStateClient``)."""
        scope = Scope.coerce(scope)
        block = str(block_key)
        size = check_batch_size(batch_size)
        with self._lock:
            usernames = sorted(self._by_block.get((scope, block), ()))
        return self._stream([(username, block, block_key) for username in usernames], scope, size)

    def iter_all_for_course(
        self,
        course_key: object,
        block_type: str | None = None,
        scope: object = Scope.user_state,
        batch_size: int | None = None,
    ) -> Iterator[UserState]:
        """Yield every state in a course (see ``UserStateClient``)."""
        scope = Scope.coerce(scope)
        size = check_batch_size(batch_size)
        with self._lock:
            members = [
                (self._records[(username, scope, block)].block_type or "", block, username)
                for block, username in self._by_course.get((scope, str(course_key)), ())
            ]
        members.sort()
        return self._stream(
            [
                (username, block, self.key_parser(block))
                for type_, block, username in members
                if block_type is None or type_ == block_type
            ],
            scope,
            size,
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
                    yield UserState(username, key, decode_state(record.text), record.updated, scope)
