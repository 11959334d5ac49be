"""Open a history log from a storage URL."""

from urllib.parse import urlsplit

from lrs.history.base import HistoryLog, Retention
from lrs.history.memory import MemoryHistoryLog
from lrs.history.mongo import MongoHistoryLog
from lrs.mongo import open_database

SCHEMES = ("memory", "mongodb", "mongodb+srv", "mongomock")


def open_history(url: str, retention: Retention | None = None) -> HistoryLog:
    """Open the history log that ``url`` names (see ``lrs.clients.connect`` for URLs).

    Raises:
        ValueError: the URL's scheme is not one of ``SCHEMES``.
        ServiceUnavailable: the store cannot be reached.
    """
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return MemoryHistoryLog(retention)
    if scheme in SCHEMES:
        client, database = open_database(url)
        return MongoHistoryLog(database, retention, client=client)
    raise ValueError(
        f"unknown history URL scheme {scheme!r} in {url!r}; known: {', '.join(SCHEMES)}"
    )
