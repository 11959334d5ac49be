"""Documents of the State, Activity Profile and Agent Profile resources.

xAPI-Communication.md sections 2.2, 2.3, 2.6, 2.7 and 3.1. A document is any
content with its content type, kept byte for byte, inside a context: the
resource, and the activity, agent and registration its parameters name. Its
ETag is the SHA-1 of its content (section 3.1). Every write is conditional:
``Conditions`` carries the request's ``If-Match`` and ``If-None-Match``, and
each backend checks them and writes in one atomic step.
"""

import hashlib
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

import orjson
from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from lrs import strict_json
from lrs.closeable import Closeable
from lrs.exceptions import Conflict, PreconditionFailed, ServiceUnavailable
from lrs.mongo import CAS_ATTEMPTS, back_off, collection, translate_errors

JSON = "application/json"


class Resource(StrEnum):
    """The three document resources."""

    state = "state"
    activity_profile = "activity_profile"
    agent_profile = "agent_profile"


class Context(NamedTuple):
    """Where a document lives: its resource and the parameters that name it.

    ``agent`` is the agent's key (``lrs.xapi.statements.agent_key``); fields a
    resource does not use, and an absent registration, are empty strings.
    """

    resource: Resource
    activity_id: str = ""
    agent: str = ""
    registration: str = ""


class Document(NamedTuple):
    """One stored document."""

    id: str
    content: bytes
    content_type: str
    updated_us: int

    @property
    def etag(self) -> str:
        """The SHA-1 of the content in lower-case hex (section 3.1)."""
        return hashlib.sha1(self.content, usedforsecurity=False).hexdigest()


def is_json_type(content_type: str) -> bool:
    """Whether a Content-Type is ``application/json`` (parameters such as charset aside)."""
    return content_type.split(";")[0].strip().lower() == JSON


def json_object(content: bytes, content_type: str) -> dict[str, Any] | None:
    """The JSON object a document holds, or ``None`` when it holds something else.

    Raises:
        InexactNumber: it is JSON with an integer that would not be kept
            exactly (a ``ValueError``): it cannot be merged or read as fields.
    """
    if not is_json_type(content_type):
        return None
    try:
        value = strict_json.loads(content, "document")
    except strict_json.InexactNumber:
        raise
    except strict_json.JSONError:
        return None
    return value if isinstance(value, dict) else None


def check_json(content: bytes, content_type: str) -> None:
    """Refuse content declared ``application/json`` that is not JSON (or not exactly keepable).

    Raises:
        ValueError: the message says why.
    """
    if not is_json_type(content_type):
        return
    try:
        strict_json.loads(content, "document")
    except strict_json.InexactNumber:
        raise
    except strict_json.JSONError as exc:
        raise ValueError(
            f"the document is sent as application/json but is not valid JSON: {exc}"
        ) from None


def merged(current: Document | None, content: bytes, content_type: str) -> tuple[bytes, str]:
    """The content a POST leaves: the posted document, or both merged (section 2.2).

    Only top-level properties are merged; the posted ones win.

    Raises:
        ValueError: a document exists and either it or the posted one is not
            a JSON object sent as ``application/json``.
    """
    if current is None:
        return content, content_type
    posted = json_object(content, content_type)
    if posted is None:
        raise ValueError(
            "a POST to an existing document merges JSON: send a JSON object as "
            "application/json (use PUT to replace the document)"
        )
    existing = json_object(current.content, current.content_type)
    if existing is None:
        raise ValueError(
            "the stored document is not a JSON object, so nothing can be merged into it "
            "(use PUT to replace it)"
        )
    try:
        return orjson.dumps({**existing, **posted}), JSON
    except orjson.JSONEncodeError:
        # orjson writes at most 254 levels; stored as sent, such a document
        # could never be merged again, so it is refused now.
        raise ValueError("the merged document is nested too deeply (at most 250 levels)") from None


@dataclass(frozen=True)
class Conditions:
    """A write's preconditions (section 3.1; RFC 9110 section 13.1).

    ``if_match`` and ``if_none_match`` are the ETags the headers list (``"*"``
    for any), or ``None`` when the header is absent. With ``required``, a
    write with neither header to a document that exists is a conflict; with
    ``required_for_new`` too, one to a document that does not exist yet is
    refused as a bad request.
    """

    if_match: frozenset[str] | None = None
    if_none_match: frozenset[str] | None = None
    required: bool = False
    required_for_new: bool = False

    def check(self, current: Document | None) -> None:
        """Raise unless a write may replace ``current`` (``None``: no document).

        Raises:
            PreconditionFailed: If-Match or If-None-Match fails (412).
            Conflict: ``required``, neither header, and the document exists (409).
            ValueError: ``required_for_new``, neither header, and no document (400).
        """
        etag = None if current is None else current.etag
        if self.if_match is not None and (
            etag is None or not ("*" in self.if_match or etag in self.if_match)
        ):
            raise PreconditionFailed(
                "If-Match does not match the document's current ETag"
                + ("" if etag is not None else " (there is no such document)")
            )
        if self.if_none_match is not None and (
            etag is not None and ("*" in self.if_none_match or etag in self.if_none_match)
        ):
            raise PreconditionFailed("If-None-Match: the document exists")
        no_headers = self.if_match is self.if_none_match is None
        if self.required_for_new and current is None and no_headers:
            raise ValueError(
                "send If-None-Match: * to create this document (or If-Match with its ETag to "
                "replace one): a PUT of a profile needs one of them (Communication 3.1)"
            )
        if self.required and current is not None and no_headers:
            raise Conflict(
                "the document exists: check its current state, then send If-Match with its "
                "ETag to replace it (or If-None-Match: * to create only)"
            )


#: A write with no preconditions.
UNCONDITIONAL = Conditions()


class DocumentStore(Closeable, ABC):
    """Stores documents; every write checks its conditions atomically."""

    @abstractmethod
    def get(self, context: Context, document_id: str) -> Document | None:
        """Return the document, or ``None``."""

    @abstractmethod
    def ids(self, context: Context, since_us: int | None = None) -> list[tuple[str, int]]:
        """Return the (id, updated_us) of the context's documents, updated after ``since_us``."""

    @abstractmethod
    def put(
        self,
        context: Context,
        document_id: str,
        content: bytes,
        content_type: str,
        *,
        updated_us: int,
        merge: bool = False,
        conditions: Conditions = UNCONDITIONAL,
    ) -> Document | None:
        """Store a document (PUT), or merge into it (POST, ``merge``), if ``conditions`` hold.

        Returns:
            The document as stored, or ``None`` if the write left none.

        Raises:
            PreconditionFailed: a precondition failed; nothing changed.
            Conflict: see ``Conditions``; nothing changed.
            ValueError: a merge of documents that are not both JSON objects.
        """

    @abstractmethod
    def delete(
        self, context: Context, document_id: str, conditions: Conditions = UNCONDITIONAL
    ) -> None:
        """Delete a document if ``conditions`` hold (deleting none is not an error).

        Raises:
            PreconditionFailed: a precondition failed; nothing changed.
        """

    @abstractmethod
    def delete_all(self, context: Context) -> None:
        """Delete every document of the context."""


class MemoryDocumentStore(DocumentStore):
    """Documents in a dict, under one lock; thread-safe, one process only."""

    def __init__(self) -> None:
        """Create an empty store."""
        self._lock = threading.Lock()
        self._documents: dict[Context, dict[str, Document]] = {}

    def get(self, context: Context, document_id: str) -> Document | None:
        """Return the document, or ``None``."""
        return self._documents.get(context, {}).get(document_id)

    def ids(self, context: Context, since_us: int | None = None) -> list[tuple[str, int]]:
        """Return the (id, updated_us) of the context's documents, updated after ``since_us``."""
        with self._lock:
            documents = list(self._documents.get(context, {}).values())
        return [
            (doc.id, doc.updated_us)
            for doc in documents
            if since_us is None or doc.updated_us > since_us
        ]

    def put(
        self,
        context: Context,
        document_id: str,
        content: bytes,
        content_type: str,
        *,
        updated_us: int,
        merge: bool = False,
        conditions: Conditions = UNCONDITIONAL,
    ) -> Document:
        """Store or merge a document if ``conditions`` hold (see ``DocumentStore``)."""
        with self._lock:
            documents = self._documents.setdefault(context, {})
            current = documents.get(document_id)
            conditions.check(current)
            if merge:
                content, content_type = merged(current, content, content_type)
            document = Document(document_id, content, content_type, updated_us)
            documents[document_id] = document
            return document

    def delete(
        self, context: Context, document_id: str, conditions: Conditions = UNCONDITIONAL
    ) -> None:
        """Delete a document if ``conditions`` hold (see ``DocumentStore``)."""
        with self._lock:
            documents = self._documents.get(context, {})
            conditions.check(documents.get(document_id))
            documents.pop(document_id, None)

    def delete_all(self, context: Context) -> None:
        """Delete every document of the context."""
        with self._lock:
            self._documents.pop(context, None)


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

    def __init__(self, database: Database[Any]) -> None:
        """Open the store in ``database`` and create its indexes."""
        self._collection = collection(database, "documents")
        with translate_errors():
            self._collection.create_index(
                [(name, ASCENDING) for name in self._KEY], unique=True, name="document"
            )
            # Listing ids with ``since`` reads the context's entries by update time.
            self._collection.create_index(
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

    def put(
        self,
        context: Context,
        document_id: str,
        content: bytes,
        content_type: str,
        *,
        updated_us: int,
        merge: bool = False,
        conditions: Conditions = UNCONDITIONAL,
    ) -> Document:
        """Store or merge a document if ``conditions`` hold (see ``DocumentStore``)."""
        name = self._filter(context, document_id)
        for attempt in range(CAS_ATTEMPTS):
            back_off(attempt)
            with translate_errors():
                stored = self._collection.find_one(name)
            current = None if stored is None else self._document(stored)
            conditions.check(current)
            new_content, new_type = (
                merged(current, content, content_type) if merge else (content, content_type)
            )
            fields = {"content": new_content, "content_type": new_type, "updated_us": updated_us}
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
            return Document(document_id, new_content, new_type, updated_us)
        raise _contention()

    def delete(
        self, context: Context, document_id: str, conditions: Conditions = UNCONDITIONAL
    ) -> None:
        """Delete a document if ``conditions`` hold (see ``DocumentStore``)."""
        name = self._filter(context, document_id)
        for attempt in range(CAS_ATTEMPTS):
            back_off(attempt)
            with translate_errors():
                stored = self._collection.find_one(name)
            conditions.check(None if stored is None else self._document(stored))
            if stored is None:
                return
            unchanged = {"_id": stored["_id"], "version": stored["version"]}
            with translate_errors():
                if self._collection.delete_one(unchanged).deleted_count:
                    return
        raise _contention()

    def delete_all(self, context: Context) -> None:
        """Delete every document of the context."""
        with translate_errors():
            self._collection.delete_many(self._context_filter(context))


def _contention() -> ServiceUnavailable:
    return ServiceUnavailable("the document changed too often while being written; retry")
