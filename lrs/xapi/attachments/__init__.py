"""Attachments sent with statements: interface, memory and MongoDB backends.

``MongoAttachmentStore`` is imported on first use.
"""

import lrs.lazy
from lrs.xapi.attachments.base import (
    AttachmentData,
    AttachmentStore,
    Part,
    attachment_parts,
    check_statement_attachments,
    sha2_matches,
)
from lrs.xapi.attachments.memory import MemoryAttachmentStore

__all__ = [
    "AttachmentData",
    "AttachmentStore",
    "MemoryAttachmentStore",
    "MongoAttachmentStore",
    "Part",
    "SqliteAttachmentStore",
    "attachment_parts",
    "check_statement_attachments",
    "sha2_matches",
]


_BACKENDS = {
    "MongoAttachmentStore": "lrs.xapi.attachments.mongo",
    "SqliteAttachmentStore": "lrs.xapi.attachments.sqlite",
}


def __getattr__(name: str) -> object:
    """The SQLite and MongoDB backends, imported on first use (the interface needs no driver)."""
    return lrs.lazy.lazy_attribute(__name__, name, _BACKENDS)
