"""Attachment data in this process's memory."""

import threading

from lrs.xapi.attachments.base import AttachmentData, AttachmentStore


class MemoryAttachmentStore(AttachmentStore):
    """Attachment data in a dict."""

    def __init__(self) -> None:
        """Create an empty store."""
        self._lock = threading.Lock()
        self._data: dict[str, AttachmentData] = {}

    def _put(self, attachments: list[AttachmentData]) -> None:
        with self._lock:
            for attachment in attachments:
                self._data.setdefault(attachment.sha2, attachment)

    def _get(self, sha2: str) -> AttachmentData | None:
        return self._data.get(sha2)

    def _delete(self, hashes: list[str]) -> int:
        with self._lock:
            return sum(self._data.pop(sha2, None) is not None for sha2 in hashes)
