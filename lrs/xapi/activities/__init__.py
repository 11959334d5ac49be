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
    "activity_object",
    "definitions_in",
    "merge_definitions",
]


def __getattr__(name: str) -> object:
    """The MongoDB backend, imported on first use."""
    return lrs.lazy.lazy_attribute(
        __name__, name, {"MongoActivityStore": "lrs.xapi.activities.mongo"}
    )
