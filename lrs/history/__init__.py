"""Append-only history of learner-state changes, with a retention policy."""

import lrs.lazy
from lrs.history.base import HistoryEntry, HistoryLog, Retention
from lrs.history.memory import MemoryHistoryLog

__all__ = ["HistoryEntry", "HistoryLog", "MemoryHistoryLog", "MongoHistoryLog", "Retention"]


def __getattr__(name: str) -> object:
    """The MongoDB backend, imported on first use: the interface does not need the driver."""
    return lrs.lazy.lazy_attribute(__name__, name, {"MongoHistoryLog": "lrs.history.mongo"})
