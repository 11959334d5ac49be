"""What every MongoDB store shares: opening by URL, error translation, safe keys.

Domains keep their own collections and queries; this module holds only the
driver plumbing, so that a connection failure means the same thing everywhere.
"""

import re
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pymongo import MongoClient, ReadPreference
from pymongo.database import Database
from pymongo.errors import (
    BulkWriteError,
    ConnectionFailure,
    CursorNotFound,
    DocumentTooLarge,
    ExecutionTimeout,
    OperationFailure,
    PyMongoError,
    WriteConcernError,
    WTimeoutError,
)
from pymongo.write_concern import WriteConcern

from lrs.exceptions import InvalidInput, ServiceUnavailable, UserStateError
from lrs.urls import DEFAULT_DATABASE

# mongomock://host/dbname names an in-process database shared by every store
# that opens it; created on first use, never at import time.
_shared_mocks: dict[str, Any] = {}


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn driver errors into the store's own errors, in one place.

    Connection failures and timeouts become ``ServiceUnavailable`` (retrying
    later may work); any other driver error becomes ``UserStateError``, whose
    message names error codes, never documents: a driver's write error can
    carry the whole document it failed to write (a statement, with e-mail
    addresses), and these messages end up in logs. (A connection failure's
    message names only hosts.)
    """
    try:
        yield
    except ConnectionFailure as exc:
        raise ServiceUnavailable(f"MongoDB is unavailable: {exc}") from exc
    except DocumentTooLarge as exc:
        raise InvalidInput(
            "too large for MongoDB: a document holds at most 16 MiB (BSON's limit)"
        ) from exc
    except PyMongoError as exc:
        if is_transient(exc):
            raise ServiceUnavailable(
                f"MongoDB could not do it now: {describe_error(exc)}; retry"
            ) from exc
        raise UserStateError(f"MongoDB refused the operation: {describe_error(exc)}") from exc


# Server error codes that say "not now" rather than "never": a step-down, a
# shutdown, a time limit, a cursor killed, a write concern not met in time.
_TRANSIENT_CODES = frozenset(
    {
        6,  # HostUnreachable
        7,  # HostNotFound
        43,  # CursorNotFound
        50,  # MaxTimeMSExpired
        64,  # WriteConcernFailed (wtimeout)
        89,  # NetworkTimeout
        91,  # ShutdownInProgress
        189,  # PrimarySteppedDown
        262,  # ExceededTimeLimit
        10107,  # NotWritablePrimary
        11600,  # InterruptedAtShutdown
        11602,  # InterruptedDueToReplStateChange
        13435,  # NotPrimaryNoSecondaryOk
        13436,  # NotPrimaryOrSecondary
    }
)


def is_transient(exc: PyMongoError) -> bool:
    """Whether retrying later may work: a timeout, a write concern not met, a failover.

    Such errors are a ``503`` (with ``Retry-After``), never a ``500`` and
    never taken for a refusal of the data (a duplicate key, say).
    """
    if isinstance(exc, (ExecutionTimeout, WTimeoutError, WriteConcernError, CursorNotFound)):
        return True
    if exc.has_error_label("RetryableWriteError") or exc.timeout:
        return True
    if isinstance(exc, BulkWriteError):
        details = exc.details or {}
        errors = details.get("writeErrors") or []
        if details.get("writeConcernErrors") and not errors:
            return True
        return bool(errors) and all(error.get("code") in _TRANSIENT_CODES for error in errors)
    if isinstance(exc, OperationFailure):
        return exc.code in _TRANSIENT_CODES
    return False


def describe_error(exc: PyMongoError) -> str:
    """What went wrong, by error class and code only (no document, no key values)."""
    if isinstance(exc, BulkWriteError):
        codes = sorted({str(error.get("code")) for error in exc.details.get("writeErrors", [])})
        concern = exc.details.get("writeConcernErrors") or []
        return (
            f"BulkWriteError: {len(exc.details.get('writeErrors', []))} write errors "
            f"(codes {', '.join(codes) or '-'}), {len(concern)} write concern errors"
        )
    if isinstance(exc, OperationFailure):
        name = (exc.details or {}).get("codeName", "")
        return f"{type(exc).__name__} code {exc.code}" + (f" ({name})" if name else "")
    return type(exc).__name__


# MongoDB's error code for a write that a unique index refuses.
DUPLICATE_KEY = 11000


def durable_write_concern(configured: WriteConcern) -> WriteConcern:
    """Return the write concern for learner data: majority, unless the URL chose one.

    Learner data must survive the loss of a replica set's primary, so an
    unconfigured (server default) write concern becomes ``w="majority"``.
    """
    return configured if configured.document else WriteConcern(w="majority")


def has_transactions(client: Any) -> bool:
    """Whether the deployment runs multi-document transactions: a replica set or a sharded cluster.

    One ``hello`` to the server; a standalone server (and mongomock, which
    has no sessions) has none.
    """
    if not isinstance(client, MongoClient):
        return False
    with translate_errors():
        hello = client.admin.command("hello")
    return "setName" in hello or hello.get("msg") == "isdbgrid"


def collection(database: Database[Any], name: str) -> Any:
    """Return ``database[name]`` with the durable write concern, read from the primary.

    Every store reads to compare and then writes (learner state, statement
    ids, enrollments): a secondary's read may be behind the write it guards,
    so a URL's other read preference is overridden here (``open_database``
    says so).
    """
    return database.get_collection(
        name,
        write_concern=durable_write_concern(database.write_concern),
        read_preference=ReadPreference.PRIMARY,
    )


def open_database(url: str) -> tuple[Any, Database[Any]]:
    """Open the database a ``mongodb://``, ``mongodb+srv://`` or ``mongomock://`` URL names.

    The database name is the URL's path (default ``lrs``). A bare
    ``mongomock://`` gives a fresh, empty in-process database on every call;
    ``mongomock://host/dbname`` gives the same one to every caller.

    Returns:
        The driver client (which the caller closes) and the database.
    """
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or DEFAULT_DATABASE
    if parts.scheme == "mongomock":
        try:
            import mongomock  # test dependency: imported only when asked for
        except ImportError:
            raise InvalidInput(
                "mongomock:// is an in-process fake MongoDB for tests, and the mongomock "
                "package is not installed (pip install 'lrs[test]')"
            ) from None

        if parts.netloc or parts.path.strip("/"):
            shared = f"{parts.netloc}/{name}"
            if shared not in _shared_mocks:
                _shared_mocks[shared] = mongomock.MongoClient(tz_aware=True)
            client = _shared_mocks[shared]
        else:
            client = mongomock.MongoClient(tz_aware=True)
        return client, client[name]
    options = {key.lower() for key in parse_qs(parts.query)}
    # A time limit on every operation unless the URL sets one: with none, a
    # write waiting for a majority that a lost secondary cannot give waits forever.
    timeout: dict[str, Any] = {} if "timeoutms" in options else {"timeoutMS": DEFAULT_TIMEOUT_MS}
    client = MongoClient(url, tz_aware=True, **timeout)
    try:
        check_client(client)
    except InvalidInput:
        client.close()
        raise
    return client, client[name]


#: The time limit of every MongoDB operation when the URL sets none (``timeoutMS``).
DEFAULT_TIMEOUT_MS = 15_000


def check_client(client: Any) -> None:
    """Refuse a URL whose writes cannot be checked; say what is overridden.

    Raises:
        InvalidInput: ``w=0`` (unacknowledged writes: no count, no duplicate
            key, nothing a compare-and-set can rely on).
    """
    if client.write_concern.document.get("w") == 0:
        raise InvalidInput(
            "the MongoDB URL asks for w=0 (unacknowledged writes); every store checks its "
            "writes: use w=1 or w=majority (the default here)"
        )
    if client.read_preference != ReadPreference.PRIMARY:
        warnings.warn(
            f"the MongoDB URL's read preference ({client.read_preference.name}) is overridden: "
            "the stores read from the primary, since they compare before they write",
            stacklevel=2,
        )


# Field names become document keys. MongoDB reserves "." and a leading "$",
# and BSON cannot hold NUL; the empty name would make a "fields." path. Every
# name gets a "_" prefix and those characters (and "%") are percent-escaped.
_ESCAPES = {"%": "%25", ".": "%2E", "$": "%24", "\x00": "%00"}
_UNESCAPES = {escaped: char for char, escaped in _ESCAPES.items()}
_ESCAPE = re.compile(r"[%.$\x00]")
_UNESCAPE = re.compile(r"%(?:25|2E|24|00)")


def encode_key(name: str) -> str:
    """Return a document key that stands for the arbitrary string ``name``."""
    return "_" + _ESCAPE.sub(lambda match: _ESCAPES[match.group()], name)


def decode_key(key: str) -> str:
    """Return the string that ``encode_key`` turned into ``key``."""
    return _UNESCAPE.sub(lambda match: _UNESCAPES[match.group()], key[1:])


# -- indexes -------------------------------------------------------------------

#: While ``lrs db ensure-indexes`` runs: where it reports each index it builds.
_BUILDING: ContextVar["IndexBuild | None"] = ContextVar("lrs_index_build", default=None)


class IndexesNotReady(InvalidInput):
    """A collection lacks an index this version's queries need, or holds one that differs."""


class IndexBuild:
    """What ``lrs db ensure-indexes`` does: builds what is missing, says each step."""

    def __init__(self, say: Callable[[str], None], *, replace: bool = False) -> None:
        """Report through ``say``; with ``replace``, drop and rebuild indexes that differ."""
        self.say = say
        self.replace = replace
        self.built: list[str] = []

    @contextmanager
    def running(self) -> Iterator["IndexBuild"]:
        """Stores opened inside build their indexes (on any collection, empty or not)."""
        token = _BUILDING.set(self)
        try:
            yield self
        finally:
            _BUILDING.reset(token)


def building_indexes() -> bool:
    """Whether ``lrs db ensure-indexes`` is running (stores then also fill new fields in)."""
    return _BUILDING.get() is not None


def ensure_index(
    collection: Any, keys: list[tuple[str, Any]], *, name: str, **options: Any
) -> None:
    """Make sure ``collection`` holds the index ``name`` as a store's queries need it.

    When a store opens: an index that is there and the same is left alone
    (no round trip beyond one listing); a missing one is built only while
    its collection is empty (a new database: instant). On a collection
    with documents, building is a deployment step, ``lrs db ensure-indexes``
    (``IndexBuild``), never a worker's start-up: a long build would outlast
    the worker's timeout. docs/mongodb.md, "Indexes".

    Raises:
        IndexesNotReady: the index is missing on a collection with documents,
            or differs from this version's (its keys or options); the
            message says what to run.
    """
    build = _BUILDING.get()
    with translate_errors():
        present = collection.index_information().get(name)
        if present is not None:
            difference = _index_difference(present, keys, options)
            if difference is None:
                return
            if build is None or not build.replace:
                raise IndexesNotReady(
                    f"index {name} of the {collection.name} collection differs from what this "
                    f"version needs ({difference}): run `lrs db ensure-indexes --replace` "
                    "(drops and rebuilds it)"
                )
            build.say(f"{collection.name}: dropping {name} ({difference})")
            collection.drop_index(name)
        elif build is None and collection.estimated_document_count() > 0:
            fields = ", ".join(field for field, _ in keys)
            raise IndexesNotReady(
                f"the {collection.name} collection lacks the index {name} ({fields}) that this "
                "version's queries need: run `lrs db ensure-indexes` (it builds it, and says "
                "how long each took) before starting the server"
            )
        started = time.monotonic()
        if build is not None:
            build.say(f"{collection.name}: building {name} ...")
        collection.create_index(keys, name=name, **options)
        if build is not None:
            build.built.append(f"{collection.name}.{name}")
            build.say(f"{collection.name}: {name} built in {time.monotonic() - started:.1f} s")


# Index options whose difference changes what the index does.
_INDEX_OPTIONS = ("unique", "sparse", "expireAfterSeconds", "partialFilterExpression")


def _index_difference(
    present: dict[str, Any], keys: list[tuple[str, Any]], options: dict[str, Any]
) -> str | None:
    """How an index found differs from the one wanted, in words; ``None`` when it does not."""
    found = [(str(field), _direction(direction)) for field, direction in present["key"]]
    wanted = [(field, _direction(direction)) for field, direction in keys]
    if found != wanted:
        return f"keys {found} here, {wanted} wanted"
    for option in _INDEX_OPTIONS:
        have, want = present.get(option), options.get(option)
        if option in ("unique", "sparse"):
            have, want = bool(have), bool(want)
        elif isinstance(have, dict) and isinstance(want, dict):
            have, want = dict(have), dict(want)
        if have != want:
            return f"{option} {have!r} here, {want!r} wanted"
    return None


def _direction(direction: Any) -> Any:
    """1, -1 or a kind ("hashed", "text"), as the server and mongomock both write it."""
    if isinstance(direction, float) and direction.is_integer():
        return int(direction)
    return direction


#: The shard key of each collection that docs/mongodb.md proposes to shard
#: (the others stay unsharded). Every unique index of such a collection
#: starts with its key, as a sharded cluster requires; a test holds the
#: stores to it.
SHARD_KEYS: dict[str, tuple[str, ...]] = {
    "user_state": ("username", "scope", "block"),
    "state_history": ("username", "scope", "block"),
    "statements": ("_id",),
    "attachments": ("_id",),
    "documents": ("agent", "activity_id"),
    "activities": ("_id",),
    "users": ("_id",),
    "enrollments": ("username",),
    "enrollment_changes": ("username",),
    "progress": ("learner",),
}
