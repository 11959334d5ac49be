"""Statement storage: interface, memory and MongoDB backends."""

import lrs.lazy
from lrs.xapi.statements.base import Record, StatementQuery, StatementStore, terms_of
from lrs.xapi.statements.memory import MemoryStatementStore

__all__ = [
    "MemoryStatementStore",
    "MongoStatementStore",
    "Record",
    "SqliteStatementStore",
    "StatementQuery",
    "StatementStore",
    "terms_of",
]


_BACKENDS = {
    "MongoStatementStore": "lrs.xapi.statements.mongo",
    "SqliteStatementStore": "lrs.xapi.statements.sqlite",
}


def __getattr__(name: str) -> object:
    """The SQLite and MongoDB backends, imported on first use (the interface needs no driver)."""
    return lrs.lazy.lazy_attribute(__name__, name, _BACKENDS)
