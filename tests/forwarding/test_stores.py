"""Every forwarding store passes the contract."""

import pytest

from lrs.forwarding import MemoryForwardingStore
from lrs.forwarding.mongo import MongoForwardingStore
from lrs.forwarding.sqlite import SqliteForwardingStore
from lrs.sqlite import SqliteDatabase
from lrs.sqlite_schema import MIGRATIONS
from lrs.testing import ForwardingStoreContract
from tests.mongomock_support import ThreadSafeMongoClient


class TestMemoryForwardingStore(ForwardingStoreContract):
    @pytest.fixture
    def forwarding(self):
        return MemoryForwardingStore()


class TestSqliteForwardingStore(ForwardingStoreContract):
    @pytest.fixture
    def forwarding(self, tmp_path):
        database = SqliteDatabase(tmp_path / "lrs.db", MIGRATIONS)
        yield SqliteForwardingStore(database)
        database.close()


class TestMongoForwardingStore(ForwardingStoreContract):
    @pytest.fixture
    def forwarding(self):
        return MongoForwardingStore(ThreadSafeMongoClient()["lrs_test"])
