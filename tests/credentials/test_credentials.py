import mongomock
import pytest

from lrs.credentials import MemoryCredentialStore, MongoCredentialStore
from lrs.credentials.base import digest
from lrs.testing import CredentialStoreContract


class TestMemoryCredentialStore(CredentialStoreContract):
    @pytest.fixture
    def store(self):
        return MemoryCredentialStore()


class TestMongoCredentialStore(CredentialStoreContract):
    @pytest.fixture
    def store(self):
        return MongoCredentialStore(mongomock.MongoClient(tz_aware=True).lrs_test)


def test_mongo_keeps_only_the_digest():
    database = mongomock.MongoClient(tz_aware=True).lrs_test
    store = MongoCredentialStore(database)
    credential, secret = store.create("service")
    document = database.credentials.find_one({"_id": credential.key})
    assert document["digest"] == digest(secret)
    assert secret not in str(document)
