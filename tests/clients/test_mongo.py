import mongomock
import pymongo
import pytest
from pymongo.errors import AutoReconnect, OperationFailure
from pymongo.write_concern import WriteConcern

from lrs.clients import MongoUserStateClient, ServiceUnavailable, UserStateError, connect
from lrs.history import MongoHistoryLog
from lrs.mongo import collection, durable_write_concern
from lrs.testing import StoredUserStateClientContract, block, user
from tests.mongomock_support import Pausing, ThreadSafeMongoClient


class TestMongoUserStateClient(StoredUserStateClientContract):
    @pytest.fixture
    def client(self, monkeypatch):
        # mongomock scans its collection for every upsert: smaller chunks keep
        # the large-call test (2.5 chunks) quick while still cutting it up.
        monkeypatch.setattr("lrs.clients.base.MAX_BLOCKS", 100)
        return MongoUserStateClient(ThreadSafeMongoClient(), "lrs_test")


class Counting:
    """Wraps a collection and counts the calls of each method."""

    def __init__(self, collection, calls):
        self._collection = collection
        self._calls = calls

    def __getattr__(self, name):
        attribute = getattr(self._collection, name)
        if not callable(attribute):
            return attribute

        def counted(*args, **kwargs):
            self._calls.append((self._collection.name, name))
            return attribute(*args, **kwargs)

        return counted


@pytest.fixture
def counted():
    client = MongoUserStateClient(mongomock.MongoClient(tz_aware=True), "lrs_test")
    calls = []
    client._collection = Counting(client._collection, calls)
    client.history._collection = Counting(client.history._collection, calls)
    return client, calls


class TestRoundTrips:
    def test_get_many_is_one_query_whatever_the_number_of_keys(self, counted):
        client, calls = counted
        client.set_many(user(0), {block(n): {"n": n} for n in range(50)})
        calls.clear()
        results = list(client.get_many(user(0), [block(n) for n in range(100)]))
        assert len(results) == 50
        assert calls == [("user_state", "find")]

    def test_set_many_is_one_bulk_write_plus_the_history_write(self, counted):
        client, calls = counted
        client.set_many(user(0), {block(n): {"n": n, "m": n} for n in range(100)})
        assert calls == [
            ("user_state", "find"),  # the versions the compare-and-set expects
            ("user_state", "bulk_write"),
            ("state_history", "insert_many"),
        ]
        assert len(list(client.get_many(user(0), [block(n) for n in range(100)]))) == 100
        assert client.history._collection.count_documents({}) == 100

    def test_delete_many_of_fields_is_one_bulk_write(self, counted):
        client, calls = counted
        client.set_many(user(0), {block(n): {"a": n, "b": n} for n in range(10)})
        calls.clear()
        client.delete_many(user(0), [block(n) for n in range(10)], fields=["a"])
        assert calls == [
            ("user_state", "find"),
            ("user_state", "bulk_write"),
            ("state_history", "insert_many"),
        ]


class TestStorage:
    def test_indexes_are_created_on_open(self):
        driver = mongomock.MongoClient(tz_aware=True)
        MongoUserStateClient(driver, "lrs_test")
        state = driver.lrs_test.user_state.index_information()
        assert state["state_identity"]["unique"] is True
        assert state["state_identity"]["key"] == [("username", 1), ("scope", 1), ("block", 1)]
        assert "state_by_block" in state
        assert "state_by_course" in state
        history = driver.lrs_test.state_history.index_information()
        assert history["history_by_block"]["key"][-1] == ("time_us", -1)

    def test_microseconds_are_kept_beside_the_bson_date(self):
        driver = mongomock.MongoClient(tz_aware=True)
        client = MongoUserStateClient(driver, "lrs_test")
        client.set(user(0), block(0), {"a": 1})
        document = driver.lrs_test.user_state.find_one()
        updated = client.get(user(0), block(0)).updated
        assert document["time_us"] % 1_000_000 == updated.microsecond
        assert document["updated"].microsecond == updated.microsecond // 1000 * 1000

    def test_field_names_are_stored_as_safe_keys(self):
        driver = mongomock.MongoClient(tz_aware=True)
        client = MongoUserStateClient(driver, "lrs_test")
        client.set(user(0), block(0), {"a.b": 1, "$c": 2, "": 3})
        keys = set(driver.lrs_test.user_state.find_one()["fields"])
        assert keys == {"_a%2Eb", "_%24c", "_"}

    def test_writes_wait_for_a_majority_unless_the_url_says_otherwise(self):
        assert durable_write_concern(WriteConcern()).document == {"w": "majority"}
        assert durable_write_concern(WriteConcern(w=1)).document == {"w": 1}
        driver = pymongo.MongoClient("mongodb://127.0.0.1:9/?w=2", connect=False)
        try:
            assert collection(driver.lrs, "x").write_concern.document == {"w": 2}
            plain = pymongo.MongoClient("mongodb://127.0.0.1:9/", connect=False)
            assert collection(plain.lrs, "x").write_concern.document == {"w": "majority"}
            plain.close()
        finally:
            driver.close()


class TestFailures:
    def test_closed_port_gives_service_unavailable(self):
        with pytest.raises(ServiceUnavailable) as raised:
            connect("mongodb://127.0.0.1:9/lrs?serverSelectionTimeoutMS=100&connectTimeoutMS=100")
        assert isinstance(raised.value.__cause__, pymongo.errors.ConnectionFailure)

    def test_failed_bulk_write_writes_nothing(self, monkeypatch):
        client = MongoUserStateClient(mongomock.MongoClient(tz_aware=True), "lrs_test")
        client.set(user(0), block(0), {"a": 1})

        def refuse(*args, **kwargs):
            raise AutoReconnect("connection reset")

        monkeypatch.setattr(client._collection, "bulk_write", refuse)
        with pytest.raises(ServiceUnavailable) as raised:
            client.set_many(user(0), {block(0): {"a": 2}, block(1): {"b": 1}})
        assert isinstance(raised.value.__cause__, AutoReconnect)
        monkeypatch.undo()
        assert client.get(user(0), block(0)).state == {"a": 1}
        with pytest.raises(client.DoesNotExist):
            client.get(user(0), block(1))
        assert len(list(client.get_history(user(0), block(0)))) == 1

    def test_failed_read_raises_service_unavailable(self, monkeypatch):
        client = MongoUserStateClient(mongomock.MongoClient(tz_aware=True), "lrs_test")

        def refuse(*args, **kwargs):
            raise AutoReconnect("connection reset")

        monkeypatch.setattr(client._collection, "find", refuse)
        with pytest.raises(ServiceUnavailable):
            client.get(user(0), block(0))
        with pytest.raises(ServiceUnavailable):
            list(client.iter_all_for_block(block(0)))

    def test_other_driver_errors_become_user_state_error(self, monkeypatch):
        client = MongoUserStateClient(mongomock.MongoClient(tz_aware=True), "lrs_test")

        def refuse(*args, **kwargs):
            raise OperationFailure("not authorized", code=13)

        monkeypatch.setattr(client._collection, "bulk_write", refuse)
        with pytest.raises(UserStateError) as raised:
            client.set(user(0), block(0), {"a": 1})
        assert not isinstance(raised.value, ServiceUnavailable)
        assert isinstance(raised.value.__cause__, OperationFailure)

    def test_failed_history_read_raises_service_unavailable(self, monkeypatch):
        client = MongoUserStateClient(mongomock.MongoClient(tz_aware=True), "lrs_test")
        client.set(user(0), block(0), {"a": 1})

        def refuse(*args, **kwargs):
            raise AutoReconnect("connection reset")

        monkeypatch.setattr(client.history._collection, "find", refuse)
        with pytest.raises(ServiceUnavailable):
            client.get_history(user(0), block(0))


def test_history_may_live_in_another_database():
    state_driver = mongomock.MongoClient(tz_aware=True)
    history_driver = mongomock.MongoClient(tz_aware=True)
    client = MongoUserStateClient(
        state_driver, "lrs_test", history=MongoHistoryLog(history_driver.history_db)
    )
    client.set(user(0), block(0), {"a": 1})
    assert "state_history" not in state_driver.lrs_test.list_collection_names()
    assert history_driver.history_db.state_history.count_documents({}) == 1


class TestMongoUnderContention:
    """The concurrency contract, with pauses after each call so that writers interleave."""

    @pytest.fixture
    def client(self):
        client = MongoUserStateClient(ThreadSafeMongoClient(), "lrs_test")
        client._collection = Pausing(
            client._collection,
            ("find", "find_one", "bulk_write", "update_many", "delete_many"),
            delay=0.0005,
        )
        return client

    test_history_is_exact_under_concurrent_writers = (
        StoredUserStateClientContract.test_history_is_exact_under_concurrent_writers
    )
