import sqlite3

import pytest

from lrs.clients import ServiceUnavailable, connect
from lrs.clients.sqlite import SqliteUserStateClient
from lrs.exceptions import InvalidInput
from lrs.history import MemoryHistoryLog
from lrs.history.factory import open_history
from lrs.history.sqlite import SqliteHistoryLog
from lrs.sqlite import SqliteDatabase
from lrs.sqlite_schema import MIGRATIONS
from lrs.testing import StoredUserStateClientContract, block, user
from lrs.usecases.storage import open_storage


class TestSqliteUserStateClient(StoredUserStateClientContract):
    @pytest.fixture
    def client(self, sqlite_database):
        return SqliteUserStateClient(sqlite_database)


class TestSqliteWithHistoryElsewhere(StoredUserStateClientContract):
    @pytest.fixture
    def client(self, sqlite_database):
        return SqliteUserStateClient(sqlite_database, MemoryHistoryLog())


def test_a_write_and_its_history_entry_commit_together(sqlite_database, monkeypatch):
    client = SqliteUserStateClient(sqlite_database)
    client.set(user(0), block(0), {"a": 1})

    # The history insert fails inside the write's transaction: nothing of the
    # write may remain.
    def failing(connection, entries):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr("lrs.clients.sqlite.SqliteHistoryLog.append_in", failing)
    with pytest.raises(ServiceUnavailable):
        client.set(user(0), block(0), {"a": 2})
    monkeypatch.undo()
    assert client.get(user(0), block(0)).state == {"a": 1}
    assert [entry.state for entry in client.get_history(user(0), block(0))] == [{"a": 1}]


def test_state_survives_reopening_the_file(tmp_path):
    first = SqliteUserStateClient(SqliteDatabase(tmp_path / "lrs.db", MIGRATIONS), owns=True)
    first.set(user(0), block(0), {"a": 1})
    first.close()
    second = SqliteUserStateClient(SqliteDatabase(tmp_path / "lrs.db", MIGRATIONS), owns=True)
    assert second.get(user(0), block(0)).state == {"a": 1}
    assert len(list(second.get_history(user(0), block(0)))) == 1
    second.close()


class TestOpeningByUrl:
    def test_relative_and_absolute_paths(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        relative = connect("sqlite:///data/relative.db")
        relative.set(user(0), block(0), {"a": 1})
        relative.close()
        assert (tmp_path / "data" / "relative.db").exists()
        absolute = connect(f"sqlite:///{tmp_path}/absolute.db")
        absolute.set(user(0), block(0), {"a": 2})
        absolute.close()
        assert connect(f"sqlite:///{tmp_path}/absolute.db").get(user(0), block(0)).state == {"a": 2}

    def test_history_on_the_same_file_is_written_in_the_same_transaction(self, tmp_path):
        url = f"sqlite:///{tmp_path}/lrs.db"
        client = connect(url, history_url=url)
        client.set(user(0), block(0), {"a": 1})
        client.set(user(0), block(0), {"a": 2})
        assert [e.state for e in client.get_history(user(0), block(0))] == [{"a": 2}, {"a": 1}]
        assert client._history_in_transaction
        client.close()

    def test_history_can_live_elsewhere(self, tmp_path):
        client = connect(f"sqlite:///{tmp_path}/state.db", history_url="memory://")
        client.set(user(0), block(0), {"a": 1})
        assert len(list(client.get_history(user(0), block(0)))) == 1
        assert isinstance(open_history(f"sqlite:///{tmp_path}/h.db"), SqliteHistoryLog)
        client.close()

    def test_synchronous_full_from_the_url(self, tmp_path):
        client = connect(f"sqlite:///{tmp_path}/lrs.db?synchronous=full")
        assert client._database.synchronous == "full"
        client.close()

    @pytest.mark.parametrize(
        "url",
        [
            "sqlite://",
            "sqlite:///",
            "sqlite://host/lrs.db",
            "sqlite:///folder/",
            "sqlite:///lrs.db?synchronous=off",
            "sqlite:///lrs.db?journal=delete",
        ],
    )
    def test_bad_urls_are_refused_with_a_message(self, url, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        with pytest.raises(InvalidInput) as raised:
            connect(url)
        assert "sqlite" in str(raised.value).lower() or "synchronous" in str(raised.value)
        assert list(tmp_path.iterdir()) == []

    def test_the_server_keeps_every_store_in_the_one_file(self, tmp_path):
        with open_storage(f"sqlite:///{tmp_path}/lrs.db") as stores:
            for name in ("state", "credentials", "statements", "attachments", "documents"):
                assert type(getattr(stores, name)).__name__.startswith("Sqlite"), name
            assert type(stores.activities).__name__.startswith("Sqlite")
            assert type(stores.enrollments).__name__.startswith("Sqlite")
            assert stores.state.history.database.path == tmp_path / "lrs.db"


def _write_fields(url, writer, count):
    client = connect(url)
    for n in range(count):
        client.set(user(0), block(0), {f"w{writer}-{n}": n})
    client.close()


def test_writers_in_several_processes_lose_no_field(tmp_path):
    import multiprocessing

    url = f"sqlite:///{tmp_path}/lrs.db"
    connect(url).close()  # the schema, before the writers race to make it
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_write_fields, args=(url, n, 25)) for n in range(8)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
        assert writer.exitcode == 0
    client = connect(url)
    state = client.get(user(0), block(0)).state
    assert state == {f"w{w}-{n}": n for w in range(8) for n in range(25)}
    assert len(list(client.get_history(user(0), block(0)))) == 200
    client.close()


# The index rows of the statements, or the definitions merged after them in
# the same transaction, meet a full disk: nothing of the batch stays.
@pytest.mark.parametrize("failing_table", ["statement_terms", "activities"])
def test_a_locked_or_full_database_is_503_with_retry_after_and_nothing_half_written(
    tmp_path, monkeypatch, failing_table
):
    from tests.support import ADMIN, basic, make_app

    storage = open_storage(f"sqlite:///{tmp_path}/lrs.db")
    app = make_app(storage)
    http = app.test_client()
    xapi = {**basic(*ADMIN), "X-Experience-API-Version": "1.0.3"}
    batch = [
        {
            "actor": {"mbox": "mailto:ada@example.org"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {
                "id": f"http://example.org/a{n}",
                "definition": {"name": {"en": f"Activity {n}"}},
            },
        }
        for n in range(3)
    ]

    def failing(connection, sql, rows):
        if f"INTO {failing_table}" in sql:
            raise sqlite3.OperationalError("database or disk is full")
        return connection.executemany(sql, rows)

    database = storage.statements._database
    connection = database.connection()
    monkeypatch.setattr(database, "connection", lambda: _Failing(connection, failing))
    response = http.post("/xAPI/statements", json=batch, headers=xapi)
    assert response.status_code == 503
    assert "Retry-After" in response.headers
    monkeypatch.undo()
    assert storage.statements.count() == 0
    assert storage.activities.get("http://example.org/a0") is None
    storage.close()


class _Failing:
    """A connection whose executemany is replaced."""

    def __init__(self, connection, executemany):
        self._connection = connection
        self._executemany = executemany

    def executemany(self, sql, rows):
        return self._executemany(self._connection, sql, rows)

    def __getattr__(self, name):
        return getattr(self._connection, name)
