"""The learner-state client interface, shared by every backend.

It mirrors edX's user-state client: the same method names, parameter names and
order, and the same meaning (see ``lrs.testing`` for the contract in full).
"""

import itertools
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple, TypeVar

from lrs import exceptions
from lrs.clients.values import BlockChange, decode_state, state_etag
from lrs.closeable import Closeable
from lrs.conditions import UNCONDITIONAL, Conditions
from lrs.exceptions import InvalidInput, InvalidValue
from lrs.history.base import HistoryEntry, HistoryLog
from lrs.patterns import Whole
from lrs.usernames import check_username


class Scope(StrEnum):
    """The scopes of learner state, named as XBlock names them.

    A method's ``scope`` may be a member, its name, or any object whose
    ``.name`` is one of the names (XBlock's ``Scope.user_state`` works as is).
    """

    user_state = "user_state"
    preferences = "preferences"
    user_info = "user_info"

    @classmethod
    def coerce(cls, scope: object) -> "Scope":
        """Return the member that ``scope`` names.

        Raises:
            InvalidInput: ``scope`` names no known scope (a ``ValueError``).
        """
        if isinstance(scope, Scope):
            return scope
        name = scope if isinstance(scope, str) else getattr(scope, "name", None)
        for member in cls:
            if member.value == name:
                return member
        known = ", ".join(member.value for member in cls)
        raise InvalidInput(f"unknown scope {scope!r}; known scopes: {known}")


class UserState(NamedTuple):
    """One block's state for one learner, as edX's ``XBlockUserState``.

    ``state`` is ``None`` only in history entries, for a write that left the
    block empty. ``updated`` is the aware UTC moment of the write.
    """

    username: str
    block_key: Any
    state: dict[str, Any] | None
    updated: datetime
    scope: Scope

    @property
    def etag(self) -> str | None:
        """The ETag of the state, the same through both doors (see ``state_etag``)."""
        return state_etag(self.state)


BlockKey = Hashable
"""A block key: a ``str``, or any object whose ``str()`` is its canonical id."""

KeyParser = Callable[[str], Any]
"""Rebuilds a caller's key object from a stored canonical id."""

# edX usage keys: block-v1:ORG+COURSE+RUN+type@TYPE+block@ID
# The course and type are identifiers (no space, no control character); the
# block id after them may be anything.
_USAGE_KEY = Whole(
    r"block-v1:([^+\s\x00-\x1f\x7f]+\+[^+\s\x00-\x1f\x7f]+\+[^+\s\x00-\x1f\x7f]+)"
    r"\+type@([^+\s\x00-\x1f\x7f]+)\+block@.+",
    re.DOTALL,
)


def block_location(block_key: object) -> tuple[str | None, str | None]:
    """Return ``(course id, block type)`` of a block key, or ``None`` for what is unknown.

    A key's own ``.course_key`` and ``.block_type`` attributes win (edX's
    ``UsageKey`` has both); otherwise an edX usage-key string is parsed.
    """
    if type(block_key) is str and not block_key.startswith("block-v1:"):
        return None, None  # most ids of xAPI statements: no attributes, no match
    course = getattr(block_key, "course_key", None)
    block_type = getattr(block_key, "block_type", None)
    if course is not None and block_type is not None:
        return str(course), str(block_type)
    match = _USAGE_KEY.matched(str(block_key))
    if match is None:
        return (None if course is None else str(course)), block_type
    return f"course-v1:{match.group(1)}", match.group(2)


class LocatedKey(str):
    """A block key string that carries its course and block type.

    For keys whose location cannot be parsed from the string: the server
    rebuilds them from what a remote client sent.
    """

    course_key: str | None
    block_type: str | None

    def __new__(cls, block_id: str, course_key: str | None, block_type: str | None) -> "LocatedKey":
        """Make the key ``block_id`` located in ``course_key`` with ``block_type``."""
        key = super().__new__(cls, block_id)
        key.course_key = course_key
        key.block_type = block_type
        return key


def distinct_keys(block_keys: Iterable[BlockKey]) -> dict[str, BlockKey]:
    """Map each distinct block id to the caller's first key object for it, in order."""
    keys: dict[str, BlockKey] = {}
    for key in block_keys:
        keys.setdefault(str(key), key)
    return keys


def check_fields(fields: Iterable[str] | None) -> list[str] | None:
    """Return ``fields`` as a list (``None`` meaning all fields).

    Raises:
        InvalidValue: (a ``TypeError``) ``fields`` is a single string (a
            common slip for ``[name]``), or holds something that is not a string.
    """
    if fields is None:
        return None
    if isinstance(fields, str):
        raise InvalidValue(f"fields must be a collection of field names, not the string {fields!r}")
    names = list(fields)
    for name in names:
        if not isinstance(name, str):
            raise InvalidValue(f"field name {name!r} must be a string, not {type(name).__name__}")
    return names


#: At most this many blocks go to a store in one call of a backend's hook;
#: larger calls are cut into chunks of it (the server's limit per request).
MAX_BLOCKS = 1000
#: The largest page of a list the server answers (``page_size``), and so the
#: largest the HTTP client asks for.
MAX_PAGE_SIZE = 1000

DEFAULT_BATCH_SIZE = 1000


def check_batch_size(batch_size: int | None) -> int:
    """Return a usable batch size.

    Raises:
        InvalidInput: ``batch_size`` is not a positive integer.
    """
    if batch_size is None:
        return DEFAULT_BATCH_SIZE
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidInput(f"batch_size must be a positive integer, not {batch_size!r}")
    return batch_size


class UserStateClient(Closeable, ABC):
    """Reads and writes per-block learner state; the interface of every backend.

    The public methods check and normalize their arguments here, once, then
    call a backend's hooks (the ``_``-prefixed abstract methods) with them:
    usernames are non-empty strings, scopes ``Scope`` members, field names
    lists of strings, each block named once (by its id, with the caller's first
    key object), and states encoded as JSON texts and validated before
    anything is written. ``get``, ``set`` and ``delete`` are built on the
    ``*_many`` methods, as in edX's client. Clients are safe to share between
    threads.
    """

    UserStateError = exceptions.UserStateError
    DoesNotExist = exceptions.DoesNotExist
    PermissionDenied = exceptions.PermissionDenied
    ServiceUnavailable = exceptions.ServiceUnavailable

    # -- edX's interface -------------------------------------------------------

    def get(
        self,
        username: str,
        block_key: BlockKey,
        scope: object = Scope.user_state,
        fields: Iterable[str] | None = None,
    ) -> UserState:
        """Return the stored state of one block.

        Args:
            username: the learner.
            block_key: the block.
            scope: the scope of the state (see ``Scope``).
            fields: only these fields are returned; ``None`` returns all.

        Raises:
            DoesNotExist: the block has no stored state.
        """
        try:
            return next(iter(self.get_many(username, [block_key], scope, fields)))
        except StopIteration:
            raise self.DoesNotExist(
                f"no {Scope.coerce(scope)} state for user {username!r} in block {str(block_key)!r}"
            ) from None

    def set(
        self,
        username: str,
        block_key: BlockKey,
        state: Mapping[str, Any],
        scope: object = Scope.user_state,
    ) -> None:
        """Overlay ``state``'s fields on the stored state of one block.

        Raises:
            InvalidValue: a field name is not a string or a value is not JSON
                (a ``TypeError``).
        """
        self.set_many(username, {block_key: state}, scope)

    def delete(
        self,
        username: str,
        block_key: BlockKey,
        scope: object = Scope.user_state,
        fields: Iterable[str] | None = None,
    ) -> None:
        """Delete ``fields`` of one block, or the whole block when ``fields`` is ``None``.

        Deleting a block or field that is not stored is not an error.
        """
        self.delete_many(username, [block_key], scope, fields)

    def get_many(
        self,
        username: str,
        block_keys: Iterable[BlockKey],
        scope: object = Scope.user_state,
        fields: Iterable[str] | None = None,
    ) -> Iterator[UserState]:
        """Return the stored state of several blocks of one learner, in one store query.

        Args:
            username: the learner.
            block_keys: the blocks wanted.
            scope: the scope of the state.
            fields: only these fields are returned; ``None`` returns all.

        Returns:
            An iterator of ``UserState``, in the order of ``block_keys``, once per
            distinct block. Blocks without stored state are left out; a block
            that has state but none of ``fields`` is yielded with ``{}``.
        """
        check_username(username)
        coerced = Scope.coerce(scope)
        names = check_fields(fields)
        wanted = distinct_keys(block_keys)
        if not wanted:
            return iter(())
        if len(wanted) <= MAX_BLOCKS:
            return self._get_many(username, coerced, wanted, names)
        return itertools.chain.from_iterable(
            self._get_many(username, coerced, chunk, names) for chunk in _chunks(wanted)
        )

    def set_many(
        self,
        username: str,
        block_keys_to_state: Mapping[BlockKey, Mapping[str, Any]],
        scope: object = Scope.user_state,
    ) -> None:
        """Overlay new fields on the stored state of several blocks of one learner.

        Every value is validated before anything is written. Each field is
        updated on its own, so concurrent writers of different fields of one
        block never lose each other's fields. Each changed block gets a history
        entry holding its full state after the write, stamped with the write's
        ``updated`` time (one for all the blocks, unless a block had to be
        written again after a concurrent writer). An empty state changes
        nothing.

        Raises:
            InvalidValue: (a ``TypeError``) a state is not a mapping, a field
                name is not a string, or a value is not JSON-serialisable (the
                message names the block and field); nothing of the call is
                written.
            ServiceUnavailable: the store failed.
        """
        check_username(username)
        coerced = Scope.coerce(scope)
        changes: dict[str, tuple[BlockKey, BlockChange]] = {}
        for key, state in block_keys_to_state.items():
            block = str(key)
            change = BlockChange.setting(block, state)
            earlier = changes.get(block)
            if earlier is not None:  # two key objects with one id: their fields together
                key, change = earlier[0], earlier[1].merged_with(change)
            if change.text:
                changes[block] = (key, change)
        for chunk in _chunks(changes):
            self._set_many(username, coerced, chunk)

    def delete_many(
        self,
        username: str,
        block_keys: Iterable[BlockKey],
        scope: object = Scope.user_state,
        fields: Iterable[str] | None = None,
    ) -> None:
        """Delete ``fields`` (or everything) of several blocks of one learner.

        A block whose last field is deleted ceases to exist, and its history
        gets an entry whose state is ``None``. A block that changes gets a
        history entry; deleting what is not stored changes nothing.
        """
        check_username(username)
        coerced = Scope.coerce(scope)
        names = check_fields(fields)
        keys = distinct_keys(block_keys)
        if names == [] or not keys:
            return
        change = BlockChange.deleting(names)
        for chunk in _chunks(keys):
            self._delete_many(username, coerced, chunk, change)

    def get_history(
        self,
        username: str,
        block_key: BlockKey,
        scope: object = Scope.user_state,
    ) -> Iterator[UserState]:
        """Return the history of one block, newest first.

        Each entry holds the full state after one write (``None`` after a write
        that left the block empty) and the moment of that write; ``updated``
        strictly decreases along the history. When a retention policy has
        pruned every entry of a block that still has state, its current state
        is the only entry.

        Raises:
            DoesNotExist: the block has neither history nor state (raised by
                this call, before iteration).
        """
        check_username(username)
        return self._get_history(username, Scope.coerce(scope), block_key)

    def iter_all_for_block(
        self,
        block_key: BlockKey,
        scope: object = Scope.user_state,
        batch_size: int | None = None,
    ) -> Iterator[UserState]:
        """Yield the state of every learner who has state in one block, by username.

        Args:
            block_key: the block; results hand it back as given.
            scope: the scope of the state.
            batch_size: how many records to fetch from the store at a time.
        """
        coerced = Scope.coerce(scope)
        return self._iter_all_for_block(block_key, coerced, check_batch_size(batch_size))

    def iter_all_for_course(
        self,
        course_key: object,
        block_type: str | None = None,
        scope: object = Scope.user_state,
        batch_size: int | None = None,
    ) -> Iterator[UserState]:
        """Yield every stored state in a course, optionally of one block type.

        Blocks belong to the course that their key names (see
        ``block_location``); ``str(course_key)`` is compared. Results come
        ordered by block type, block and username, with keys rebuilt by the
        client's ``key_parser``.
        """
        coerced = Scope.coerce(scope)
        size = check_batch_size(batch_size)
        return self._iter_all_for_course(str(course_key), block_type, coerced, size)

    # -- one block, conditionally ------------------------------------------------

    def update(
        self,
        username: str,
        block_key: BlockKey,
        change: BlockChange,
        scope: object = Scope.user_state,
        conditions: Conditions = UNCONDITIONAL,
    ) -> UserState | None:
        """Change one block if ``conditions`` hold, in one atomic step; return what it left.

        The one operation behind both doors onto learner state (the REST API
        and the xAPI State resource): a merge (``BlockChange.setting``), a
        replacement (``BlockChange.replacing``, one write and one history
        entry) or a deletion (``BlockChange.deleting``), checked against the
        block's ETag (``UserState.etag``) atomically with the write, so that of
        several writers holding one ETag exactly one wins.

        Returns:
            The block after the change, or ``None`` when it has no state left.
            A change that changes nothing returns the block as it is.

        Raises:
            PreconditionFailed: a condition does not hold; nothing changed.
            Conflict: see ``Conditions``; nothing changed.
            InvalidInput: see ``Conditions``; nothing changed.
        """
        check_username(username)
        return self._update(username, Scope.coerce(scope), block_key, change, conditions)

    # -- the hooks a backend implements ------------------------------------------

    @abstractmethod
    def _get_many(
        self,
        username: str,
        scope: Scope,
        blocks: Mapping[str, BlockKey],
        fields: list[str] | None,
    ) -> Iterator[UserState]:
        """Return the state of up to ``MAX_BLOCKS`` distinct blocks, in order, in one query."""

    @abstractmethod
    def _set_many(
        self, username: str, scope: Scope, changes: Mapping[str, tuple[BlockKey, BlockChange]]
    ) -> None:
        """Apply up to ``MAX_BLOCKS`` validated overlays, all or nothing, with their history."""

    @abstractmethod
    def _delete_many(
        self, username: str, scope: Scope, blocks: Mapping[str, BlockKey], change: BlockChange
    ) -> None:
        """Apply one deletion to up to ``MAX_BLOCKS`` blocks, with their history."""

    @abstractmethod
    def _update(
        self,
        username: str,
        scope: Scope,
        block_key: BlockKey,
        change: BlockChange,
        conditions: Conditions,
    ) -> UserState | None:
        """Change one block if ``conditions`` hold, atomically (see ``update``)."""

    @abstractmethod
    def _get_history(self, username: str, scope: Scope, block_key: BlockKey) -> Iterator[UserState]:
        """Return one block's history, newest first (see ``get_history``)."""

    @abstractmethod
    def _iter_all_for_block(
        self, block_key: BlockKey, scope: Scope, batch_size: int
    ) -> Iterator[UserState]:
        """Yield every learner's state in one block, by username."""

    @abstractmethod
    def _iter_all_for_course(
        self, course: str, block_type: str | None, scope: Scope, batch_size: int
    ) -> Iterator[UserState]:
        """Yield every state in a course, by block type, block and username."""


_Chunked = TypeVar("_Chunked")


def _chunks(items: dict[str, _Chunked]) -> list[dict[str, _Chunked]]:
    """The items in dicts of at most ``MAX_BLOCKS`` (the dict itself when it is small)."""
    if len(items) <= MAX_BLOCKS:
        return [items] if items else []
    pairs = list(items.items())
    return [dict(pairs[start : start + MAX_BLOCKS]) for start in range(0, len(pairs), MAX_BLOCKS)]


class StoredUserStateClient(UserStateClient):
    """A client over a store of its own, whose changes go to a ``HistoryLog``.

    Implements the writes through one hook, ``_apply``, and ``get_history``
    from the log and ``_current``. (A client that reaches its store through
    another service, such as the HTTP client, implements the hooks itself.)
    """

    def __init__(self, history: HistoryLog, key_parser: KeyParser = str) -> None:
        """Keep the history log and the key parser.

        Args:
            history: where changes are recorded and read back from.
            key_parser: rebuilds key objects for ``iter_all_for_course``.
        """
        self.history = history
        self.key_parser = key_parser

    def forget_user(self, username: str) -> int:
        """Remove every block of ``username``, and its history (a learner's erasure).

        Unlike ``delete``, it records no change: nothing of the learner is
        left, not even when their state went. Returns the blocks removed.
        """
        removed = self._forget_user(username)
        self.history.forget(username)
        return removed

    def count_user(self, username: str) -> int:
        """How many blocks ``username`` has, in every scope (what ``forget_user`` would remove)."""
        return self._count_user(username)

    @abstractmethod
    def _count_user(self, username: str) -> int:
        """See ``count_user``."""

    @abstractmethod
    def _forget_user(self, username: str) -> int:
        """Remove every block of ``username`` (in every scope); return how many went."""

    @abstractmethod
    def _apply(
        self,
        username: str,
        scope: Scope,
        changes: Mapping[str, tuple[BlockKey, BlockChange]],
        conditions: Conditions = UNCONDITIONAL,
    ) -> dict[str, HistoryEntry]:
        """Apply changes to blocks, each atomically with ``conditions``, and record them.

        A block whose change changes nothing is left alone. Each changed block
        gets a history entry with its state after the change.

        Returns:
            The history entry of each changed block: its state after the change
            and the time of the write.

        Raises:
            PreconditionFailed, Conflict, InvalidInput: ``conditions`` do not
                hold for a block; nothing changed.
        """

    @staticmethod
    def _entries(
        username: str,
        scope: Scope,
        changes: Mapping[str, tuple[BlockKey, BlockChange]],
        stored: Mapping[str, str],
        conditions: Conditions,
        time_us: int,
    ) -> dict[str, HistoryEntry]:
        """What ``changes`` do to the blocks whose states are ``stored``, for ``_apply``.

        Checks ``conditions`` against each block's current state and returns the
        history entry of each block a change changes (its state after it, or
        ``None`` when the block is left empty). A backend calls it where it holds
        the blocks still (a lock, a transaction) and writes what it returns.

        Args:
            username: whose blocks.
            scope: the blocks' scope.
            changes: each block's key and change.
            stored: the state (JSON text) of each changed block that has one.
            conditions: what must hold of each block's current state.
            time_us: the time of the write.

        Raises:
            PreconditionFailed, Conflict, InvalidInput: ``conditions`` do not hold.
        """
        check = None if conditions.unconditional else conditions.check
        entries: dict[str, HistoryEntry] = {}
        for block, (_, change) in changes.items():
            old = stored.get(block)
            if check is not None:
                check(None if old is None else state_etag(decode_state(old)))
            # A change with fields always writes: the stored state is decoded
            # only to see whether a deletion removes anything.
            if not change.text and not change.changes(None if old is None else decode_state(old)):
                continue  # deleting what is not there changes nothing
            text = change.apply_to_text(old)
            entries[block] = HistoryEntry(username, scope, block, text, time_us)
        return entries

    @abstractmethod
    def _current(self, username: str, scope: Scope, block: str) -> tuple[str, datetime] | None:
        """Return a block's stored state (JSON text) and time, or ``None``."""

    def _set_many(
        self, username: str, scope: Scope, changes: Mapping[str, tuple[BlockKey, BlockChange]]
    ) -> None:
        self._apply(username, scope, changes)

    def _delete_many(
        self, username: str, scope: Scope, blocks: Mapping[str, BlockKey], change: BlockChange
    ) -> None:
        self._apply(username, scope, {block: (key, change) for block, key in blocks.items()})

    def _update(
        self,
        username: str,
        scope: Scope,
        block_key: BlockKey,
        change: BlockChange,
        conditions: Conditions,
    ) -> UserState | None:
        block = str(block_key)
        written = self._apply(username, scope, {block: (block_key, change)}, conditions)
        if block in written:
            entry = written[block]
            text, updated = entry.state, entry.updated
        else:  # nothing to change: the block as it is
            current = self._current(username, scope, block)
            if current is None:
                return None
            text, updated = current
        if text is None:
            return None
        return UserState(username, block_key, decode_state(text), updated, scope)

    def _get_history(self, username: str, scope: Scope, block_key: BlockKey) -> Iterator[UserState]:
        block = str(block_key)
        pending = iter(self.history.entries(username, scope, block))
        first = next(pending, None)
        if first is None:
            # Never written, or pruned away entirely: then the current state
            # is the only history there is.
            stored = self._current(username, scope, block)
            if stored is None:
                raise self.DoesNotExist(
                    f"no {scope} history for user {username!r} in block {block!r}"
                )
            text, updated = stored
            return iter([UserState(username, block_key, decode_state(text), updated, scope)])

        def states() -> Iterator[UserState]:
            for entry in itertools.chain([first], pending):
                state = None if entry.state is None else decode_state(entry.state)
                yield UserState(username, block_key, state, entry.updated, scope)

        return states()
