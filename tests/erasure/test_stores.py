"""Every erasure record store passes the contract."""

import pytest

from lrs.erasure import MemoryErasureStore
from lrs.erasure.mongo import MongoErasureStore
from lrs.erasure.sqlite import SqliteErasureStore
from lrs.sqlite import SqliteDatabase
from lrs.sqlite_schema import MIGRATIONS
from lrs.testing import ErasureStoreContract
from tests.mongomock_support import ThreadSafeMongoClient


class TestMemoryErasureStore(ErasureStoreContract):
    @pytest.fixture
    def erasures(self):
        return MemoryErasureStore()


class TestSqliteErasureStore(ErasureStoreContract):
    @pytest.fixture
    def erasures(self, tmp_path):
        database = SqliteDatabase(tmp_path / "lrs.db", MIGRATIONS)
        yield SqliteErasureStore(database)
        database.close()


class TestMongoErasureStore(ErasureStoreContract):
    @pytest.fixture
    def erasures(self):
        return MongoErasureStore(ThreadSafeMongoClient()["lrs_test"])
