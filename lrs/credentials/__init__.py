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
    "SqliteCredentialStore",
]


_BACKENDS = {
    "MongoCredentialStore": "lrs.credentials.mongo",
    "SqliteCredentialStore": "lrs.credentials.sqlite",
}


def __getattr__(name: str) -> object:
    """The SQLite and MongoDB backends, imported on first use (the interface needs no driver)."""
    return lrs.lazy.lazy_attribute(__name__, name, _BACKENDS)
