"""Every store the server needs, opened from one storage URL."""

import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from lrs.clients.base import UserStateClient
from lrs.clients.factory import SCHEMES, connect
from lrs.clients.mongo import MongoUserStateClient
from lrs.closeable import Closeable
from lrs.credentials.base import CredentialStore
from lrs.credentials.memory import MemoryCredentialStore
from lrs.credentials.mongo import MongoCredentialStore
from lrs.enrollments.base import EnrollmentStore
from lrs.enrollments.memory import MemoryEnrollmentStore
from lrs.enrollments.mongo import MongoEnrollmentStore
from lrs.history.base import HistoryLog
from lrs.history.factory import open_history
from lrs.mongo import DEFAULT_DATABASE, open_database
from lrs.xapi.activities import ActivityStore, MemoryActivityStore, MongoActivityStore
from lrs.xapi.attachments import AttachmentStore, MemoryAttachmentStore, MongoAttachmentStore
from lrs.xapi.documents import DocumentStore, MemoryDocumentStore, MongoDocumentStore
from lrs.xapi.statements.base import StatementStore
from lrs.xapi.statements.memory import MemoryStatementStore
from lrs.xapi.statements.mongo import MongoStatementStore


@dataclass
class Storage(Closeable):
    """The server's stores: learner state (with history), credentials, xAPI, enrollments.

    Tests build one from ready stores; ``open_storage`` builds one from a URL.
    """

    state: UserStateClient
    credentials: CredentialStore = field(default_factory=MemoryCredentialStore)
    statements: StatementStore = field(default_factory=MemoryStatementStore)
    attachments: AttachmentStore = field(default_factory=MemoryAttachmentStore)
    documents: DocumentStore = field(default_factory=MemoryDocumentStore)
    activities: ActivityStore = field(default_factory=MemoryActivityStore)
    enrollments: EnrollmentStore = field(default_factory=MemoryEnrollmentStore)

    def close(self) -> None:
        """Close every store."""
        self.state.close()
        self.credentials.close()
        self.statements.close()
        self.attachments.close()
        self.documents.close()
        self.activities.close()
        self.enrollments.close()


#: Storage URL schemes for tests only: a server must not keep data in them.
TEST_ONLY_SCHEMES = frozenset({"mongomock"})


def describe(url: str) -> str:
    """Say where a storage URL keeps data and whether it survives a restart.

    Passwords in the URL are not repeated.
    """
    parts = urlsplit(url)
    if parts.scheme == "memory":
        return "memory:// (this process's memory: everything is lost when the server stops)"
    if parts.scheme in ("mongodb", "mongodb+srv"):
        host = parts.hostname or "localhost"
        port = f":{parts.port}" if parts.port else ""
        database = parts.path.strip("/") or DEFAULT_DATABASE
        return f"MongoDB database {database!r} at {host}{port} (survives restarts)"
    if parts.scheme in TEST_ONLY_SCHEMES:
        return f"{parts.scheme}:// (an in-process fake for tests: nothing survives)"
    return f"{parts.scheme}://"


def open_storage(url: str = "memory://", history_url: str | None = None) -> Storage:
    """Open every store at ``url`` (see ``lrs.clients.connect`` for the URLs).

    The MongoDB stores share one driver client. A ``mongomock://`` URL without
    a database name gets one fresh database for all the stores, as a real
    server's stores share theirs.

    Raises:
        ValueError: the URL's scheme is unknown.
        ServiceUnavailable: the store cannot be reached.
    """
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        raise ValueError(f"a server cannot store its data on another server ({url!r})")
    if parts.scheme not in SCHEMES or parts.scheme == "memory":
        return Storage(connect(url, history_url=history_url), MemoryCredentialStore())
    if parts.scheme == "mongomock" and not (parts.netloc or parts.path.strip("/")):
        url = f"mongomock://local/{uuid.uuid4().hex}"
    client, database = open_database(url)
    try:
        history = None if history_url is None else open_history(history_url)
        return mongo_storage(client, database.name, history=history, close_client=True)
    except BaseException:
        client.close()
        raise


def mongo_storage(
    client: Any,
    database_name: str,
    *,
    history: HistoryLog | None = None,
    close_client: bool = False,
) -> Storage:
    """Every store in one database of a MongoDB (or mongomock) driver client.

    Args:
        client: the driver client.
        database_name: the database every store shares.
        history: where learner-state history goes, if not beside the state.
        close_client: close ``client`` when the storage is closed.
    """
    database = client[database_name]
    state = MongoUserStateClient(client, database_name, history=history, close_client=close_client)
    return Storage(
        state,
        MongoCredentialStore(database),
        MongoStatementStore(database),
        MongoAttachmentStore(database),
        MongoDocumentStore(database),
        MongoActivityStore(database),
        MongoEnrollmentStore(database),
    )
