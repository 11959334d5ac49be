"""The learner-state client library: edX's user-state client interface on pluggable stores.

Open a client with ``connect(url)``::

    from lrs.clients import connect

    client = connect("memory://")                    # or "mongodb://host:27017/lrs"
    client.set("ada", "block-v1:Org+CS101+2026+type@problem+block@p1", {"answer": 42})
    client.get("ada", "block-v1:Org+CS101+2026+type@problem+block@p1").state  # {'answer': 42}
"""

import lrs.lazy
from lrs.clients.base import Scope, UserState, UserStateClient
from lrs.clients.factory import connect
from lrs.clients.http import HttpUserStateClient
from lrs.clients.memory import MemoryUserStateClient
from lrs.exceptions import DoesNotExist, PermissionDenied, ServiceUnavailable, UserStateError

__all__ = [
    "DoesNotExist",
    "HttpUserStateClient",
    "MemoryUserStateClient",
    "MongoUserStateClient",
    "PermissionDenied",
    "Scope",
    "ServiceUnavailable",
    "SqliteUserStateClient",
    "UserState",
    "UserStateClient",
    "UserStateError",
    "connect",
]


_BACKENDS = {
    "MongoUserStateClient": "lrs.clients.mongo",
    "SqliteUserStateClient": "lrs.clients.sqlite",
}


def __getattr__(name: str) -> object:
    """The SQLite and MongoDB backends, imported on first use (the interface needs no driver)."""
    return lrs.lazy.lazy_attribute(__name__, name, _BACKENDS)
