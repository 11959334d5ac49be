"""Canonical activity definitions merged from statements: interface, memory and MongoDB backends.

``MongoActivityStore`` is imported on first use.
"""

import lrs.lazy
from lrs.xapi.activities.base import (
    ActivityStore,
    activity_object,
    definitions_in,
    merge_definitions,
)
from lrs.xapi.activities.memory import MemoryActivityStore

__all__ = [
    "ActivityStore",
    "MemoryActivityStore",
    "MongoActivityStore",
    "SqliteActivityStore",
    "activity_object",
    "definitions_in",
    "merge_definitions",
]


_BACKENDS = {
    "MongoActivityStore": "lrs.xapi.activities.mongo",
    "SqliteActivityStore": "lrs.xapi.activities.sqlite",
}


def __getattr__(name: str) -> object:
    """The SQLite and MongoDB backends, imported on first use (the interface needs no driver)."""
    return lrs.lazy.lazy_attribute(__name__, name, _BACKENDS)
