"""Learning progress derived from statements (see ``lrs.progress.base``, ``docs/progress.md``)."""

import lrs.lazy
from lrs.progress.base import ProgressStore
from lrs.progress.derive import ContentSession, ContentSummary, Event, UserSession, event_of
from lrs.progress.memory import MemoryProgressStore

__all__ = [
    "ContentSession",
    "ContentSummary",
    "Event",
    "MemoryProgressStore",
    "MongoProgressStore",
    "ProgressStore",
    "SqliteProgressStore",
    "UserSession",
    "event_of",
]


_BACKENDS = {
    "MongoProgressStore": "lrs.progress.mongo",
    "SqliteProgressStore": "lrs.progress.sqlite",
}


def __getattr__(name: str) -> object:
    """The SQLite and MongoDB backends, imported on first use (the interface needs no driver)."""
    return lrs.lazy.lazy_attribute(__name__, name, _BACKENDS)
