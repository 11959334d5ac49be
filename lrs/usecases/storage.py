"""Every store the server needs, opened from one storage URL."""

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lrs.assignments import AssignmentStore, MemoryAssignmentStore
from lrs.clients.base import UserStateClient
from lrs.clients.factory import connect
from lrs.closeable import Closeable
from lrs.credentials.base import CredentialStore
from lrs.credentials.memory import MemoryCredentialStore
from lrs.enrollments.base import EnrollmentStore
from lrs.enrollments.memory import MemoryEnrollmentStore
from lrs.erasure import ErasureStore, MemoryErasureStore
from lrs.exports import ExportLog, MemoryExportLog
from lrs.forwarding import ForwardingStore, MemoryForwardingStore
from lrs.history.base import HistoryLog
from lrs.history.factory import open_history
from lrs.progress import MemoryProgressStore, ProgressStore
from lrs.urls import Backend, parse_storage_url
from lrs.usecases.group_commit import GroupCommit
from lrs.xapi.activities import ActivityStore, MemoryActivityStore
from lrs.xapi.attachments import AttachmentStore, MemoryAttachmentStore
from lrs.xapi.documents import DocumentStore, MemoryDocumentStore
from lrs.xapi.statements.base import StatementStore
from lrs.xapi.statements.memory import MemoryStatementStore

if TYPE_CHECKING:
    from lrs.sqlite import SqliteDatabase


def _one_writer_at_a_time() -> Callable[[], AbstractContextManager[Any]]:
    """A transaction for stores in one process's memory: a lock, taken by one writer at a time."""
    lock = threading.RLock()
    return lambda: lock


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
    progress: ProgressStore = field(default_factory=MemoryProgressStore)
    erasures: ErasureStore = field(default_factory=MemoryErasureStore)
    exports: ExportLog = field(default_factory=MemoryExportLog)
    assignments: AssignmentStore = field(default_factory=MemoryAssignmentStore)
    forwarding: ForwardingStore = field(default_factory=MemoryForwardingStore)
    #: Makes the writes of several stores one transaction, where the stores
    #: share a database that has them (SQLite): ``with storage.transaction():``.
    #: In a process's memory: one writer at a time, so that batches are stored
    #: in the order of their stamps (a reader of ``since`` never walks past a
    #: batch that shows up later). On MongoDB each store's write stands alone.
    transaction: Callable[[], AbstractContextManager[Any]] = field(
        default_factory=lambda: _one_writer_at_a_time()
    )
    #: Whether ``transaction`` isolates: what is read in it cannot change before
    #: its writes commit (SQLite's write lock).
    isolated: bool = False
    #: Empties a write-ahead log into the data, where there is one (SQLite's):
    #: after an erasure, so that the log keeps no page as it was before.
    empty_log: Callable[[], bool] = lambda: True
    #: Called between the many short writes of long work (a purge, an erasure):
    #: where writers of other processes wait for one lock (SQLite), it leaves
    #: them time to take it.
    yield_to_writers: Callable[[], None] = lambda: None
    #: Whether this thread is inside ``transaction`` already.
    in_transaction: Callable[[], bool] = lambda: False
    #: Batches of statements that arrive while another is being written wait
    #: and are written together next, in one transaction (where ``transaction``
    #: isolates: ``lrs.usecases.ingest``).
    writes: GroupCommit[Any, Any] = field(default_factory=GroupCommit, compare=False, repr=False)

    def close(self) -> None:
        """Close every store."""
        self.state.close()
        self.credentials.close()
        self.statements.close()
        self.attachments.close()
        self.documents.close()
        self.activities.close()
        self.enrollments.close()
        self.progress.close()
        self.erasures.close()
        self.exports.close()
        self.assignments.close()
        self.forwarding.close()


def open_storage(url: str = "memory://", history_url: str | None = None) -> Storage:
    """Open every store at ``url`` (see ``lrs.clients.connect`` for the URLs).

    The MongoDB stores share one driver client and database (a bare
    ``mongomock://`` is a fresh one, shared by all the stores, as a real
    server's stores share theirs).

    Raises:
        InvalidInput: the URL names no store a server can keep its data in (a
            ``ValueError``).
        ServiceUnavailable: the store cannot be reached.
    """
    parsed = parse_storage_url(
        url, (Backend.memory, Backend.mongodb, Backend.mongomock, Backend.sqlite)
    )
    if parsed.backend == Backend.memory:
        return Storage(connect(url, history_url=history_url), MemoryCredentialStore())
    if parsed.backend == Backend.sqlite:
        from lrs.sqlite_schema import open_sqlite

        return sqlite_storage(
            open_sqlite(parsed), history=None if history_url is None else open_history(history_url)
        )
    # (A bare mongomock:// is a fresh database: lrs.mongo.open_database's rule.)
    from lrs.mongo import open_database

    client, database = open_database(url)
    try:
        history = None if history_url is None else open_history(history_url)
        return mongo_storage(client, database.name, history=history, close_client=True)
    except BaseException:
        client.close()
        raise


def sqlite_storage(database: "SqliteDatabase", *, history: HistoryLog | None = None) -> Storage:
    """Every store in one SQLite file; closing the storage closes the file.

    Args:
        database: the file.
        history: where learner-state history goes, if not in the same file.
    """
    # Each backend is imported when a URL of its scheme is opened.
    from lrs.assignments.sqlite import SqliteAssignmentStore
    from lrs.clients.sqlite import SqliteUserStateClient
    from lrs.credentials.sqlite import SqliteCredentialStore
    from lrs.enrollments.sqlite import SqliteEnrollmentStore
    from lrs.erasure.sqlite import SqliteErasureStore
    from lrs.exports.sqlite import SqliteExportLog
    from lrs.forwarding.sqlite import SqliteForwardingStore
    from lrs.progress.sqlite import SqliteProgressStore
    from lrs.xapi.activities.sqlite import SqliteActivityStore
    from lrs.xapi.attachments.sqlite import SqliteAttachmentStore
    from lrs.xapi.documents.sqlite import SqliteDocumentStore
    from lrs.xapi.statements.sqlite import SqliteStatementStore

    return Storage(
        SqliteUserStateClient(database, history, owns=True),
        SqliteCredentialStore(database),
        SqliteStatementStore(database),
        SqliteAttachmentStore(database),
        SqliteDocumentStore(database),
        SqliteActivityStore(database),
        SqliteEnrollmentStore(database),
        SqliteProgressStore(database),
        SqliteErasureStore(database),
        SqliteExportLog(database),
        SqliteAssignmentStore(database),
        SqliteForwardingStore(database),
        transaction=database.transaction,
        isolated=True,
        empty_log=database.empty_log,
        yield_to_writers=database.yield_to_writers,
        in_transaction=database.in_transaction,
    )


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
    from lrs.assignments.mongo import MongoAssignmentStore
    from lrs.clients.mongo import MongoUserStateClient
    from lrs.credentials.mongo import MongoCredentialStore
    from lrs.enrollments.mongo import MongoEnrollmentStore
    from lrs.erasure.mongo import MongoErasureStore
    from lrs.exports.mongo import MongoExportLog
    from lrs.forwarding.mongo import MongoForwardingStore
    from lrs.progress.mongo import MongoProgressStore
    from lrs.xapi.activities.mongo import MongoActivityStore
    from lrs.xapi.attachments.mongo import MongoAttachmentStore
    from lrs.xapi.documents.mongo import MongoDocumentStore
    from lrs.xapi.statements.mongo import MongoStatementStore

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
        MongoProgressStore(database),
        MongoErasureStore(database),
        MongoExportLog(database),
        MongoAssignmentStore(database),
        MongoForwardingStore(database),
        # Batches from many processes: their order is the statement store's
        # affair there (lrs.xapi.statements.mongo_batches), not a lock's here.
        transaction=nullcontext,
    )
