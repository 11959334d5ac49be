"""Documents in MongoDB: the ``documents`` collection."""

from collections.abc import Callable
from typing import Any

from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from lrs.mongo import collection, ensure_index, translate_errors
from lrs.retries import attempts
from lrs.xapi.documents.base import Context, Document, DocumentStore


class MongoDocumentStore(DocumentStore):
    """Documents in the ``documents`` collection, one MongoDB document each.

    A unique index on (resource, activity, agent, registration, id) keeps one
    document per name. Writes are compare-and-set: read the document, check
    the conditions, then insert (the unique index refuses a racing insert)
    or update only if its version counter is still the one read, and retry
    when another writer won. So two POST merges never lose each other's keys
    and a stale If-Match never overwrites.
    """

    _KEY = ("resource", "activity_id", "agent", "registration", "document_id")
    # The same fields, in the order of the unique index (which also serves an
    # erasure's count and deletion of a learner's documents, by agent).
    _UNIQUE = ("agent", "activity_id", "resource", "registration", "document_id")

    def __init__(self, database: Database[Any]) -> None:
        """Open the store in ``database`` and create its indexes."""
        self._collection = collection(database, "documents")
        with translate_errors():
            # The shard key docs/mongodb.md proposes, {agent, activity_id},
            # first: a sharded cluster keeps a unique index only when it
            # starts with the shard key.
            ensure_index(
                self._collection,
                [(name, ASCENDING) for name in self._UNIQUE],
                unique=True,
                name="document_by_agent",
            )
            # Listing ids with ``since`` reads the context's entries by update time.
            ensure_index(
                self._collection,
                [(name, ASCENDING) for name in self._KEY[:4]] + [("updated_us", ASCENDING)],
                name="context_updated",
            )

    @staticmethod
    def _context_filter(context: Context) -> dict[str, Any]:
        return {
            "resource": context.resource.value,
            "activity_id": context.activity_id,
            "agent": context.agent,
            "registration": context.registration,
        }

    def _filter(self, context: Context, document_id: str) -> dict[str, Any]:
        return {**self._context_filter(context), "document_id": document_id}

    @staticmethod
    def _document(stored: dict[str, Any]) -> Document:
        return Document(
            stored["document_id"],
            bytes(stored["content"]),
            stored["content_type"],
            stored["updated_us"],
        )

    def get(self, context: Context, document_id: str) -> Document | None:
        """Return the document, or ``None``."""
        with translate_errors():
            stored = self._collection.find_one(self._filter(context, document_id))
        return None if stored is None else self._document(stored)

    def ids(self, context: Context, since_us: int | None = None) -> list[tuple[str, int]]:
        """Return the (id, updated_us) of the context's documents, updated after ``since_us``."""
        query = self._context_filter(context)
        if since_us is not None:
            query["updated_us"] = {"$gt": since_us}
        with translate_errors():
            found = self._collection.find(query, {"document_id": 1, "updated_us": 1, "_id": 0})
            return [(item["document_id"], item["updated_us"]) for item in found]

    def _write(
        self,
        context: Context,
        document_id: str,
        written: Callable[[Document | None], Document],
    ) -> Document:
        # Compare-and-set on the document's version: a write that lost a race
        # reads again and is checked again.
        name = self._filter(context, document_id)
        for _ in attempts("the document"):
            with translate_errors():
                stored = self._collection.find_one(name)
            document = written(None if stored is None else self._document(stored))
            fields = {
                "content": document.content,
                "content_type": document.content_type,
                "updated_us": document.updated_us,
            }
            with translate_errors():
                if stored is None:
                    try:
                        self._collection.insert_one({**name, **fields, "version": 1})
                    except DuplicateKeyError:
                        continue  # another writer created it first: check again
                else:
                    unchanged = {"_id": stored["_id"], "version": stored["version"]}
                    change = {"$set": fields, "$inc": {"version": 1}}
                    if not self._collection.update_one(unchanged, change).matched_count:
                        continue  # changed since it was read: check again
            break
        return document

    def _remove(
        self, context: Context, document_id: str, check: Callable[[Document | None], None]
    ) -> None:
        name = self._filter(context, document_id)
        for _ in attempts("the document"):
            with translate_errors():
                stored = self._collection.find_one(name)
            check(None if stored is None else self._document(stored))
            if stored is None:
                return
            unchanged = {"_id": stored["_id"], "version": stored["version"]}
            with translate_errors():
                if self._collection.delete_one(unchanged).deleted_count:
                    return

    def count_agents(self, keys: frozenset[str]) -> int:
        """How many documents these agents have."""
        with translate_errors():
            return int(self._collection.count_documents({"agent": {"$in": sorted(keys)}}))

    def forget_agents(self, keys: frozenset[str]) -> int:
        """Delete every document of these agents; return how many went."""
        with translate_errors():
            found = self._collection.delete_many({"agent": {"$in": sorted(keys)}})
            return int(found.deleted_count)

    def delete_all(self, context: Context) -> None:
        """Delete every document of the context."""
        with translate_errors():
            self._collection.delete_many(self._context_filter(context))
