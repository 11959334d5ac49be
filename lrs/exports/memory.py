"""Export records in this process's memory."""

import threading

from lrs.exports.base import ExportLog, ExportRequest


class MemoryExportLog(ExportLog):
    """Export records in a dict; thread-safe, one process only."""

    def __init__(self) -> None:
        """An empty log."""
        self._lock = threading.Lock()
        self._records: dict[str, ExportRequest] = {}

    def put(self, request: ExportRequest) -> None:
        """Write a record."""
        with self._lock:
            self._records[request.id] = request

    def _list(self, limit: int | None) -> list[ExportRequest]:
        with self._lock:
            found = sorted(
                self._records.values(), key=lambda item: (item.requested, item.id), reverse=True
            )
        return found if limit is None else found[:limit]
