"""The append-only history of learner-state changes, and its retention policy.

History is its own store (edX's history table grew to a billion rows and had to
move to its own database): a client appends one entry per changed block and
reads a block's entries newest first. Appending costs the same however long the
history is; old entries go only when ``prune()`` applies the retention policy.
"""

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from lrs.clock import default_clock, from_us, to_us
from lrs.closeable import Closeable
from lrs.exceptions import InvalidInput


class HistoryEntry(NamedTuple):
    """The full state of one block right after one write.

    ``state`` is the JSON text of the state (an object), or ``None`` when the
    write left the block empty. ``time_us`` is the moment of the write
    in microseconds since the epoch.
    """

    username: str
    scope: str
    block: str
    state: str | None
    time_us: int

    @property
    def updated(self) -> datetime:
        """The moment of the write, as an aware UTC datetime."""
        return from_us(self.time_us)


@dataclass(frozen=True)
class Retention:
    """How much history ``prune()`` keeps; ``None`` for no limit.

    An entry is removed when it is not among the ``keep_last`` newest entries
    of its block, or when it is older than ``max_age``: either limit alone is
    enough, so personal data never outlives ``max_age``.
    """

    keep_last: int | None = None
    max_age: timedelta | None = None

    def __post_init__(self) -> None:
        """Reject limits that would make no sense."""
        if self.keep_last is not None and (
            isinstance(self.keep_last, bool)
            or not isinstance(self.keep_last, int)
            or self.keep_last < 1
        ):
            raise InvalidInput(f"keep_last must be a positive integer, not {self.keep_last!r}")
        if self.max_age is not None and (
            not isinstance(self.max_age, timedelta) or self.max_age <= timedelta(0)
        ):
            raise InvalidInput(f"max_age must be a positive timedelta, not {self.max_age!r}")

    def cutoff_us(self, now_us: int) -> int | None:
        """Entries stamped before this moment are too old, or ``None`` without ``max_age``."""
        if self.max_age is None:
            return None
        return now_us - self.max_age // timedelta(microseconds=1)


class HistoryLog(Closeable, ABC):
    """An append-only store of state changes, one sequence per (user, scope, block)."""

    def __init__(self, retention: Retention | None = None) -> None:
        """Create a log that ``prune()`` trims by ``retention`` (default: keep all)."""
        self.retention = retention or Retention()

    @abstractmethod
    def append(self, entries: Sequence[HistoryEntry]) -> None:
        """Store ``entries`` in one write.

        Raises:
            ServiceUnavailable: the store failed; no entry was stored.
        """

    @abstractmethod
    def entries(self, username: str, scope: str, block: str) -> Iterator[HistoryEntry]:
        """Yield the entries of one block, newest first."""

    @abstractmethod
    def _prune(self, keep_last: int | None, cutoff_us: int | None) -> int:
        """Remove what the limits exclude and return how many entries went."""

    @abstractmethod
    def forget(self, username: str) -> int:
        """Remove every entry of ``username`` (a learner's erasure); return how many went."""

    def prune(self, now: datetime | None = None) -> int:
        """Apply the retention policy and return how many entries were removed.

        Args:
            now: the moment ``max_age`` counts back from (default: now).
        """
        now_us = default_clock.now_us() if now is None else to_us(now)
        keep_last, cutoff = self.retention.keep_last, self.retention.cutoff_us(now_us)
        if keep_last is None and cutoff is None:
            return 0
        return self._prune(keep_last, cutoff)
