"""Helpers shared by the API and remote-client tests."""

import base64
import os
import threading
import uuid
from contextlib import contextmanager

from werkzeug.serving import make_server

from lrs.api import create_app
from lrs.clients import MemoryUserStateClient
from lrs.credentials import MemoryCredentialStore
from lrs.usecases.storage import Storage

ADMIN = ("test-admin-key", "test-admin-secret-0123456789abcdefghij")


def basic(key: str, secret: str) -> dict[str, str]:
    """The Authorization header of a credential."""
    token = base64.b64encode(f"{key}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


#: The backends the HTTP tests run on.
BACKENDS = ["memory", "mongomock", "sqlite"]


def storage_for(backend, directory):
    """Fresh server stores on ``backend``; a SQLite file goes in ``directory``."""
    if backend == "memory":
        return None  # make_app's default
    if backend == "sqlite":
        from lrs.usecases.storage import open_storage

        return open_storage(f"sqlite:///{directory}/lrs.db")
    from tests.mongomock_support import mongomock_storage

    return mongomock_storage()


def make_app(storage=None, **config):
    """An app on fresh memory stores (or ``storage``) with the ADMIN credential."""
    storage = storage or Storage(MemoryUserStateClient(), MemoryCredentialStore())
    settings = {"TESTING": True, "ADMIN_KEY": ADMIN[0], "ADMIN_SECRET": ADMIN[1], **config}
    return create_app(settings, storage=storage)


class LiveServer:
    """A server on 127.0.0.1, run by a thread, that serves whichever app it is given.

    One server serves a whole test session; each test sets ``app`` to its own.
    """

    def __init__(self, port=0):
        self.app = None
        self.server = make_server("127.0.0.1", port, self._dispatch, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _dispatch(self, environ, start_response):
        return self.app(environ, start_response)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


#: A real MongoDB server for the suites that can run against one (docs/mongodb.md).
REAL_MONGODB_URI = os.environ.get("LRS_TEST_MONGODB_URI")


@contextmanager
def real_mongo_database():
    """A fresh database on the real server, dropped at the end."""
    import pymongo

    client = pymongo.MongoClient(REAL_MONGODB_URI, tz_aware=True, serverSelectionTimeoutMS=5000)
    name = f"lrs_test_{uuid.uuid4().hex[:12]}"
    try:
        yield client[name]
    finally:
        client.drop_database(name)
        client.close()


@contextmanager
def traced():
    """Trace Python's allocations in the block; yields a function: the bytes they still hold."""
    import tracemalloc

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    held = [0]
    try:
        yield lambda: held[0]
    finally:
        held[0] = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
