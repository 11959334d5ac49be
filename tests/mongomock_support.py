"""mongomock made safe for threads, as a real server is.

mongomock copies a document lazily while a cursor is read, so a concurrent
update can break the copy ("dictionary changed size during iteration"). A
MongoDB server applies each operation atomically to each document; this proxy
gives mongomock the same guarantee by running each collection call (and
reading its cursor) under one lock. It serialises single operations, never a
client's sequence of them, so lost updates from read-modify-write would still
show.
"""

import threading
import time

import mongomock


class _Collection:
    def __init__(self, collection, lock):
        self._collection = collection
        self._lock = lock

    def __getattr__(self, name):
        attribute = getattr(self._collection, name)
        if not callable(attribute):
            return attribute

        def locked(*args, **kwargs):
            with self._lock:
                result = attribute(*args, **kwargs)
                if isinstance(
                    result, mongomock.collection.Cursor | mongomock.command_cursor.CommandCursor
                ):
                    return iter(list(result))
                return result

        return locked


class _Database:
    def __init__(self, database, lock):
        self._database = database
        self._lock = lock

    def __getattr__(self, name):
        return getattr(self._database, name)

    def __getitem__(self, name):
        return _Collection(self._database[name], self._lock)

    def get_collection(self, name, **kwargs):
        return _Collection(self._database.get_collection(name, **kwargs), self._lock)


class Pausing:
    """A collection that pauses after some of its calls, so that concurrent
    writers interleave between one call and the next (as on a busy server)."""

    def __init__(self, collection, methods=("find_one",), delay=0.002):
        self._collection = collection
        self._methods = frozenset(methods)
        self._delay = delay

    def __getattr__(self, name):
        attribute = getattr(self._collection, name)
        if name not in self._methods:
            return attribute

        def paused(*args, **kwargs):
            result = attribute(*args, **kwargs)
            if isinstance(result, mongomock.collection.Cursor):
                result = iter(list(result))
            time.sleep(self._delay)
            return result

        return paused


def SlowReads(collection, delay=0.002):  # noqa: N802 - reads as the wrapper it makes
    """A collection whose ``find_one`` returns late."""
    return Pausing(collection, ("find_one",), delay)


class ThreadSafeMongoClient:
    """A mongomock client whose every collection call is atomic."""

    def __init__(self):
        self._client = mongomock.MongoClient(tz_aware=True)
        self._lock = threading.RLock()

    def __getattr__(self, name):
        return getattr(self._client, name)

    def __getitem__(self, name):
        return _Database(self._client[name], self._lock)


def mongomock_storage(name="lrs_test"):
    """Every server store on one thread-safe mongomock database, as on a server."""
    from lrs.usecases.storage import mongo_storage

    return mongo_storage(ThreadSafeMongoClient(), name)
