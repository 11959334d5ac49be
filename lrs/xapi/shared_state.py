"""The State resource's documents, some of which are the learner-state client's blocks.

Learner state is one thing with two doors (DESIGN.md). The JSON state
document whose agent is a learner's account agent (``homePage`` the LRS's
account home page, ``name`` the username), whose ``stateId`` is a scope name
(``user_state``, ``preferences``, ``user_info``) and which has no
registration *is* that learner's state of the block named by ``activityId``:
``client.set(...)`` is visible at ``/xAPI/activities/state`` and a POST there
through ``client.get(...)``, and both are in ``client.get_history(...)``.

Every write to such a document is one ``client.update`` -- the operation the
REST API's writes use too: a POST merge is ``BlockChange.setting``, a PUT
``BlockChange.replacing`` (one write, one history entry), a DELETE
``BlockChange.deleting``, each checked against the block's ETag (If-Match,
If-None-Match) in one atomic step with the write. The block is served as
``state_json`` (keys sorted), so its ETag, the SHA-1 of that content, is the
one the REST API gives the block.

Content that is not a JSON object under such a name (a binary suspend blob),
and every other state document, lives in the ordinary document store. While
such content is kept and the block has no state, the conditions of a write are
checked against that content, just before the write rather than atomically
with it (two stores are involved); the write then replaces it.
"""

from collections.abc import Callable

from lrs.clients.base import Scope, UserState, UserStateClient
from lrs.clients.values import BlockChange, state_json
from lrs.clock import to_us
from lrs.conditions import UNCONDITIONAL, Conditions
from lrs.exceptions import DoesNotExist, InvalidInput
from lrs.xapi.agents import AccountAgents
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

_SCOPES = {scope.value: scope for scope in Scope}


class SharedStateDocuments(DocumentStore):
    """State documents: learners' blocks through the client, the rest in a document store."""

    def __init__(
        self, documents: DocumentStore, client: UserStateClient, accounts: AccountAgents
    ) -> None:
        """Serve the client's blocks for the account agents of ``accounts``."""
        self.documents = documents
        self.client = client
        self.accounts = accounts

    def _learner(self, context: Context) -> str | None:
        """The username whose blocks this context holds, if it is such a context."""
        if context.resource != Resource.state or context.registration:
            return None
        return self.accounts.username(context.agent)

    def _block(self, context: Context, document_id: str) -> tuple[str, Scope] | None:
        username = self._learner(context)
        scope = _SCOPES.get(document_id)
        return None if username is None or scope is None else (username, scope)

    @staticmethod
    def _document(found: UserState) -> Document:
        assert found.state is not None  # a block that exists has state
        return Document(found.scope.value, state_json(found.state), JSON, to_us(found.updated))

    def _from_client(self, context: Context, username: str, scope: Scope) -> Document | None:
        try:
            return self._document(self.client.get(username, context.activity_id, scope))
        except DoesNotExist:
            return None

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

        A JSON object under a block's name is the learner's block (an empty
        one, PUT, leaves the block without state: ``None``); other content is
        kept as an ordinary document, and the block, if any, is deleted.
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
        fields = json_object(content, content_type)
        kept = self.documents.get(context, document_id)
        if fields is None:
            # Not a JSON object: an ordinary document replaces the block.
            current = self.get(context, document_id)
            conditions.check(etag_of(current))
            if merge:
                merged(current, content, content_type)  # refuses: not JSON objects
            self.documents.put(context, document_id, content, content_type, updated_us=updated_us)
            self.client.delete(username, context.activity_id, scope)
            return self.documents.get(context, document_id)
        if kept is not None and self._from_client(context, username, scope) is None:
            # Content kept under the name stands for the document until it is replaced.
            conditions.check(kept.etag)
            if merge:
                raise InvalidInput(
                    "the stored document is not a JSON object, so nothing can be merged into it "
                    "(use PUT to replace it)"
                )
            conditions = UNCONDITIONAL
        change = (
            BlockChange.setting(context.activity_id, fields)
            if merge
            else BlockChange.replacing(context.activity_id, fields)
        )
        result = self.client.update(username, context.activity_id, change, scope, conditions)
        if kept is not None:
            self.documents.delete(context, document_id)
        return None if result is None else self._document(result)

    def delete(
        self, context: Context, document_id: str, conditions: Conditions = UNCONDITIONAL
    ) -> None:
        """Delete a document if ``conditions`` hold: the block, and any stored document."""
        block = self._block(context, document_id)
        if block is None:
            self.documents.delete(context, document_id, conditions)
            return
        username, scope = block
        kept = self.documents.get(context, document_id)
        if kept is not None and self._from_client(context, username, scope) is None:
            self.documents.delete(context, document_id, conditions)
            return
        self.client.update(username, context.activity_id, BlockChange.deleting(), scope, conditions)
        if kept is not None:
            self.documents.delete(context, document_id)

    # The hooks write ordinary documents, in the wrapped store: ``put`` and
    # ``delete`` above decide what is a block and what is a document.

    def _write(
        self,
        context: Context,
        document_id: str,
        written: Callable[[Document | None], Document],
    ) -> Document:
        return self.documents._write(context, document_id, written)

    def _remove(
        self, context: Context, document_id: str, check: Callable[[Document | None], None]
    ) -> None:
        self.documents._remove(context, document_id, check)

    def count_agents(self, keys: frozenset[str]) -> int:
        """How many documents these agents have (not counting their blocks)."""
        return self.documents.count_agents(keys)

    def forget_agents(self, keys: frozenset[str]) -> int:
        """Delete every document of these agents (their blocks are the client's to forget)."""
        return self.documents.forget_agents(keys)

    def delete_all(self, context: Context) -> None:
        """Delete every document of the context, the learner's blocks of this activity too."""
        self.documents.delete_all(context)
        username = self._learner(context)
        if username is not None:
            for scope in Scope:
                self.client.delete(username, context.activity_id, scope)
