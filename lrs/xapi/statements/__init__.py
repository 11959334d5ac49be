"""Statement storage: interface, memory and MongoDB backends."""

import lrs.lazy
from lrs.xapi.statements.base import Record, StatementQuery, StatementStore, terms_of
from lrs.xapi.statements.memory import MemoryStatementStore

__all__ = [
    "MemoryStatementStore",
    "MongoStatementStore",
    "Record",
    "StatementQuery",
    "StatementStore",
    "terms_of",
]


def __getattr__(name: str) -> object:
    """The MongoDB backend, imported on first use: the interface does not need the driver."""
    return lrs.lazy.lazy_attribute(
        __name__, name, {"MongoStatementStore": "lrs.xapi.statements.mongo"}
    )
