"""Statement storage: interface, memory and MongoDB backends."""

from lrs.xapi.statements.base import Record, StatementQuery, StatementStore, terms_of
from lrs.xapi.statements.memory import MemoryStatementStore
from lrs.xapi.statements.mongo import MongoStatementStore

__all__ = [
    "MemoryStatementStore",
    "MongoStatementStore",
    "Record",
    "StatementQuery",
    "StatementStore",
    "terms_of",
]
