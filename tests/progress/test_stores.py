import pytest

from lrs.progress import MemoryProgressStore
from lrs.progress.mongo import MongoProgressStore
from lrs.progress.sqlite import SqliteProgressStore
from lrs.testing import ProgressStoreContract
from tests.mongomock_support import ThreadSafeMongoClient


class TestMemoryProgressStore(ProgressStoreContract):
    @pytest.fixture
    def progress(self):
        return MemoryProgressStore()


class TestSqliteProgressStore(ProgressStoreContract):
    @pytest.fixture
    def progress(self, sqlite_database):
        return SqliteProgressStore(sqlite_database)


class TestMongoProgressStore(ProgressStoreContract):
    @pytest.fixture
    def progress(self):
        return MongoProgressStore(ThreadSafeMongoClient()["lrs_test"])
