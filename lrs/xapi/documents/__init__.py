"""xAPI documents (State, Activity Profile, Agent Profile): interface, memory and MongoDB backends.

``MongoDocumentStore`` is imported on first use, so that the interface does not
need the MongoDB driver.
"""

import lrs.lazy
from lrs.xapi.documents.base import (
    JSON,
    Context,
    Document,
    DocumentStore,
    Resource,
    check_json,
    content_etag,
    etag_of,
    is_json_type,
    json_object,
    merged,
)
from lrs.xapi.documents.memory import MemoryDocumentStore

__all__ = [
    "Context",
    "Document",
    "DocumentStore",
    "JSON",
    "MemoryDocumentStore",
    "MongoDocumentStore",
    "Resource",
    "SqliteDocumentStore",
    "check_json",
    "content_etag",
    "etag_of",
    "is_json_type",
    "json_object",
    "merged",
]


_BACKENDS = {
    "MongoDocumentStore": "lrs.xapi.documents.mongo",
    "SqliteDocumentStore": "lrs.xapi.documents.sqlite",
}


def __getattr__(name: str) -> object:
    """The SQLite and MongoDB backends, imported on first use (the interface needs no driver)."""
    return lrs.lazy.lazy_attribute(__name__, name, _BACKENDS)
