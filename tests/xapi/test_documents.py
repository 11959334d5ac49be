import mongomock
import pytest

from lrs.testing import DocumentStoreContract
from lrs.xapi.documents import MemoryDocumentStore, MongoDocumentStore
from tests.mongomock_support import SlowReads, ThreadSafeMongoClient


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


def test_mongo_names_each_document_once_and_lists_by_update_time():
    database = mongomock.MongoClient(tz_aware=True).lrs_test
    MongoDocumentStore(database)
    indexes = database.documents.index_information()
    assert indexes["document"]["unique"]
    assert [name for name, _ in indexes["context_updated"]["key"]][-1] == "updated_us"
