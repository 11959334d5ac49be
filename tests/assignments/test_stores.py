"""Every assignment store passes the contract."""

import pytest

from lrs.assignments import MemoryAssignmentStore
from lrs.assignments.mongo import MongoAssignmentStore
from lrs.assignments.sqlite import SqliteAssignmentStore
from lrs.sqlite import SqliteDatabase
from lrs.sqlite_schema import MIGRATIONS
from lrs.testing import AssignmentStoreContract
from tests.mongomock_support import ThreadSafeMongoClient


class TestMemoryAssignmentStore(AssignmentStoreContract):
    @pytest.fixture
    def assignments(self):
        return MemoryAssignmentStore()


class TestSqliteAssignmentStore(AssignmentStoreContract):
    @pytest.fixture
    def assignments(self, tmp_path):
        database = SqliteDatabase(tmp_path / "lrs.db", MIGRATIONS)
        yield SqliteAssignmentStore(database)
        database.close()


class TestMongoAssignmentStore(AssignmentStoreContract):
    @pytest.fixture
    def assignments(self):
        return MongoAssignmentStore(ThreadSafeMongoClient()["lrs_test"])
