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
    "attachment_parts",
    "check_statement_attachments",
    "sha2_matches",
]


def __getattr__(name: str) -> object:
    """The MongoDB backend, imported on first use."""
    return lrs.lazy.lazy_attribute(
        __name__, name, {"MongoAttachmentStore": "lrs.xapi.attachments.mongo"}
    )
