"""Documents of the State, Activity Profile and Agent Profile resources: what they are.

xAPI-Communication.md sections 2.2, 2.3, 2.6, 2.7 and 3.1. A document is any
content with its content type, kept byte for byte, inside a context: the
resource, and the activity, agent and registration its parameters name. Its
ETag is the SHA-1 of its content (section 3.1). Every write is conditional:
``lrs.conditions.Conditions`` carries the request's ``If-Match`` and
``If-None-Match``, and each backend checks them and writes in one atomic step.
"""

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from enum import StrEnum
from typing import Any, NamedTuple

import orjson

from lrs import strict_json
from lrs.closeable import Closeable
from lrs.conditions import UNCONDITIONAL, Conditions
from lrs.exceptions import InvalidInput

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
        return content_etag(self.content)


def content_etag(content: bytes) -> str:
    """The ETag of a document's content: its SHA-1 in lower-case hex (section 3.1)."""
    return hashlib.sha1(content, usedforsecurity=False).hexdigest()


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
        InvalidInput: the message says why.
    """
    if not is_json_type(content_type):
        return
    try:
        strict_json.loads(content, "document")
    except strict_json.InexactNumber:
        raise
    except strict_json.JSONError as exc:
        raise InvalidInput(
            f"the document is sent as application/json but is not valid JSON: {exc}"
        ) from None


def merged(current: Document | None, content: bytes, content_type: str) -> tuple[bytes, str]:
    """The content a POST leaves: the posted document, or both merged (section 2.2).

    Only top-level properties are merged; the posted ones win.

    Raises:
        InvalidInput: a document exists and either it or the posted one is not
            a JSON object sent as ``application/json``.
    """
    if current is None:
        return content, content_type
    posted = json_object(content, content_type)
    if posted is None:
        raise InvalidInput(
            "a POST to an existing document merges JSON: send a JSON object as "
            "application/json (use PUT to replace the document)"
        )
    existing = json_object(current.content, current.content_type)
    if existing is None:
        raise InvalidInput(
            "the stored document is not a JSON object, so nothing can be merged into it "
            "(use PUT to replace it)"
        )
    try:
        # Right-sized: a store in memory keeps it.
        return strict_json.right_sized(orjson.dumps({**existing, **posted})), JSON
    except orjson.JSONEncodeError:
        # orjson writes at most 254 levels; stored as sent, such a document
        # could never be merged again, so it is refused now.
        raise InvalidInput(
            "the merged document is nested too deeply (at most 250 levels)"
        ) from None


def etag_of(document: "Document | None") -> str | None:
    """The ETag of a document, or ``None`` when there is none (what ``Conditions.check`` takes)."""
    return None if document is None else document.etag


class DocumentStore(Closeable, ABC):
    """Stores documents; every write checks its conditions atomically."""

    @abstractmethod
    def get(self, context: Context, document_id: str) -> Document | None:
        """Return the document, or ``None``."""

    @abstractmethod
    def ids(self, context: Context, since_us: int | None = None) -> list[tuple[str, int]]:
        """Return the (id, updated_us) of the context's documents, updated after ``since_us``."""

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
            InvalidInput: a merge of documents that are not both JSON objects, or
                see ``Conditions``; nothing changed.
        """

        def written(current: Document | None) -> Document:
            conditions.check(etag_of(current))
            if merge:
                body, kind = merged(current, content, content_type)
                return Document(document_id, body, kind, updated_us)
            return Document(document_id, content, content_type, updated_us)

        return self._write(context, document_id, written)

    def delete(
        self, context: Context, document_id: str, conditions: Conditions = UNCONDITIONAL
    ) -> None:
        """Delete a document if ``conditions`` hold (deleting none is not an error).

        Raises:
            PreconditionFailed: a precondition failed; nothing changed.
        """
        self._remove(context, document_id, lambda current: conditions.check(etag_of(current)))

    @abstractmethod
    def _write(
        self,
        context: Context,
        document_id: str,
        written: Callable[[Document | None], Document],
    ) -> Document:
        """In one atomic step: read the document, call ``written`` with it, store what it gives.

        ``written`` may raise (a condition that fails): then nothing changes. A
        backend that loses a race calls it again with what it reads then.
        """

    @abstractmethod
    def _remove(
        self, context: Context, document_id: str, check: Callable[[Document | None], None]
    ) -> None:
        """In one atomic step: read the document, call ``check`` with it, delete what is there."""

    @abstractmethod
    def delete_all(self, context: Context) -> None:
        """Delete every document of the context."""

    @abstractmethod
    def count_agents(self, keys: frozenset[str]) -> int:
        """How many documents these agents have (what ``forget_agents`` would delete)."""

    @abstractmethod
    def forget_agents(self, keys: frozenset[str]) -> int:
        """Delete every document of these agents, state and agent profile (a learner's erasure).

        Returns how many went.
        """
