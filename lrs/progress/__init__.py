"""Learning progress derived from statements (see ``lrs.progress.base``, ``docs/progress.md``)."""

from lrs.progress.base import ProgressStore
from lrs.progress.derive import ContentSession, ContentSummary, Event, UserSession, event_of
from lrs.progress.memory import MemoryProgressStore

__all__ = [
    "ContentSession",
    "ContentSummary",
    "Event",
    "MemoryProgressStore",
    "ProgressStore",
    "UserSession",
    "event_of",
]
