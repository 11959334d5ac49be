"""Every export record log passes the contract."""

import pytest

from lrs.exports import MemoryExportLog
from lrs.exports.mongo import MongoExportLog
from lrs.exports.sqlite import SqliteExportLog
from lrs.sqlite import SqliteDatabase
from lrs.sqlite_schema import MIGRATIONS
from lrs.testing import ExportLogContract
from tests.mongomock_support import ThreadSafeMongoClient


class TestMemoryExportLog(ExportLogContract):
    @pytest.fixture
    def exports(self):
        return MemoryExportLog()


class TestSqliteExportLog(ExportLogContract):
    @pytest.fixture
    def exports(self, tmp_path):
        database = SqliteDatabase(tmp_path / "lrs.db", MIGRATIONS)
        yield SqliteExportLog(database)
        database.close()


class TestMongoExportLog(ExportLogContract):
    @pytest.fixture
    def exports(self):
        return MongoExportLog(ThreadSafeMongoClient()["lrs_test"])
