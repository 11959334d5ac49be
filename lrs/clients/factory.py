"""Open a learner-state client from a storage URL."""

from collections.abc import Callable

from lrs.clients.base import KeyParser, UserStateClient
from lrs.clients.http import HttpUserStateClient
from lrs.clients.memory import MemoryUserStateClient
from lrs.exceptions import InvalidInput
from lrs.history.base import HistoryLog, Retention
from lrs.history.factory import open_history
from lrs.history.memory import MemoryHistoryLog
from lrs.urls import Backend, StorageURL, parse_storage_url


def _open_memory(
    url: StorageURL, history: HistoryLog | None, retention: Retention | None, key_parser: KeyParser
) -> UserStateClient:
    return MemoryUserStateClient(history or MemoryHistoryLog(retention), key_parser=key_parser)


def _open_mongo(
    url: StorageURL, history: HistoryLog | None, retention: Retention | None, key_parser: KeyParser
) -> UserStateClient:
    # Imported here: a memory:// client needs no MongoDB driver.
    from lrs.clients.mongo import MongoUserStateClient
    from lrs.history.mongo import MongoHistoryLog
    from lrs.mongo import open_database

    client, database = open_database(url.url)
    try:
        return MongoUserStateClient(
            client,
            database.name,
            history=history or MongoHistoryLog(database, retention),
            key_parser=key_parser,
            close_client=True,
        )
    except BaseException:
        client.close()
        raise


def _open_sqlite(
    url: StorageURL, history: HistoryLog | None, retention: Retention | None, key_parser: KeyParser
) -> UserStateClient:
    from lrs.clients.sqlite import SqliteUserStateClient
    from lrs.history.sqlite import SqliteHistoryLog
    from lrs.sqlite_schema import open_sqlite

    database = open_sqlite(url)
    return SqliteUserStateClient(
        database,
        history or SqliteHistoryLog(database, retention),
        key_parser=key_parser,
        owns=True,
    )


_Opener = Callable[[StorageURL, HistoryLog | None, Retention | None, KeyParser], UserStateClient]

_OPENERS: dict[Backend, _Opener] = {
    Backend.memory: _open_memory,
    Backend.mongodb: _open_mongo,
    Backend.mongomock: _open_mongo,
    Backend.sqlite: _open_sqlite,
}


def connect(
    url: str = "memory://",
    *,
    history_url: str | None = None,
    key_parser: KeyParser = str,
    retention: Retention | None = None,
    auth: tuple[str, str] | None = None,
) -> UserStateClient:
    """Open the learner-state client that ``url`` names.

    URLs:
        ``memory://``: in this process's memory.
        ``mongodb://host:27017/dbname`` (or ``mongodb+srv://``): MongoDB through
        pymongo; the database is the URL's path (default ``lrs``), and the
        query string takes pymongo's options (``?w=majority&serverSelectionTimeoutMS=2000``).
        ``mongomock://``: a fresh, empty in-process mongomock database on each
        call (for tests); ``mongomock://host/dbname`` names one shared by every
        caller in the process.
        ``http://host:port`` (or ``https://``): an ``lrs`` server, through its
        REST API, with the credential ``auth=(key, secret)``.
        ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``: a
        SQLite file, created with its folder; ``?synchronous=full`` syncs every
        commit to disk (see ``lrs.sqlite``).

    Args:
        url: where learner state is stored.
        history_url: where its history is stored (default: beside the state,
            in the same database).
        key_parser: rebuilds block-key objects for ``iter_all_for_course``
            (for example ``opaque_keys.edx.keys.UsageKey.from_string``).
        retention: what ``client.history.prune()`` keeps (default: everything).
        auth: ``(key, secret)`` of the credential for an ``http(s)://`` server.

    Raises:
        InvalidInput: the URL's scheme is unknown (a ``ValueError``); the
            message lists the known ones.
        ServiceUnavailable: the store cannot be reached.
    """
    parsed = parse_storage_url(url)
    if parsed.backend == Backend.http:
        if history_url is not None or retention is not None:
            raise InvalidInput("an lrs server keeps its own history: no history_url or retention")
        return HttpUserStateClient(url, auth, key_parser=key_parser)
    history = None if history_url is None else open_history(history_url, retention)
    return _OPENERS[parsed.backend](parsed, history, retention, key_parser)
