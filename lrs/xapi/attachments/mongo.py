"""Attachment data in MongoDB: the ``attachments`` collection."""

from typing import Any

from pymongo import UpdateOne
from pymongo.database import Database

from lrs.mongo import collection, translate_errors
from lrs.xapi.attachments.base import AttachmentData, AttachmentStore


class MongoAttachmentStore(AttachmentStore):
    """Attachment data in the ``attachments`` collection, ``_id`` the SHA-2.

    One document per attachment, so data is limited to MongoDB's 16 MB
    document size (the server's body limit, ``LRS_MAX_BODY_BYTES``, is far
    below by default).
    """

    def __init__(self, database: Database[Any]) -> None:
        """Open the store in ``database``."""
        self._collection = collection(database, "attachments")

    def _put(self, attachments: list[AttachmentData]) -> None:
        # An upsert that never overwrites.
        operations = [
            UpdateOne(
                {"_id": item.sha2},
                {"$setOnInsert": {"content_type": item.content_type, "data": item.data}},
                upsert=True,
            )
            for item in attachments
        ]
        with translate_errors():
            self._collection.bulk_write(operations, ordered=False)

    def _get(self, sha2: str) -> AttachmentData | None:
        with translate_errors():
            document = self._collection.find_one({"_id": sha2})
        if document is None:
            return None
        return AttachmentData(document["_id"], document["content_type"], bytes(document["data"]))

    def _delete(self, hashes: list[str]) -> int:
        with translate_errors():
            return int(self._collection.delete_many({"_id": {"$in": hashes}}).deleted_count)
