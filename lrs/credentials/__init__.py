"""API credentials (key/secret pairs) and their roles."""

from lrs.credentials.base import Credential, CredentialStore, Role
from lrs.credentials.memory import MemoryCredentialStore
from lrs.credentials.mongo import MongoCredentialStore

__all__ = [
    "Credential",
    "CredentialStore",
    "MemoryCredentialStore",
    "MongoCredentialStore",
    "Role",
]
