"""Append-only history of learner-state changes, with a retention policy."""

import lrs.lazy
from lrs.history.base import HistoryEntry, HistoryLog, Retention
from lrs.history.memory import MemoryHistoryLog

__all__ = [
    "HistoryEntry",
    "HistoryLog",
    "MemoryHistoryLog",
    "MongoHistoryLog",
    "Retention",
    "SqliteHistoryLog",
]


_BACKENDS = {
    "MongoHistoryLog": "lrs.history.mongo",
    "SqliteHistoryLog": "lrs.history.sqlite",
}


def __getattr__(name: str) -> object:
    """The SQLite and MongoDB backends, imported on first use (the interface needs no driver)."""
    return lrs.lazy.lazy_attribute(__name__, name, _BACKENDS)
