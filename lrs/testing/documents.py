"""The contract of document stores, split by behaviour: contents and preconditions, concurrency."""

import hashlib
import threading
from typing import Any

import orjson
import pytest

from lrs.clock import default_clock
from lrs.conditions import Conditions
from lrs.exceptions import Conflict, PreconditionFailed
from lrs.testing.helpers import (
    DOCUMENT_CONTEXT,
)
from lrs.xapi.documents import JSON, Context, Document, DocumentStore, Resource


class DocumentHelpers:
    """Writing a test document, for the classes below."""

    # Where the contract's documents live; a store that treats some names
    # specially (the shared state's learner blocks) runs it there too.
    context = DOCUMENT_CONTEXT
    document_id = "doc"

    def put(self, documents: DocumentStore, content: bytes, **options: Any) -> Document | None:
        options.setdefault("updated_us", default_clock.now_us())
        content_type = options.pop("content_type", JSON)
        return documents.put(self.context, self.document_id, content, content_type, **options)

    @staticmethod
    def same(found: Document, content: bytes, content_type: str) -> bool:
        """Whether a document holds this content (a store that re-serializes JSON overrides it)."""
        return (found.content, found.content_type) == (content, content_type)


class DocumentContentsContract(DocumentHelpers):
    """Contents, contexts, merges, preconditions and listings.

    Subclasses supply a ``documents`` fixture returning an empty store.
    """

    def test_content_round_trips_byte_for_byte_with_its_type(
        self, documents: DocumentStore
    ) -> None:
        content = bytes(range(256)) * 4
        self.put(documents, content, content_type="application/octet-stream")
        found = documents.get(self.context, self.document_id)
        assert found is not None
        assert (found.content, found.content_type) == (content, "application/octet-stream")
        assert found.etag == hashlib.sha1(content).hexdigest()
        assert documents.get(self.context, "other") is None

    def test_contexts_are_separate(self, documents: DocumentStore) -> None:
        self.put(documents, b'{"a": 1}')
        for other in (
            self.context._replace(registration="a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"),
            self.context._replace(agent="mbox:mailto:grace@example.org"),
            self.context._replace(resource=Resource.activity_profile, agent=""),
        ):
            assert documents.get(other, self.document_id) is None
            assert documents.ids(other) == []

    def test_post_merges_top_level_properties(self, documents: DocumentStore) -> None:
        self.put(documents, b'{"x": "foo", "y": {"deep": 1}}')
        self.put(documents, b'{"x": "bash", "z": "faz", "y": {"other": 2}}', merge=True)
        found = documents.get(self.context, self.document_id)
        assert found is not None
        assert orjson.loads(found.content) == {"x": "bash", "y": {"other": 2}, "z": "faz"}
        assert found.content_type == JSON

    @pytest.mark.parametrize(
        ("first", "second"),
        [
            ((b"plain", "text/plain"), (b'{"a": 1}', JSON)),
            ((b'{"a": 1}', JSON), (b"plain", "text/plain")),
            ((b"[1, 2]", JSON), (b'{"a": 1}', JSON)),
            ((b'{"a": 1}', JSON), (b'{"a": 1}', "text/plain")),
        ],
    )
    def test_merging_what_is_not_a_json_object_fails_and_changes_nothing(
        self, documents: DocumentStore, first: tuple[bytes, str], second: tuple[bytes, str]
    ) -> None:
        self.put(documents, first[0], content_type=first[1])
        with pytest.raises(ValueError, match="JSON"):
            self.put(documents, second[0], content_type=second[1], merge=True)
        found = documents.get(self.context, self.document_id)
        assert found is not None and self.same(found, *first)

    def test_preconditions(self, documents: DocumentStore) -> None:
        create_only = Conditions(if_none_match=frozenset({"*"}))
        stored = self.put(documents, b"1", conditions=create_only)
        assert stored is not None
        with pytest.raises(PreconditionFailed):
            self.put(documents, b"2", conditions=create_only)
        with pytest.raises(PreconditionFailed):
            self.put(documents, b"2", conditions=Conditions(if_match=frozenset({"0" * 40})))
        with pytest.raises(Conflict):
            self.put(documents, b"2", conditions=Conditions(required=True))
        with pytest.raises(PreconditionFailed):
            documents.delete(
                self.context, self.document_id, Conditions(if_match=frozenset({"stale"}))
            )
        found = documents.get(self.context, self.document_id)
        assert found is not None and found.content == b"1"
        self.put(documents, b"2", conditions=Conditions(if_match=frozenset({stored.etag})))
        with pytest.raises(PreconditionFailed):
            self.put(documents, b"3", conditions=Conditions(if_match=frozenset({stored.etag})))
        changed = documents.get(self.context, self.document_id)
        assert changed is not None and changed.content == b"2"
        documents.delete(
            self.context, self.document_id, Conditions(if_match=frozenset({changed.etag}))
        )
        assert documents.get(self.context, self.document_id) is None
        with pytest.raises(PreconditionFailed):
            self.put(documents, b"4", conditions=Conditions(if_match=frozenset({"*"})))

    def test_ids_since_and_delete_all(self, documents: DocumentStore) -> None:
        for n in range(3):
            documents.put(self.context, f"d{n}", b"x", "text/plain", updated_us=1_000_000 * (n + 1))
        assert sorted(name for name, _ in documents.ids(self.context)) == ["d0", "d1", "d2"]
        assert dict(documents.ids(self.context, since_us=2_000_000)) == {"d2": 3_000_000}
        documents.delete(self.context, "d0")
        documents.delete(self.context, "never stored")
        assert sorted(name for name, _ in documents.ids(self.context)) == ["d1", "d2"]
        documents.delete_all(self.context)
        assert documents.ids(self.context) == []


class DocumentConcurrencyContract(DocumentHelpers):
    """Concurrent writers: merges lose no key, a stale If-Match never wins.

    Subclasses supply a ``documents`` fixture returning an empty store.
    """

    def test_concurrent_merges_lose_no_key(self, documents: DocumentStore) -> None:
        def merge(n: int) -> None:
            for round_ in range(10):
                self.put(documents, orjson.dumps({f"t{n}-{round_}": n}), merge=True)

        threads = [threading.Thread(target=merge, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        found = documents.get(self.context, self.document_id)
        assert found is not None
        assert len(orjson.loads(found.content)) == 80

    def test_a_stale_if_match_never_overwrites(self, documents: DocumentStore) -> None:
        first = self.put(documents, b'{"n": 0}')
        assert first is not None
        outcomes = []

        def write(n: int) -> None:
            try:
                self.put(
                    documents,
                    orjson.dumps({"n": n}),
                    conditions=Conditions(if_match=frozenset({first.etag})),
                )
                outcomes.append(n)
            except PreconditionFailed:
                pass

        threads = [threading.Thread(target=write, args=(n,)) for n in range(1, 9)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # Exactly one writer held the current ETag; the others were refused.
        assert len(outcomes) == 1
        found = documents.get(self.context, self.document_id)
        assert found is not None and orjson.loads(found.content) == {"n": outcomes[0]}


class ForgetAgentsContract:
    """Every document of an agent deleted at once (a learner's erasure).

    Subclasses supply a ``documents`` fixture returning an empty store.
    """

    def test_forgetting_agents_deletes_their_state_and_profiles_only(
        self, documents: DocumentStore
    ) -> None:
        ada, bob = "mbox:mailto:ada@example.org", "mbox:mailto:bob@example.org"
        contexts = [
            Context(Resource.state, "http://example.org/a0", ada),
            Context(Resource.state, "http://example.org/a1", ada, "a-registration"),
            Context(Resource.agent_profile, "", ada),
            Context(Resource.state, "http://example.org/a0", bob),
            Context(Resource.activity_profile, "http://example.org/a0"),
        ]
        for context in contexts:
            documents.put(context, "doc", b"{}", JSON, updated_us=default_clock.now_us())
        assert documents.count_agents(frozenset({ada, "mbox:mailto:nobody@x.org"})) == 3
        assert documents.forget_agents(frozenset({ada})) == 3
        assert documents.count_agents(frozenset({ada})) == 0
        assert [documents.get(context, "doc") is not None for context in contexts] == [
            False,
            False,
            False,
            True,
            True,
        ]
        assert documents.forget_agents(frozenset({ada})) == 0


class DocumentStoreContract(
    DocumentContentsContract, DocumentConcurrencyContract, ForgetAgentsContract
):
    """The behaviour every document store must have.

    Subclasses supply a ``documents`` fixture returning an empty store.
    """
