import mongomock
import pytest
from pymongo.errors import AutoReconnect

from lrs.clients import ServiceUnavailable, connect
from lrs.history import MemoryHistoryLog, MongoHistoryLog, Retention
from lrs.history.factory import open_history
from lrs.history.sqlite import SqliteHistoryLog
from lrs.sqlite import SqliteDatabase
from lrs.sqlite_schema import MIGRATIONS
from lrs.testing import HistoryLogContract, block, entry, user


class TestMemoryHistoryLog(HistoryLogContract):
    @pytest.fixture
    def make_log(self):
        return MemoryHistoryLog


class TestMongoHistoryLog(HistoryLogContract):
    @pytest.fixture
    def make_log(self):
        return lambda retention: MongoHistoryLog(
            mongomock.MongoClient(tz_aware=True).lrs_test, retention
        )


class TestSqliteHistoryLog(HistoryLogContract):
    @pytest.fixture
    def make_log(self, tmp_path):
        databases = []

        def make(retention):
            databases.append(SqliteDatabase(tmp_path / f"{len(databases)}.db", MIGRATIONS))
            return SqliteHistoryLog(databases[-1], retention)

        yield make
        for database in databases:
            database.close()


def test_failed_append_raises_service_unavailable(monkeypatch):
    log = MongoHistoryLog(mongomock.MongoClient(tz_aware=True).lrs_test)

    def refuse(*args, **kwargs):
        raise AutoReconnect("connection reset")

    monkeypatch.setattr(log._collection, "insert_many", refuse)
    with pytest.raises(ServiceUnavailable):
        log.append([entry(1, 1)])


def test_open_history_by_url():
    assert isinstance(open_history("memory://"), MemoryHistoryLog)
    assert isinstance(open_history("mongomock://"), MongoHistoryLog)
    with pytest.raises(ValueError, match="known: memory://, mongodb://"):
        open_history("redis://localhost")


@pytest.mark.parametrize("url", ["memory://", "mongomock://"])
def test_client_history_is_pruned_by_its_retention(url):
    client = connect(url, retention=Retention(keep_last=2))
    for n in range(5):
        client.set(user(0), block(0), {"n": n})
    assert client.history.prune() == 3
    assert [entry.state for entry in client.get_history(user(0), block(0))] == [{"n": 4}, {"n": 3}]


@pytest.mark.parametrize("url", ["memory://", "mongomock://"])
def test_history_pruned_away_shows_the_current_state(url):
    client = connect(url, retention=Retention(keep_last=1))
    client.set(user(0), block(0), {"n": 1})
    # Empty the log entirely, as a max_age prune of an old block would.
    client.history._prune(None, cutoff_us=2**62)
    history = list(client.get_history(user(0), block(0)))
    assert [(entry.state, entry.updated) for entry in history] == [
        ({"n": 1}, client.get(user(0), block(0)).updated)
    ]


def test_mongo_prunes_by_age_a_batch_at_a_time(monkeypatch):
    from datetime import timedelta

    from lrs.clock import from_us
    from lrs.history import mongo as history_mongo

    monkeypatch.setattr(history_mongo, "PRUNED_AT_ONCE", 2)
    log = MongoHistoryLog(
        mongomock.MongoClient(tz_aware=True).lrs_test, Retention(max_age=timedelta(seconds=10))
    )
    deletes = []
    real = log._collection.delete_many
    monkeypatch.setattr(
        log._collection, "delete_many", lambda query: deletes.append(query) or real(query)
    )
    log.append([entry(n, n * 1_000_000) for n in range(1, 8)])  # at 1 s to 7 s
    assert log.prune(now=from_us(15_000_000)) == 4  # older than 5 s: 1 s to 4 s
    assert len(deletes) == 2  # two batches of two, by id
    assert [item.time_us for item in log.entries("learner0", "user_state", "b0")] == [
        7_000_000,
        6_000_000,
        5_000_000,
    ]
