"""Timestamps for stored changes: UTC, microsecond precision, strictly increasing.

Every change is stamped with an integer count of microseconds since the Unix
epoch. Integers survive every store exactly (BSON dates keep only
milliseconds), sort cheaply, and turn back into aware ``datetime`` objects on
the way out.
"""

import threading
import time
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Clock:
    """A wall clock whose readings never repeat or go backwards in this process.

    Two writes in the same microsecond still get distinct, ordered stamps, so
    a block's history is strictly ordered by time.
    """

    def __init__(self) -> None:
        """Create a clock that has not been read yet."""
        self._lock = threading.Lock()
        self._last = 0

    def now_us(self, count: int = 1) -> int:
        """Return the current time in microseconds since the epoch, unique in this process.

        With ``count``, reserve that many consecutive stamps in one reading
        and return the first: a batch is stamped in order without taking the
        lock once per item.
        """
        now = time.time_ns() // 1000
        with self._lock:
            if now <= self._last:
                now = self._last + 1
            self._last = now + count - 1
        return now


#: The process-wide clock that every store shares, so that stamps from two
#: clients in one process are ordered too.
default_clock = Clock()


def from_us(us: int) -> datetime:
    """Turn microseconds since the epoch into an aware UTC datetime (exactly)."""
    return _EPOCH + timedelta(microseconds=us)


def to_us(moment: datetime) -> int:
    """Turn an aware datetime into microseconds since the epoch (exactly).

    Raises:
        ValueError: ``moment`` is naive; its time zone would be a guess.
    """
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no time zone; give an aware one")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
