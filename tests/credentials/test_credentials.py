import mongomock
import pytest

from lrs.credentials import MemoryCredentialStore, MongoCredentialStore
from lrs.credentials.base import digest
from lrs.credentials.sqlite import SqliteCredentialStore
from lrs.sqlite import SqliteDatabase
from lrs.sqlite_schema import MIGRATIONS
from lrs.testing import CredentialStoreContract


class TestMemoryCredentialStore(CredentialStoreContract):
    @pytest.fixture
    def store(self):
        return MemoryCredentialStore()


class TestMongoCredentialStore(CredentialStoreContract):
    @pytest.fixture
    def store(self):
        return MongoCredentialStore(mongomock.MongoClient(tz_aware=True).lrs_test)


class TestSqliteCredentialStore(CredentialStoreContract):
    @pytest.fixture
    def store(self, tmp_path):
        store = SqliteCredentialStore(SqliteDatabase(tmp_path / "lrs.db", MIGRATIONS), owns=True)
        yield store
        store.close()


def test_sqlite_keeps_only_the_digest_and_survives_reopening(tmp_path):
    path = tmp_path / "lrs.db"
    store = SqliteCredentialStore(SqliteDatabase(path, MIGRATIONS), owns=True)
    credential, secret = store.create("service", name="moodle")
    store.close()
    # Closing the last connection checkpoints the write-ahead log into the file.
    raw = path.read_bytes()
    assert digest(secret).encode() in raw
    assert secret.encode() not in raw
    again = SqliteCredentialStore(SqliteDatabase(path, MIGRATIONS), owns=True)
    assert again.authenticate(credential.key, secret) == credential
    again.close()


def test_mongo_keeps_only_the_digest():
    database = mongomock.MongoClient(tz_aware=True).lrs_test
    store = MongoCredentialStore(database)
    credential, secret = store.create("service")
    document = database.credentials.find_one({"_id": credential.key})
    assert document["digest"] == digest(secret)
    assert secret not in str(document)
