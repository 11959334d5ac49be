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
from typing import Any, NamedTuple

from lrs import exceptions
from lrs.clients.values import decode_state
from lrs.closeable import Closeable
from lrs.history.base import HistoryLog


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
            ValueError: ``scope`` names no known scope.
        """
        if isinstance(scope, Scope):
            return scope
        name = scope if isinstance(scope, str) else getattr(scope, "name", None)
        for member in cls:
            if member.value == name:
                return member
        known = ", ".join(member.value for member in cls)
        raise ValueError(f"unknown scope {scope!r}; known scopes: {known}")


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


BlockKey = Hashable
"""A block key: a ``str``, or any object whose ``str()`` is its canonical id."""

KeyParser = Callable[[str], Any]
"""Rebuilds a caller's key object from a stored canonical id."""

# edX usage keys: block-v1:ORG+COURSE+RUN+type@TYPE+block@ID
_USAGE_KEY = re.compile(r"^block-v1:([^+]+\+[^+]+\+[^+]+)\+type@([^+]+)\+block@.+$", re.DOTALL)


def block_location(block_key: object) -> tuple[str | None, str | None]:
    """Return ``(course id, block type)`` of a block key, or ``None`` for what is unknown.

    A key's own ``.course_key`` and ``.block_type`` attributes win (edX's
    ``UsageKey`` has both); otherwise an edX usage-key string is parsed.
    """
    course = getattr(block_key, "course_key", None)
    block_type = getattr(block_key, "block_type", None)
    if course is not None and block_type is not None:
        return str(course), str(block_type)
    match = _USAGE_KEY.match(str(block_key))
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


def check_username(username: object) -> str:
    """Return ``username`` if it is a non-empty string.

    Raises:
        ValueError: it is empty or not a string.
    """
    if not isinstance(username, str) or not username:
        raise ValueError(f"username must be a non-empty string, not {username!r}")
    return username


def check_fields(fields: Iterable[str] | None) -> list[str] | None:
    """Return ``fields`` as a list (``None`` meaning all fields).

    Raises:
        TypeError: ``fields`` is a single string (a common slip for ``[name]``),
            or holds something that is not a string.
    """
    if fields is None:
        return None
    if isinstance(fields, str):
        raise TypeError(f"fields must be a collection of field names, not the string {fields!r}")
    names = list(fields)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"field name {name!r} must be a string, not {type(name).__name__}")
    return names


class UserStateClient(Closeable, ABC):
    """Reads and writes per-block learner state; the interface of every backend.

    ``get``, ``set`` and ``delete`` are built on the ``*_many`` methods, as in
    edX's client. Usernames are non-empty strings; a block key is a ``str`` or
    any object whose ``str()`` is its canonical id, and results hand back the
    caller's own key object. Clients are safe to share between threads.
    """

    UserStateError = exceptions.UserStateError
    DoesNotExist = exceptions.DoesNotExist
    PermissionDenied = exceptions.PermissionDenied
    ServiceUnavailable = exceptions.ServiceUnavailable

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
            TypeError: a field name is not a string or a value is not JSON.
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

    @abstractmethod
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

    @abstractmethod
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
        entry holding its full state after the write, stamped with the same
        ``updated`` time. An empty state changes nothing.

        Raises:
            TypeError: a state is not a mapping, a field name is not a string,
                or a value is not JSON-serialisable (the message names the block
                and field); nothing of the call is written.
            ServiceUnavailable: the store failed.
        """

    @abstractmethod
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

    @abstractmethod
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

    @abstractmethod
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

    @abstractmethod
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


DEFAULT_BATCH_SIZE = 1000


def check_batch_size(batch_size: int | None) -> int:
    """Return a usable batch size.

    Raises:
        ValueError: ``batch_size`` is not a positive integer.
    """
    if batch_size is None:
        return DEFAULT_BATCH_SIZE
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}")
    return batch_size


class StoredUserStateClient(UserStateClient):
    """A client over a store of its own, whose changes go to a ``HistoryLog``.

    Implements ``get_history`` from the log; a backend provides ``_current``.
    (A client that reaches its store through another service, such as an HTTP
    client, implements ``get_history`` itself instead.)
    """

    def __init__(self, history: HistoryLog, key_parser: KeyParser = str) -> None:
        """Keep the history log and the key parser.

        Args:
            history: where changes are recorded and read back from.
            key_parser: rebuilds key objects for ``iter_all_for_course``.
        """
        self.history = history
        self.key_parser = key_parser

    @abstractmethod
    def _current(self, username: str, scope: Scope, block: str) -> tuple[str, datetime] | None:
        """Return a block's stored state (JSON text) and time, or ``None``."""

    def get_history(
        self,
        username: str,
        block_key: BlockKey,
        scope: object = Scope.user_state,
    ) -> Iterator[UserState]:
        """Return one block's history, newest first (see ``UserStateClient``)."""
        check_username(username)
        scope = Scope.coerce(scope)
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
