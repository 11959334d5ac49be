import pytest

from lrs.sqlite import SqliteDatabase
from lrs.sqlite_schema import MIGRATIONS
from tests.support import LiveServer


@pytest.fixture
def sqlite_database(tmp_path):
    """A SQLite file with this release's schema, closed after the test."""
    database = SqliteDatabase(tmp_path / "lrs.db", MIGRATIONS)
    yield database
    database.close()


@pytest.fixture(scope="session")
def live_server():
    """One HTTP server on 127.0.0.1 for the session; tests give it their app."""
    server = LiveServer()
    yield server
    server.stop()
