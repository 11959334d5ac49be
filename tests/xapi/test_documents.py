import time

import mongomock
import pytest

from lrs.testing import DocumentStoreContract
from lrs.xapi.documents import MemoryDocumentStore, MongoDocumentStore
from tests.mongomock_support import ThreadSafeMongoClient


class TestMemoryDocumentStore(DocumentStoreContract):
    @pytest.fixture
    def documents(self):
        return MemoryDocumentStore()


class _SlowReads:
    """A collection whose reads return late, so that concurrent writers interleave
    between reading a document and writing it back (as on a busy server)."""

    def __init__(self, collection):
        self._collection = collection

    def __getattr__(self, name):
        return getattr(self._collection, name)

    def find_one(self, *args, **kwargs):
        found = self._collection.find_one(*args, **kwargs)
        time.sleep(0.002)
        return found


class TestMongoDocumentStore(DocumentStoreContract):
    @pytest.fixture
    def documents(self):
        store = MongoDocumentStore(ThreadSafeMongoClient()["lrs_test"])
        store._collection = _SlowReads(store._collection)
        return store


def test_mongo_names_each_document_once_and_lists_by_update_time():
    database = mongomock.MongoClient(tz_aware=True).lrs_test
    MongoDocumentStore(database)
    indexes = database.documents.index_information()
    assert indexes["document"]["unique"]
    assert [name for name, _ in indexes["context_updated"]["key"]][-1] == "updated_us"
