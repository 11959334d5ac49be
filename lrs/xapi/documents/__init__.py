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
    "JSON",
    "Context",
    "Document",
    "DocumentStore",
    "MemoryDocumentStore",
    "MongoDocumentStore",
    "Resource",
    "check_json",
    "content_etag",
    "etag_of",
    "is_json_type",
    "json_object",
    "merged",
]


def __getattr__(name: str) -> object:
    """The MongoDB backend, imported on first use."""
    return lrs.lazy.lazy_attribute(
        __name__, name, {"MongoDocumentStore": "lrs.xapi.documents.mongo"}
    )
