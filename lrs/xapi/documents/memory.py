"""Documents in this process's memory."""

import threading
from collections.abc import Callable

from lrs.xapi.documents.base import Context, Document, DocumentStore


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

    def _write(
        self,
        context: Context,
        document_id: str,
        written: Callable[[Document | None], Document],
    ) -> Document:
        with self._lock:
            documents = self._documents.setdefault(context, {})
            document = written(documents.get(document_id))
            documents[document_id] = document
            return document

    def _remove(
        self, context: Context, document_id: str, check: Callable[[Document | None], None]
    ) -> None:
        with self._lock:
            documents = self._documents.get(context, {})
            check(documents.get(document_id))
            documents.pop(document_id, None)

    def delete_all(self, context: Context) -> None:
        """Delete every document of the context."""
        with self._lock:
            self._documents.pop(context, None)

    def forget_agents(self, keys: frozenset[str]) -> int:
        """Delete every document of these agents; return how many went."""
        with self._lock:
            theirs = [context for context in self._documents if context.agent in keys]
            return sum(len(self._documents.pop(context)) for context in theirs)

    def count_agents(self, keys: frozenset[str]) -> int:
        """How many documents these agents have."""
        with self._lock:
            return sum(
                len(found) for context, found in self._documents.items() if context.agent in keys
            )
