"""Exports: records written out as NDJSON or CSV, and the record of every export."""

import lrs.lazy
from lrs.exports.base import ExportLog, ExportRequest
from lrs.exports.memory import MemoryExportLog

__all__ = [
    "ExportLog",
    "ExportRequest",
    "MemoryExportLog",
    "MongoExportLog",
    "SqliteExportLog",
]


_BACKENDS = {
    "MongoExportLog": "lrs.exports.mongo",
    "SqliteExportLog": "lrs.exports.sqlite",
}


def __getattr__(name: str) -> object:
    """The SQLite and MongoDB backends, imported on first use (the interface needs no driver)."""
    return lrs.lazy.lazy_attribute(__name__, name, _BACKENDS)
