"""What every SQLite store shares: the file, its connections, transactions, schema and errors.

One file holds every store (``sqlite:///lrs-data/lrs.db``), through Python's own
``sqlite3``: no server, no ORM. Each thread gets its own connection, in
autocommit mode, so that a store opens a transaction only where it means one
(``transaction()``: ``BEGIN IMMEDIATE``, which takes the write lock at once, so
a check and the write it allows cannot be split by another writer).

The file is in WAL mode: readers never wait for the writer, and one writer at
a time commits, across threads and processes. Writers of this module wait
their turn at a lock of their process, then at a lock on the file
``<database>-writer`` (``flock``): the kernel wakes the next as soon as one
ends, where SQLite's busy handler would poll with sleeps of up to 100 ms (with
two workers, that made two store fewer statements than one). A writer that
finds SQLite's lock taken all the same (another program) waits up to the busy
timeout; past it, or on a full disk, the operation fails with
``ServiceUnavailable`` (a 503 with ``Retry-After``) and nothing of it is
written.

Commits do not wait for checkpoints (the copy of the write-ahead log back
into the file, with its syncs): a thread of each process runs them in the
background, at most every ``CHECKPOINT_INTERVAL`` seconds, while requests go
on. If it falls behind, the commit that finds ``CHECKPOINT_PAGES`` pages in
the log runs one itself.

``synchronous=NORMAL`` (the default) makes a commit durable against a crash
of the process, and against power loss once the write-ahead log is
checkpointed: a power cut may lose the last transactions, never corrupt the
file. ``?synchronous=full`` in the URL syncs every commit to disk.

The schema carries a version (``PRAGMA user_version``). Opening a file made
by an older release upgrades it in place, one step at a time, in one
transaction; a file from a newer release is refused.
"""

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import zstandard

from lrs.closeable import Closeable
from lrs.exceptions import InvalidInput, ServiceUnavailable, UserStateError

#: How long a writer waits for another's lock before giving up (milliseconds).
BUSY_TIMEOUT_MS = 5000
#: A pause between the transactions of long work (``yield_to_writers``): more
#: than the longest sleep of SQLite's busy handler (100 ms).
YIELD_SECONDS = 0.12
SYNCHRONOUS = ("normal", "full")
#: The page cache of each connection, in KiB.
CACHE_KIB = 16384
#: Pages in the write-ahead log past which a commit checkpoints it itself.
CHECKPOINT_PAGES = 20000
#: Seconds between background checkpoints while there are writes.
CHECKPOINT_INTERVAL = 0.2

#: One upgrade step: from version ``n`` (its index) to ``n + 1``.
Migration = Callable[[sqlite3.Connection], None]


def rows_in(
    connection: sqlite3.Connection, sql: str, values: Sequence[Any], *before: Any
) -> Iterator[Any]:
    """The rows of ``sql`` for a list of values: ``{marks}`` in it stands for their placeholders.

    One query for as many values as SQLite binds parameters at once (32,766
    since SQLite 3.32), so that a lookup of 1,000 keys is one; more past that.

    Args:
        connection: where to run it.
        sql: the query, with ``... IN ({marks})``.
        values: the values of the list.
        before: the parameters that come before the list in ``sql``.
    """
    size = connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) - len(before)
    for start in range(0, len(values), size):
        chunk = values[start : start + size]
        yield from connection.execute(
            sql.format(marks=", ".join("?" * len(chunk))), (*before, *chunk)
        )


class _Compressors(threading.local):
    """zstd's compressor and decompressor of this thread (they are not safe to share)."""

    def __init__(self) -> None:
        self.compressor = zstandard.ZstdCompressor(level=3)
        self.decompressor = zstandard.ZstdDecompressor()


_compressors = _Compressors()


def pack_json(value: Any) -> bytes:
    """``value`` as compressed JSON, for a row that would otherwise not share its page.

    JSON of a kilobyte or so (a learner's sessions on one content) repeats
    its IRIs and keys: zstd keeps about 40% of it in a few microseconds.
    """
    return _compressors.compressor.compress(orjson.dumps(value))


def unpack_json(packed: bytes) -> Any:
    """The value ``pack_json`` packed."""
    return orjson.loads(_compressors.decompressor.decompress(packed))


class DatabaseFileError(InvalidInput):
    """The file cannot be a database here: not SQLite, from a newer release, or not writable."""


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn ``sqlite3`` errors into the store's own errors, in one place.

    A lock held past the busy timeout, a full disk or an I/O error become
    ``ServiceUnavailable`` (retrying later may work); any other database error
    becomes ``UserStateError`` naming its class, not the data involved.
    """
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise ServiceUnavailable(f"the SQLite database is unavailable: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        raise UserStateError(f"SQLite refused the operation: {type(exc).__name__}") from exc


class SqliteDatabase(Closeable):
    """One SQLite file and the connections of the threads that use it."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        migrations: Sequence[Migration],
        *,
        synchronous: str = "normal",
    ) -> None:
        """Open (or create) the database file, and bring its schema up to date.

        Args:
            path: the file; its folder is created if missing.
            migrations: the schema's upgrade steps, the first from an empty file.
            synchronous: ``normal`` or ``full`` (see the module's text).

        Raises:
            DatabaseFileError: the folder cannot be written, the file is not
                a SQLite database, or it comes from a newer release; the
                message names the path and the cause.
        """
        if synchronous not in SYNCHRONOUS:
            raise InvalidInput(f"synchronous must be one of {', '.join(SYNCHRONOUS)}")
        self.path = Path(path)
        self.synchronous = synchronous
        self._local = threading.local()
        self._lock = threading.Lock()
        self._writer = threading.Lock()
        self._lock_file: int | None = None
        self._lock_pid = 0
        #: The longest this process has held the write lock, in microseconds:
        #: what another writer may have to wait (benchmarks/bench_erasure.py).
        self.longest_write_us = 0
        self._connections: list[sqlite3.Connection] = []
        # The background checkpoints: woken by commits, one thread per process.
        self._written = threading.Event()
        self._closing = threading.Event()
        self._checkpointer: threading.Thread | None = None
        self._checkpointer_pid = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseFileError(
                f"cannot create the folder of {self.path}: {exc.strerror}"
            ) from None
        try:
            self._upgrade(migrations)
        except sqlite3.DatabaseError as exc:
            self.close()
            raise DatabaseFileError(f"cannot use {self.path} as a database: {exc}") from None

    def connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,  # autocommit: transactions are explicit
                check_same_thread=False,  # closed by close(), from another thread
            )
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            connection.execute(f"PRAGMA synchronous = {self.synchronous.upper()}")
            connection.execute("PRAGMA foreign_keys = ON")
            # A 16 MB page cache per connection (SQLite's default is 2 MB):
            # room for a batch's dirty pages and the indexes' upper levels.
            # Each thread's connection keeps its own copy of the same pages,
            # so larger caches filled memory as the file grew (64 MB each:
            # +66% resident in a 30-minute soak), and imported 2% faster
            # than 8 MB; the operating system's page cache serves the rest. A
            # commit checkpoints only when the background thread falls behind:
            # a batch of statements dirties hundreds of index pages, and a
            # checkpoint every few batches (which writes them back and syncs)
            # cost requests more than their own work.
            connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            connection.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
            # Deleted content is zeroed where its page is written anyway (no
            # extra writes): what an erasure or a purge removes does not stay
            # readable in the file's free space.
            connection.execute("PRAGMA secure_delete = FAST")
            with self._lock:
                self._connections.append(connection)
            self._local.connection = connection
        return connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (``BEGIN IMMEDIATE``), committed or rolled back.

        A transaction opened while this thread is in one joins it: the
        outer one commits both or neither.

        Raises:
            ServiceUnavailable: the lock stayed taken past the busy timeout, or
                the disk is full; nothing was written.
        """
        connection = self.connection()
        if getattr(self._local, "committed", None) is not None:
            yield connection
            return
        # Writers queue here, woken in turn, rather than at SQLite's lock,
        # whose busy handler polls with sleeps of up to 100 ms: those of this
        # process at a thread lock, then one of each process at a lock on a
        # file beside the database.
        with self._writer, self._across_processes(), translate_errors():
            connection.execute("BEGIN IMMEDIATE")
            began = time.perf_counter_ns()
            self._local.committed = []
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            finally:
                committed, self._local.committed = self._local.committed, None
                held_us = (time.perf_counter_ns() - began) // 1000
                if held_us > self.longest_write_us:
                    self.longest_write_us = held_us
        self._wake_checkpointer()
        for callback in committed:
            callback()

    @contextmanager
    def _across_processes(self) -> Iterator[None]:
        """The lock file's lock, held by one writer of all processes at a time.

        Opened once per process (a forked worker must not share its parent's
        open file: locks on one are one lock). Where the file cannot be made
        (a read-only folder), SQLite's own lock is the only one.
        """
        if self._lock_pid != os.getpid():
            self._lock_pid = os.getpid()
            try:
                self._lock_file = os.open(f"{self.path}-writer", os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:
                self._lock_file = None
        descriptor = self._lock_file
        if descriptor is None:
            yield
            return
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)

    def yield_to_writers(self) -> None:
        """Leave the write lock free long enough for writers of other processes to take it.

        For work done in many transactions in a row (a purge, an erasure):
        without a pause between them, a writer of another process, whose
        busy handler sleeps up to 100 ms between tries, finds the lock taken
        each time it looks and gives up at the busy timeout.
        """
        time.sleep(YIELD_SECONDS)

    def in_transaction(self) -> bool:
        """Whether this thread is inside ``transaction`` (holding the write lock)."""
        return getattr(self._local, "committed", None) is not None

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once this thread's transaction commits (now, outside one).

        For what a store may remember only once it is written: a rollback
        drops the callback.
        """
        committed: list[Callable[[], None]] | None = getattr(self._local, "committed", None)
        if committed is None:
            callback()
        else:
            committed.append(callback)

    def _wake_checkpointer(self) -> None:
        # Started here rather than at open: threads do not survive a fork.
        if self._checkpointer_pid != os.getpid():
            with self._lock:
                if self._checkpointer_pid != os.getpid() and not self._closing.is_set():
                    self._checkpointer = threading.Thread(
                        target=self._checkpoints, name=f"checkpoints of {self.path}", daemon=True
                    )
                    self._checkpointer.start()
                    self._checkpointer_pid = os.getpid()
        self._written.set()

    def empty_log(self) -> bool:
        """Write the whole write-ahead log back into the file and empty it; say if it could.

        After an erasure: the log still holds pages as they were before it.
        Waits for writers (``busy_timeout``); a reader still using old pages
        keeps the log from being emptied (``False``), as it should.
        """
        with translate_errors():
            connection = self.connection()
            # PASSIVE rounds first, which never hold writers up, until what is
            # left is small: TRUNCATE blocks writers while it copies, so it
            # should copy little.
            for _ in range(20):
                _, logged, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if logged - copied <= 256:
                    break
                self.yield_to_writers()
            busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return not busy

    def _checkpoints(self) -> None:
        """Checkpoint the write-ahead log while there are writes, until closed."""
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            while True:
                self._written.wait()
                if self._closing.is_set():
                    return
                self._written.clear()
                try:
                    # PASSIVE: copies what no reader still needs, never waits.
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    pass  # the next round, or a commit past CHECKPOINT_PAGES, does it
                if self._closing.wait(CHECKPOINT_INTERVAL):
                    return
        finally:
            connection.close()

    def _upgrade(self, migrations: Sequence[Migration]) -> None:
        connection = self.connection()
        # A file that is not SQLite fails here, on its first read.
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > len(migrations):
            raise DatabaseFileError(
                f"{self.path} has schema version {version}, made by a newer release of "
                f"lrs (this one knows versions up to {len(migrations)}); upgrade lrs to open it"
            )
        if version == len(migrations):
            return
        mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            raise DatabaseFileError(f"{self.path} cannot be put in WAL mode (it is {mode})")
        connection.execute("BEGIN IMMEDIATE")
        try:
            # Read again under the lock: another process may have upgraded it.
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            for step in migrations[version:]:
                step(connection)
            connection.execute(f"PRAGMA user_version = {len(migrations)}")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def backup(self, target: str | os.PathLike[str]) -> None:
        """Write a consistent copy of the whole file to ``target``, while others keep writing.

        SQLite's online backup: the copy is the database as of one moment.

        Raises:
            DatabaseFileError: ``target`` exists already, or cannot be written.
        """
        path = Path(target)
        if path.exists():
            raise DatabaseFileError(f"{path} exists already; give a new file to back up to")
        try:
            copy = sqlite3.connect(path)
        except sqlite3.Error as exc:
            raise DatabaseFileError(f"cannot write a backup to {path}: {exc}") from None
        try:
            with translate_errors():
                self.connection().backup(copy)
        finally:
            copy.close()

    def check(self) -> list[str]:
        """Problems SQLite's integrity check finds in the file (none when it is sound)."""
        with translate_errors():
            rows = self.connection().execute("PRAGMA integrity_check").fetchall()
        found = [row[0] for row in rows]
        return [] if found == ["ok"] else found

    def counts(self) -> dict[str, int]:
        """Rows per table."""
        with translate_errors():
            connection = self.connection()
            tables = [
                row[0]
                for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            ]
            return {
                table: int(connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
                for table in tables
            }

    def schema_version(self) -> int:
        """The file's schema version."""
        return int(self.connection().execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        """Stop the background checkpoints and close every thread's connection."""
        self._closing.set()
        self._written.set()
        checkpointer = self._checkpointer
        if checkpointer is not None and self._checkpointer_pid == os.getpid():
            checkpointer.join()
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._local = threading.local()
        if self._lock_file is not None and self._lock_pid == os.getpid():
            os.close(self._lock_file)
        self._lock_file, self._lock_pid = None, 0
