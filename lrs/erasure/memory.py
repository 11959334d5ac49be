"""Erasure records in this process's memory."""

import threading
from collections.abc import Sequence

from lrs.erasure.base import Erasure, ErasureStore


class MemoryErasureStore(ErasureStore):
    """Erasure records in a dict; thread-safe, one process only."""

    def __init__(self) -> None:
        """An empty store."""
        self._lock = threading.Lock()
        self._records: dict[str, Erasure] = {}
        self._kept: dict[str, bytes] = {}
        self._erased: dict[str, str] = {}

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

    def _keep_identities(self, identities: dict[str, str]) -> None:
        with self._lock:
            for digest, replacement in identities.items():
                if self._erased.get(digest) != replacement:  # kept already: left as it is
                    self._erased[digest] = replacement

    def _identities(self, digests: Sequence[str]) -> dict[str, str]:
        erased = self._erased
        return {digest: erased[digest] for digest in digests if digest in erased}

    def _secret(self, name: str) -> bytes | None:
        return self._kept.get(name)

    def _keep_secret(self, name: str, value: bytes) -> None:
        with self._lock:
            self._kept.setdefault(name, value)
