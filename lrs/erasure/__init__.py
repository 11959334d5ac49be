"""A learner's erasure: their personal data removed from every store, and the record of it."""

import lrs.lazy
from lrs.erasure.base import Erasure, ErasureStore, pseudonym_of
from lrs.erasure.memory import MemoryErasureStore

__all__ = [
    "Erasure",
    "ErasureStore",
    "MemoryErasureStore",
    "MongoErasureStore",
    "SqliteErasureStore",
    "pseudonym_of",
]


_BACKENDS = {
    "MongoErasureStore": "lrs.erasure.mongo",
    "SqliteErasureStore": "lrs.erasure.sqlite",
}


def __getattr__(name: str) -> object:
    """The SQLite and MongoDB backends, imported on first use (the interface needs no driver)."""
    return lrs.lazy.lazy_attribute(__name__, name, _BACKENDS)
