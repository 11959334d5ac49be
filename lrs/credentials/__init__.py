"""API credentials (key/secret pairs) and their roles."""

import lrs.lazy
from lrs.credentials.base import Credential, CredentialStore, Role
from lrs.credentials.memory import MemoryCredentialStore

__all__ = [
    "Credential",
    "CredentialStore",
    "MemoryCredentialStore",
    "MongoCredentialStore",
    "Role",
]


def __getattr__(name: str) -> object:
    """The MongoDB backend, imported on first use: the interface does not need the driver."""
    return lrs.lazy.lazy_attribute(
        __name__, name, {"MongoCredentialStore": "lrs.credentials.mongo"}
    )
