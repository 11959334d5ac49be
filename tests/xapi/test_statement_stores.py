import mongomock
import pytest

from lrs.clock import default_clock
from lrs.exceptions import Conflict, ServiceUnavailable
from lrs.testing import AUTHORITY, StatementStoreContract, statement
from lrs.usecases.storage import open_storage
from lrs.xapi.prepare import prepare
from lrs.xapi.statements import MemoryStatementStore, MongoStatementStore
from lrs.xapi.statements.base import StatementQuery
from lrs.xapi.statements.sqlite import SqliteStatementStore
from lrs.xapi.validation import VOIDED, Version
from tests.mongomock_support import Pausing, ThreadSafeMongoClient


class TestMemoryStatementStore(StatementStoreContract):
    @pytest.fixture
    def statements(self):
        return MemoryStatementStore()


class TestMongoStatementStore(StatementStoreContract):
    @pytest.fixture
    def statements(self):
        return MongoStatementStore(mongomock.MongoClient(tz_aware=True).lrs_test)


class TestSqliteStatementStore(StatementStoreContract):
    @pytest.fixture
    def statements(self, sqlite_database):
        return SqliteStatementStore(sqlite_database)


def test_sqlite_term_numbers_of_a_rolled_back_batch_are_not_remembered(sqlite_database):
    # A number taken in a transaction that rolls back goes to another value
    # later: a store that remembered it would file statements under it.
    def record(n, **fields):
        data = statement(n, **fields)
        return prepare(data, version=Version.V1_0_3, authority=AUTHORITY).stamped(
            default_clock.now_us()
        )

    store = SqliteStatementStore(sqlite_database)
    with pytest.raises(RuntimeError), sqlite_database.transaction():
        store.save([record(0, verb="http://x.org/first")])
        raise RuntimeError("what followed the batch failed")
    other = SqliteStatementStore(sqlite_database)  # with nothing remembered
    for each in (store, other):
        assert each.query(StatementQuery(verb="http://x.org/first")) == []
    store.save([record(1, verb="http://x.org/second")])
    for each in (store, other):
        assert each.query(StatementQuery(verb="http://x.org/first")) == []
        for query in (
            StatementQuery(verb="http://x.org/second"),
            StatementQuery(agent=f"mbox:{statement(1)['actor']['mbox']}"),
        ):
            assert [found.id for found in each.query(query)] == [statement(1)["id"]]


def test_mongo_indexes_every_filter_with_the_stored_time():
    database = mongomock.MongoClient(tz_aware=True).lrs_test
    MongoStatementStore(database)
    indexes = database.statements.index_information()
    for field in (
        "verb",
        "agents",
        "related_agents",
        "activity",
        "related_activities",
        "registration",
    ):
        assert indexes[f"statements_by_{field}"]["key"] == [
            (f"termsets.{field}", 1),
            ("stored_us", -1),
            ("_id", -1),
        ]


def test_statements_survive_a_restart_of_the_mongo_client():
    def record(data):
        return prepare(data, version=Version.V1_0_3, authority=AUTHORITY).stamped(
            default_clock.now_us()
        )

    url = "mongomock://localhost/restart_test"
    first = open_storage(url)
    first.statements.save([record(statement(0)), record(statement(1))])
    first.close()

    second = open_storage(url)
    assert second.statements.get(statement(0)["id"]) is not None
    ref = {"objectType": "StatementRef", "id": statement(0)["id"]}
    second.statements.save([record(statement(2, verb=VOIDED, object=ref))])
    with pytest.raises(Conflict):
        second.statements.save([record(statement(1, verb="http://x.org/other"))])
    found = [r.id for r in second.statements.query(StatementQuery(limit=10))]
    assert found == [statement(2)["id"], statement(1)["id"]]


class TestMongoStatementStoreUnderContention(StatementStoreContract):
    """The contract on a thread-safe mongomock that pauses between calls, so that writers race."""

    @pytest.fixture
    def statements(self):
        store = MongoStatementStore(ThreadSafeMongoClient()["lrs_test"])
        store._collection = Pausing(
            store._collection, ("find", "find_one", "insert_many", "update_many"), delay=0.002
        )
        store._durable = Pausing(store._durable, ("find",), delay=0.002)
        return store


def _mongo_record(data, stored_us=None):
    return prepare(data, version=Version.V1_0_3, authority=AUTHORITY).stamped(
        stored_us or default_clock.now_us()
    )


class TestMongoPendingBatches:
    def test_a_batch_being_stored_is_invisible_until_it_is_whole(self):
        database = mongomock.MongoClient(tz_aware=True).lrs_test
        store = MongoStatementStore(database)
        store.save([_mongo_record(statement(0))])
        database.statements.update_one(
            {"_id": statement(0)["id"]},
            {"$set": {"pending": {"token": "t", "since_us": default_clock.now_us()}}},
        )
        assert store.get(statement(0)["id"]) is None
        assert store.query(StatementQuery(limit=10)) == []
        assert store.count() == 0

    def test_a_writer_waits_for_a_pending_batch_and_gives_up_with_503(self, monkeypatch):
        monkeypatch.setattr("lrs.retries.CAS_ATTEMPTS", 3)
        database = mongomock.MongoClient(tz_aware=True).lrs_test
        store = MongoStatementStore(database)
        record = _mongo_record(statement(0))
        database.statements.insert_one(
            {"_id": record.id, "pending": {"token": "t", "since_us": default_clock.now_us()}}
        )
        with pytest.raises(ServiceUnavailable):
            store.save([record])

    def test_an_abandoned_pending_batch_is_taken_back(self):
        database = mongomock.MongoClient(tz_aware=True).lrs_test
        store = MongoStatementStore(database)
        record = _mongo_record(statement(0))
        long_ago = default_clock.now_us() - 3_600_000_000
        database.statements.insert_one(
            {"_id": record.id, "text": "{}", "pending": {"token": "t", "since_us": long_ago}}
        )
        assert store.save([record]) == [record.id]
        assert store.get(record.id).digest == record.digest
