import mongomock
import pytest

from lrs.enrollments import MemoryEnrollmentStore, MongoEnrollmentStore
from lrs.enrollments.sqlite import SqliteEnrollmentStore
from lrs.testing import EnrollmentStoreContract
from tests.mongomock_support import SlowReads, ThreadSafeMongoClient


class TestMemoryEnrollmentStore(EnrollmentStoreContract):
    @pytest.fixture
    def enrollments(self):
        return MemoryEnrollmentStore()


class TestSqliteEnrollmentStore(EnrollmentStoreContract):
    @pytest.fixture
    def enrollments(self, sqlite_database):
        return SqliteEnrollmentStore(sqlite_database)


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
        "_usernames_by_email",
        "_find_enrollment",
        "_write_enrollment",
        "_list_enrollments",
        "_history",
        "_retire",
    }


def test_sqlite_writes_a_change_and_its_record_together(sqlite_database, monkeypatch):
    import sqlite3

    from lrs.exceptions import ServiceUnavailable

    store = SqliteEnrollmentStore(sqlite_database)
    store.create_user("ada", {}, actor="test")

    def full_disk(connection, change):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(SqliteEnrollmentStore, "_record_in", staticmethod(full_disk))
    with pytest.raises(ServiceUnavailable):
        store.enroll("ada", "course-v1:Org+C+R", actor="test")
    with pytest.raises(ServiceUnavailable):
        store.update_user("ada", {"full_name": "Ada L."}, actor="test")
    monkeypatch.undo()
    # Neither write happened without its record.
    assert list(store.list_enrollments(username="ada")) == []
    assert store.get_user("ada").full_name == ""
    assert len(store.history("ada")) == 1  # the creation only
