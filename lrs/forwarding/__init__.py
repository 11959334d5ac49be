"""Forwarding: other LRSs that every statement stored here is sent to (docs/forwarding.md)."""

import lrs.lazy
from lrs.forwarding.base import DeadLetter, Filters, ForwardingStore, Target
from lrs.forwarding.memory import MemoryForwardingStore

__all__ = [
    "DeadLetter",
    "Filters",
    "ForwardingStore",
    "MemoryForwardingStore",
    "MongoForwardingStore",
    "SqliteForwardingStore",
    "Target",
]

_BACKENDS = {
    "MongoForwardingStore": "lrs.forwarding.mongo",
    "SqliteForwardingStore": "lrs.forwarding.sqlite",
}


def __getattr__(name: str) -> object:
    """The SQLite and MongoDB backends, imported on first use (the interface needs no driver)."""
    return lrs.lazy.lazy_attribute(__name__, name, _BACKENDS)
