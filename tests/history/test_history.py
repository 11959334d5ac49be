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
