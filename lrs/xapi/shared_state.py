"""The State resource's documents, some of which are the learner-state client's blocks.

Learner state is one thing with two doors (DESIGN.md). The JSON state
document whose agent is a learner's account agent (``homePage`` the LRS's
account home page, ``name`` the username), whose ``stateId`` is a scope name
(``user_state``, ``preferences``, ``user_info``) and which has no
registration *is* that learner's state of the block named by ``activityId``:
``client.set(...)`` is visible at ``/xAPI/activities/state`` and a POST there
through ``client.get(...)``, and both are in ``client.get_history(...)``.

In that view a POST merge is ``client.set`` (an overlay of top-level fields,
each written atomically), a PUT replaces the block's fields (the stale ones
are deleted first, so the history shows two changes), and a DELETE deletes
the block. Content that is not a JSON object under such a name, and every
other state document, lives in the ordinary document store. The conditions
of a request (If-Match, If-None-Match) are checked against the block just
before it is written, not in one atomic step with the write.
"""

from typing import Any

import orjson

from lrs.clients.base import Scope, UserStateClient
from lrs.clock import to_us
from lrs.conditions import UNCONDITIONAL, Conditions
from lrs.exceptions import DoesNotExist
from lrs.xapi.documents import (
    JSON,
    Context,
    Document,
    DocumentStore,
    Resource,
    check_json,
    etag_of,
    json_object,
    merged,
)
from lrs.xapi.statements.base import agent_key

_SCOPES = {scope.value: scope for scope in Scope}


class SharedStateDocuments(DocumentStore):
    """State documents: learners' blocks through the client, the rest in a document store."""

    def __init__(
        self, documents: DocumentStore, client: UserStateClient, account_homepage: str
    ) -> None:
        """Serve the client's blocks for account agents on ``account_homepage``."""
        self.documents = documents
        self.client = client
        # Every learner's account agent key begins with this.
        self._prefix = agent_key({"account": {"homePage": account_homepage, "name": ""}}) or ""

    def _learner(self, context: Context) -> str | None:
        """The username whose blocks this context holds, if it is such a context."""
        if context.resource != Resource.state or context.registration:
            return None
        if not context.agent.startswith(self._prefix):
            return None
        return context.agent[len(self._prefix) :] or None

    def _block(self, context: Context, document_id: str) -> tuple[str, Scope] | None:
        username = self._learner(context)
        scope = _SCOPES.get(document_id)
        return None if username is None or scope is None else (username, scope)

    def _from_client(self, context: Context, username: str, scope: Scope) -> Document | None:
        try:
            found = self.client.get(username, context.activity_id, scope)
        except DoesNotExist:
            return None
        return Document(scope.value, orjson.dumps(found.state), JSON, to_us(found.updated))

    def get(self, context: Context, document_id: str) -> Document | None:
        """Return the document: the learner's block, else a stored document, else ``None``."""
        block = self._block(context, document_id)
        if block is not None:
            found = self._from_client(context, *block)
            if found is not None:
                return found
        return self.documents.get(context, document_id)

    def ids(self, context: Context, since_us: int | None = None) -> list[tuple[str, int]]:
        """Return the (id, updated_us) of the context's documents, the learner's blocks too."""
        found = dict(self.documents.ids(context, since_us))
        username = self._learner(context)
        if username is not None:
            for scope in Scope:
                document = self._from_client(context, username, scope)
                if document is not None and (since_us is None or document.updated_us > since_us):
                    found[scope.value] = document.updated_us
        return list(found.items())

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
        """Store or merge a document (see ``DocumentStore``).

        A JSON object under a block's name goes to the learner's block; an
        empty one leaves the block without state (``None``).
        """
        block = self._block(context, document_id)
        if block is None:
            return self.documents.put(
                context,
                document_id,
                content,
                content_type,
                updated_us=updated_us,
                merge=merge,
                conditions=conditions,
            )
        username, scope = block
        # JSON here becomes the block's fields: what claims to be JSON must be.
        check_json(content, content_type)
        current = self.get(context, document_id)
        conditions.check(etag_of(current))
        if merge:
            # Refuses a merge where either side is not a JSON object.
            merged(current, content, content_type)
        fields = json_object(content, content_type)
        if fields:
            if not merge and current is not None and current.content_type == JSON:
                stale = [name for name in self._fields(current) if name not in fields]
                if stale:
                    self._write(self.client.delete, username, context.activity_id, scope, stale)
            self._write(self.client.set, username, context.activity_id, fields, scope)
            # Whatever non-JSON content was kept under this name is replaced
            # (even when the block hid it: a later client.delete must not
            # bring it back).
            self.documents.delete(context, document_id)
        elif fields == {}:
            # An empty object leaves no fields: the block has no state.
            if not merge:
                self.client.delete(username, context.activity_id, scope)
                self.documents.delete(context, document_id)
        else:
            self.documents.put(context, document_id, content, content_type, updated_us=updated_us)
            self.client.delete(username, context.activity_id, scope)
        return self.get(context, document_id)

    @staticmethod
    def _fields(document: Document) -> dict[str, Any]:
        return json_object(document.content, document.content_type) or {}

    @staticmethod
    def _write(call: Any, *args: Any) -> None:
        try:
            call(*args)
        except TypeError as exc:  # the client refuses what it cannot keep as JSON
            raise ValueError(str(exc)) from None

    def delete(
        self, context: Context, document_id: str, conditions: Conditions = UNCONDITIONAL
    ) -> None:
        """Delete a document if ``conditions`` hold: the block, and any stored document."""
        block = self._block(context, document_id)
        if block is None:
            self.documents.delete(context, document_id, conditions)
            return
        conditions.check(etag_of(self.get(context, document_id)))
        username, scope = block
        self.client.delete(username, context.activity_id, scope)
        self.documents.delete(context, document_id)

    def delete_all(self, context: Context) -> None:
        """Delete every document of the context, the learner's blocks of this activity too."""
        self.documents.delete_all(context)
        username = self._learner(context)
        if username is not None:
            for scope in Scope:
                self.client.delete(username, context.activity_id, scope)
