"""Append-only history of learner-state changes, with a retention policy."""

from lrs.history.base import HistoryEntry, HistoryLog, Retention
from lrs.history.memory import MemoryHistoryLog
from lrs.history.mongo import MongoHistoryLog

__all__ = ["HistoryEntry", "HistoryLog", "MemoryHistoryLog", "MongoHistoryLog", "Retention"]
