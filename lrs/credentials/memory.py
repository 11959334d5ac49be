"""Credentials kept in this process's memory."""

import threading

from lrs.credentials.base import Credential, CredentialStore
from lrs.exceptions import InvalidInput


class MemoryCredentialStore(CredentialStore):
    """A credential store in a dict; thread-safe, lost when the process ends."""

    def __init__(self) -> None:
        """Create an empty store."""
        self._lock = threading.Lock()
        self._credentials: dict[str, tuple[Credential, str]] = {}
        self._sessions: dict[str, tuple[str, int]] = {}

    def list(self, include_revoked: bool = False) -> list[Credential]:
        """Return the credentials, oldest first."""
        with self._lock:
            found = [credential for credential, _ in self._credentials.values()]
        found.sort(key=lambda credential: credential.created)
        return [credential for credential in found if include_revoked or credential.active]

    def count(self) -> int:
        """Return how many credentials exist, revoked ones included."""
        return len(self._credentials)

    def delete(self, key: str) -> None:
        """Remove a credential entirely."""
        with self._lock:
            self._credentials.pop(key, None)

    def _insert(self, credential: Credential, secret_digest: str) -> None:
        with self._lock:
            if credential.key in self._credentials:
                raise InvalidInput(f"a credential with key {credential.key!r} exists already")
            self._credentials[credential.key] = (credential, secret_digest)

    def _find(self, key: str) -> tuple[Credential, str] | None:
        return self._credentials.get(key)

    def _update(self, credential: Credential) -> None:
        with self._lock:
            _, secret_digest = self._credentials[credential.key]
            self._credentials[credential.key] = (credential, secret_digest)

    def _insert_session(self, token_digest: str, key: str, expires_us: int) -> None:
        with self._lock:
            self._sessions[token_digest] = (key, expires_us)

    def _find_session(self, token_digest: str) -> tuple[str, int] | None:
        return self._sessions.get(token_digest)

    def _delete_session(self, token_digest: str) -> None:
        with self._lock:
            self._sessions.pop(token_digest, None)

    def _drop_sessions(self, before_us: int) -> None:
        with self._lock:
            for token_digest, (_, expires_us) in list(self._sessions.items()):
                if expires_us < before_us:
                    del self._sessions[token_digest]
