"""History kept in this process's memory: for tests, demos and one-process servers."""

import bisect
import threading
from collections.abc import Iterator, Sequence

from lrs.history.base import HistoryEntry, HistoryLog, Retention

_Identity = tuple[str, str, str]


def _time(entry: HistoryEntry) -> int:
    return entry.time_us


class MemoryHistoryLog(HistoryLog):
    """A history log in a dict of lists; thread-safe, lost when the process ends."""

    def __init__(self, retention: Retention | None = None) -> None:
        """Create an empty log."""
        super().__init__(retention)
        self._lock = threading.Lock()
        # Ordered by time, oldest first, so appending the newest is O(1).
        self._entries: dict[_Identity, list[HistoryEntry]] = {}

    def append(self, entries: Sequence[HistoryEntry]) -> None:
        """Store ``entries``."""
        with self._lock:
            for entry in entries:
                identity = (entry.username, entry.scope, entry.block)
                block_entries = self._entries.setdefault(identity, [])
                if not block_entries or entry.time_us >= block_entries[-1].time_us:
                    block_entries.append(entry)  # the usual case: the newest write
                else:
                    bisect.insort(block_entries, entry, key=_time)

    def entries(self, username: str, scope: str, block: str) -> Iterator[HistoryEntry]:
        """Yield the entries of one block, newest first."""
        with self._lock:
            snapshot = list(self._entries.get((username, scope, block), ()))
        return reversed(snapshot)

    def _prune(self, keep_last: int | None, cutoff_us: int | None) -> int:
        removed = 0
        with self._lock:
            for identity, entries in list(self._entries.items()):
                kept = entries if keep_last is None else entries[-keep_last:]
                if cutoff_us is not None:
                    kept = [entry for entry in kept if entry.time_us >= cutoff_us]
                removed += len(entries) - len(kept)
                if kept:
                    self._entries[identity] = kept
                else:
                    del self._entries[identity]
        return removed

    def forget(self, username: str) -> int:
        """Remove every entry of ``username``; return how many went."""
        with self._lock:
            mine = [identity for identity in self._entries if identity[0] == username]
            return sum(len(self._entries.pop(identity)) for identity in mine)
