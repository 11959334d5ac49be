"""Attachment data in this process's memory."""

import threading
from collections.abc import Iterable

from lrs.xapi.attachments.base import AttachmentData, AttachmentStore


class MemoryAttachmentStore(AttachmentStore):
    """Attachment data in a dict."""

    def __init__(self) -> None:
        """Create an empty store."""
        self._lock = threading.Lock()
        self._data: dict[str, AttachmentData] = {}

    def put(self, attachments: Iterable[AttachmentData]) -> None:
        """Store data by hash."""
        with self._lock:
            for attachment in attachments:
                self._data.setdefault(attachment.sha2, attachment)

    def get(self, sha2: str) -> AttachmentData | None:
        """Return the data with this hash, or ``None``."""
        return self._data.get(sha2.lower())

    def delete(self, hashes: Iterable[str]) -> int:
        """Remove the data with these hashes; return how many."""
        with self._lock:
            return sum(self._data.pop(sha2.lower(), None) is not None for sha2 in set(hashes))
