"""Erasure records in this process's memory."""

import threading

from lrs.erasure.base import Erasure, ErasureStore


class MemoryErasureStore(ErasureStore):
    """Erasure records in a dict; thread-safe, one process only."""

    def __init__(self) -> None:
        """An empty store."""
        self._lock = threading.Lock()
        self._records: dict[str, Erasure] = {}
        self._kept: dict[str, bytes] = {}

    def get(self, pseudonym: str) -> Erasure | None:
        """The record of the learner with this pseudonym, or ``None``."""
        return self._records.get(pseudonym)

    def put(self, erasure: Erasure) -> None:
        """Write a record."""
        with self._lock:
            self._records[erasure.pseudonym] = erasure

    def list(self) -> list[Erasure]:
        """Every record, oldest first."""
        with self._lock:
            return sorted(self._records.values(), key=lambda item: (item.started, item.pseudonym))

    def _secret(self, name: str) -> bytes | None:
        return self._kept.get(name)

    def _keep_secret(self, name: str, value: bytes) -> None:
        with self._lock:
            self._kept.setdefault(name, value)
