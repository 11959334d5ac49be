import mongomock
import pytest

from lrs.enrollments import MemoryEnrollmentStore, MongoEnrollmentStore
from lrs.enrollments.sqlite import SqliteEnrollmentStore
from lrs.sqlite import SqliteDatabase
from lrs.sqlite_schema import MIGRATIONS
from lrs.testing import EnrollmentStoreContract
from tests.mongomock_support import SlowReads, ThreadSafeMongoClient


class TestMemoryEnrollmentStore(EnrollmentStoreContract):
    @pytest.fixture
    def enrollments(self):
        return MemoryEnrollmentStore()


class TestSqliteEnrollmentStore(EnrollmentStoreContract):
    @pytest.fixture
    def enrollments(self, tmp_path):
        database = SqliteDatabase(tmp_path / "lrs.db", MIGRATIONS)
        yield SqliteEnrollmentStore(database)
        database.close()


class TestMongoEnrollmentStore(EnrollmentStoreContract):
    @pytest.fixture
    def enrollments(self):
        store = MongoEnrollmentStore(ThreadSafeMongoClient()["lrs_test"])
        store._enrollments = SlowReads(store._enrollments)
        return store


def test_mongo_keeps_one_enrollment_per_user_and_course():
    database = mongomock.MongoClient(tz_aware=True).lrs_test
    MongoEnrollmentStore(database)
    index = database.enrollments.index_information()["one_enrollment_per_user_and_course"]
    assert index["unique"]
    assert [name for name, _ in index["key"]] == ["username", "course_key"]


def test_the_rules_are_in_the_base_and_backends_implement_hooks():
    from lrs.enrollments import EnrollmentStore

    assert EnrollmentStore.__abstractmethods__ == {
        "_insert_user",
        "_find_user",
        "_update_user",
        "_list_users",
        "_find_enrollment",
        "_write_enrollment",
        "_list_enrollments",
        "_record",
        "_history",
    }
