import pytest

from lrs.progress import MemoryProgressStore
from lrs.progress.mongo import MongoProgressStore
from lrs.progress.sqlite import SqliteProgressStore
from lrs.testing import ProgressStoreContract
from tests.mongomock_support import ThreadSafeMongoClient


class TestMemoryProgressStore(ProgressStoreContract):
    @pytest.fixture
    def progress(self):
        return MemoryProgressStore()


class TestSqliteProgressStore(ProgressStoreContract):
    @pytest.fixture
    def progress(self, sqlite_database):
        return SqliteProgressStore(sqlite_database)


class TestMongoProgressStore(ProgressStoreContract):
    @pytest.fixture
    def progress(self):
        return MongoProgressStore(ThreadSafeMongoClient()["lrs_test"])


def test_mongo_writes_a_batch_of_keys_in_one_bulk_write_and_redoes_a_lost_race(monkeypatch):
    from lrs.testing.progress import event

    progress = MongoProgressStore(ThreadSafeMongoClient()["lrs_test"])
    first = [event(n, content=f"http://x.org/{n}") for n in range(3)]
    progress.record(first)
    calls = []
    real_bulk = progress._progress.bulk_write
    real_load = progress._load_many

    def stale(keys):
        loaded = real_load(keys)
        # Another writer adds to the second key after this batch read it.
        other = MongoProgressStore(progress._progress.database)
        other.record([event(10, content="http://x.org/1", minute=1, completes=True)])
        return loaded

    def counted(operations, **kwargs):
        calls.append(len(operations))
        return real_bulk(operations, **kwargs)

    monkeypatch.setattr(progress, "_load_many", stale)
    monkeypatch.setattr(progress._progress, "bulk_write", counted)
    progress.record([event(20 + n, content=f"http://x.org/{n}", minute=2) for n in range(3)])
    assert calls[0] == 3  # the batch's keys in one bulk write
    monkeypatch.undo()
    summaries = {summary.content: summary for summary in progress.summaries()}
    # The key that lost its race was done again: neither write is lost.
    assert summaries["http://x.org/1"].completion_us is not None
    assert all(summary.last_us == event(22, minute=2).time_us for summary in summaries.values())


def test_sqlite_reads_and_writes_a_batch_of_keys_at_once_and_redoes_a_lost_race(
    monkeypatch, sqlite_database
):
    from lrs.testing.progress import event

    progress = SqliteProgressStore(sqlite_database)
    progress.record([event(n, content=f"http://x.org/{n}") for n in range(3)])
    progress.record([event(10, content="http://x.org/1", minute=1, completes=True)])
    real_load = progress._load_many

    def stale(keys):
        # As if the second key had been read before its last write.
        loaded = real_load(keys)
        key = next(key for key in keys if key[1] == "http://x.org/1")
        version, sessions, tries = loaded[key]
        loaded[key] = (version - 1, sessions[:0], tries)
        return loaded

    statements = []
    sqlite_database.connection().set_trace_callback(statements.append)
    monkeypatch.setattr(progress, "_load_many", stale)
    progress.record([event(20 + n, content=f"http://x.org/{n}", minute=2) for n in range(4)])
    monkeypatch.undo()
    sqlite_database.connection().set_trace_callback(None)
    # One read for the batch's four keys; the count of rows written fell
    # short, so each key was then done again alone (a join: twice is once).
    reads = [sql for sql in statements if sql.startswith("SELECT") and "progress" in sql]
    assert len([sql for sql in reads if "(VALUES" in sql]) == 1 and len(reads) == 1 + 4
    summaries = {summary.content: summary for summary in progress.summaries()}
    # The key that lost was done again from what is stored: nothing is lost.
    assert summaries["http://x.org/1"].completion_us is not None
    assert all(summary.last_us == event(23, minute=2).time_us for summary in summaries.values())
    assert len(summaries) == 4
