import mongomock
import orjson
import pytest

from lrs.clients import MemoryUserStateClient, MongoUserStateClient
from lrs.clients.sqlite import SqliteUserStateClient
from lrs.testing import DocumentStoreContract, block
from lrs.xapi.agents import AccountAgents
from lrs.xapi.documents import JSON, Context, MemoryDocumentStore, MongoDocumentStore, Resource
from lrs.xapi.documents.sqlite import SqliteDocumentStore
from lrs.xapi.shared_state import SharedStateDocuments
from tests.mongomock_support import Pausing, SlowReads, ThreadSafeMongoClient


class TestMemoryDocumentStore(DocumentStoreContract):
    @pytest.fixture
    def documents(self):
        return MemoryDocumentStore()


class TestMongoDocumentStore(DocumentStoreContract):
    @pytest.fixture
    def documents(self):
        store = MongoDocumentStore(ThreadSafeMongoClient()["lrs_test"])
        store._collection = SlowReads(store._collection)
        return store


class TestSqliteDocumentStore(DocumentStoreContract):
    @pytest.fixture
    def documents(self, sqlite_database):
        return SqliteDocumentStore(sqlite_database)


def test_mongo_names_each_document_once_and_lists_by_update_time():
    database = mongomock.MongoClient(tz_aware=True).lrs_test
    MongoDocumentStore(database)
    indexes = database.documents.index_information()
    assert indexes["document_by_agent"]["unique"]
    # It starts with the documented shard key, as a sharded cluster requires.
    keys = [name for name, _ in indexes["document_by_agent"]["key"]]
    assert keys[:2] == ["agent", "activity_id"]
    assert [name for name, _ in indexes["context_updated"]["key"]][-1] == "updated_us"


ACCOUNTS = AccountAgents("http://lrs.test")


class SharedStateContract(DocumentStoreContract):
    """The shared state's documents, named where they are a learner's block."""

    context = Context(Resource.state, block(0), ACCOUNTS.key("ada"))
    document_id = "user_state"

    @staticmethod
    def same(found, content, content_type):
        # A block's JSON comes back re-serialized: the same object, not the same bytes.
        if content_type == JSON and found.content_type == JSON:
            return orjson.loads(found.content) == orjson.loads(content)
        return (found.content, found.content_type) == (content, content_type)


class TestSharedStateDocumentsInMemory(SharedStateContract):
    @pytest.fixture
    def documents(self):
        return SharedStateDocuments(MemoryDocumentStore(), MemoryUserStateClient(), ACCOUNTS)


class TestSharedStateDocumentsOnSqlite(SharedStateContract):
    @pytest.fixture
    def documents(self, sqlite_database):
        return SharedStateDocuments(
            SqliteDocumentStore(sqlite_database), SqliteUserStateClient(sqlite_database), ACCOUNTS
        )


class TestSharedStateDocumentsOnMongo(SharedStateContract):
    @pytest.fixture
    def documents(self):
        client = MongoUserStateClient(ThreadSafeMongoClient(), "lrs_test")
        client._collection = Pausing(client._collection, ("find",), delay=0.001)
        documents = MongoDocumentStore(ThreadSafeMongoClient()["lrs_test"])
        return SharedStateDocuments(documents, client, ACCOUNTS)


def test_a_block_is_served_as_json_with_the_etag_of_the_rest_api():
    client = MemoryUserStateClient()
    shared = SharedStateDocuments(MemoryDocumentStore(), client, ACCOUNTS)
    client.set("ada", block(0), {"b": 1, "a": [2]})
    document = shared.get(SharedStateContract.context, "user_state")
    assert document.content == b'{"a":[2],"b":1}'
    assert document.etag == client.get("ada", block(0)).etag
