"""Open a history log from a storage URL."""

from lrs.history.base import HistoryLog, Retention
from lrs.history.memory import MemoryHistoryLog
from lrs.urls import Backend, parse_storage_url


def open_history(url: str, retention: Retention | None = None) -> HistoryLog:
    """Open the history log that ``url`` names (see ``lrs.clients.connect`` for URLs).

    Raises:
        InvalidInput: the URL names no store a history can live in (a ``ValueError``).
        ServiceUnavailable: the store cannot be reached.
    """
    parsed = parse_storage_url(
        url, (Backend.memory, Backend.mongodb, Backend.mongomock, Backend.sqlite), name="history"
    )
    if parsed.backend == Backend.memory:
        return MemoryHistoryLog(retention)
    if parsed.backend == Backend.sqlite:
        from lrs.history.sqlite import SqliteHistoryLog
        from lrs.sqlite_schema import open_sqlite

        return SqliteHistoryLog(open_sqlite(parsed), retention, owns=True)
    # Imported here: a memory:// history needs no MongoDB driver.
    from lrs.history.mongo import MongoHistoryLog
    from lrs.mongo import open_database

    client, database = open_database(url)
    return MongoHistoryLog(database, retention, client=client)
