"""API credentials: key/secret pairs for HTTP Basic auth, each with a role.

Secrets are random tokens with 256 bits of entropy, so a fast SHA-256 digest
is as safe to store as a slow password hash would be (there is nothing to
guess), and it keeps authentication cheap on every request. Digests are
compared in constant time.
"""

import hashlib
import hmac
import secrets
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from lrs.clock import default_clock, from_us
from lrs.closeable import Closeable
from lrs.exceptions import DoesNotExist, InvalidInput
from lrs.patterns import Whole
from lrs.usernames import check_username


class Role(StrEnum):
    """What a credential may do.

    - ``admin``: everything, including managing credentials.
    - ``service``: an application (an LMS, a courseware plugin): any learner's data.
    - ``coach``: reads the data of learners in courses where its user is coach or staff.
    - ``learner``: its own data only.
    """

    admin = "admin"
    service = "service"
    coach = "coach"
    learner = "learner"


# Roles that act for one user, and so must name it.
USER_ROLES = (Role.coach, Role.learner)

_KEY = Whole(r"[A-Za-z0-9_\-]{8,128}")

#: How long a dashboard sign-in lasts at most (a working day and a half).
SESSION_SECONDS = 12 * 3600

#: A secret someone chose (``LRS_ADMIN_SECRET``) has at least this many
#: characters; generated secrets have 43 (256 random bits).
MIN_CHOSEN_SECRET_LENGTH = 32


@dataclass(frozen=True)
class Credential:
    """A credential as stored, without its secret."""

    key: str
    role: Role
    username: str | None
    name: str
    created: datetime
    revoked: datetime | None = None

    @property
    def active(self) -> bool:
        """Whether the credential still authenticates."""
        return self.revoked is None


def digest(secret: str) -> str:
    """Return the hex SHA-256 digest under which a secret is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


# Compared against when a key is unknown, so that an unknown key and a wrong
# secret take the same time.
_DUMMY_DIGEST = digest(secrets.token_urlsafe(32))


class CredentialStore(Closeable, ABC):
    """Stores credentials; the secret itself is never stored, only its digest."""

    def create(
        self,
        role: Role | str,
        *,
        username: str | None = None,
        name: str = "",
        key: str | None = None,
        secret: str | None = None,
    ) -> tuple[Credential, str]:
        """Create a credential and return it with its secret (shown only now).

        Args:
            role: what it may do.
            username: the user it acts for; required for ``coach`` and ``learner``.
            name: a label for people ("moodle production").
            key: the key to use (default: a new random one).
            secret: the secret to use (default: a new random one, 256 bits).

        Raises:
            InvalidInput: the role is unknown, a user role lacks a username, the
                key or secret is malformed, or the key exists already.
        """
        role = _check_role(role)
        if role in USER_ROLES and not username:
            raise InvalidInput(f"a {role} credential needs the username it acts for")
        if username is not None:
            check_username(username)
        if not isinstance(name, str) or len(name) > 200:
            raise InvalidInput("name must be a string of at most 200 characters")
        key = secrets.token_urlsafe(12) if key is None else key
        if not _KEY(key):
            raise InvalidInput("key must be 8 to 128 letters, digits, '-' or '_'")
        secret = secrets.token_urlsafe(32) if secret is None else secret
        if not isinstance(secret, str) or len(secret) < 16:
            raise InvalidInput("secret must be a string of at least 16 characters")
        credential = Credential(key, role, username, name, _now())
        self._insert(credential, digest(secret))
        return credential, secret

    def ensure(
        self, key: str, secret: str, role: Role | str = Role.admin, name: str = ""
    ) -> Credential:
        """Make sure a credential with exactly this key and secret exists and is active.

        For automation: ``LRS_ADMIN_KEY``/``LRS_ADMIN_SECRET`` become an admin
        credential this way at every start-up. An existing credential with
        that key gets this secret and role.

        Raises:
            InvalidInput: the secret is shorter than ``MIN_CHOSEN_SECRET_LENGTH``:
                a secret chosen by a person must still be hard to guess.
        """
        if not isinstance(secret, str) or len(secret) < MIN_CHOSEN_SECRET_LENGTH:
            raise InvalidInput(
                f"a chosen secret (LRS_ADMIN_SECRET) must have at least "
                f"{MIN_CHOSEN_SECRET_LENGTH} characters; make one with: "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        existing = self._find(key)
        if existing is not None:
            credential, stored_digest = existing
            role = _check_role(role)
            if (
                credential.active
                and credential.role == role
                and hmac.compare_digest(stored_digest, digest(secret))
            ):
                return credential
            self.delete(key)
        return self.create(role, name=name, key=key, secret=secret)[0]

    def authenticate(self, key: str, secret: str) -> Credential | None:
        """Return the active credential that ``key`` and ``secret`` prove, or ``None``."""
        found = self._find(key) if _KEY(key) else None
        stored = _DUMMY_DIGEST if found is None else found[1]
        matches = hmac.compare_digest(stored, digest(secret))
        if found is None or not matches or not found[0].active:
            return None
        return found[0]

    def get(self, key: str) -> Credential:
        """Return the credential with this key.

        Raises:
            DoesNotExist: there is none.
        """
        found = self._find(key)
        if found is None:
            raise DoesNotExist(f"no credential with key {key!r}")
        return found[0]

    def revoke(self, key: str) -> Credential:
        """Revoke a credential: it stays listed, and no longer authenticates.

        Raises:
            DoesNotExist: there is no credential with this key.
        """
        credential = self.get(key)
        if not credential.active:
            return credential
        revoked = replace(credential, revoked=_now())
        self._update(revoked)
        return revoked

    def of_user(self, username: str) -> list[Credential]:
        """The credentials bound to ``username``, revoked ones too, oldest first."""
        return [item for item in self.list(include_revoked=True) if item.username == username]

    def retire_user(self, username: str, pseudonym: str) -> int:
        """Revoke every credential of ``username`` and keep it under ``pseudonym`` (an erasure).

        Their names, which people choose and may name the learner, are
        emptied. Returns how many credentials were bound to ``username``.
        """
        mine = self.of_user(username)
        for credential in mine:
            self._update(
                replace(
                    credential, username=pseudonym, name="", revoked=credential.revoked or _now()
                )
            )
        return len(mine)

    # -- sign-in sessions (the dashboard's) ---------------------------------------

    def open_session(self, key: str, lifetime_s: int = SESSION_SECONDS) -> str:
        """Start a sign-in session of credential ``key``; return its token (kept as a digest).

        The token goes into the signed session cookie; a page finds the
        credential by it (``session_key``) until ``close_session`` or the
        end of ``lifetime_s``. Sessions over already are removed on the way.
        """
        token = secrets.token_urlsafe(32)
        now_us = default_clock.now_us()
        self._drop_sessions(now_us)
        self._insert_session(digest(token), key, now_us + lifetime_s * 1_000_000)
        return token

    def session_key(self, token: object) -> str | None:
        """The key of the credential whose session ``token`` is, while it lasts; else ``None``."""
        if not isinstance(token, str) or not token:
            return None
        found = self._find_session(digest(token))
        if found is None:
            return None
        key, expires_us = found
        return key if expires_us > default_clock.now_us() else None

    def close_session(self, token: object) -> None:
        """End a sign-in session: its token finds nothing any more, wherever it was copied."""
        if isinstance(token, str) and token:
            self._delete_session(digest(token))

    @abstractmethod
    def _insert_session(self, token_digest: str, key: str, expires_us: int) -> None:
        """Keep a session (a new, random digest)."""

    @abstractmethod
    def _find_session(self, token_digest: str) -> tuple[str, int] | None:
        """The credential key and end (microseconds) of a session, or ``None``."""

    @abstractmethod
    def _delete_session(self, token_digest: str) -> None:
        """Remove a session, if kept."""

    @abstractmethod
    def _drop_sessions(self, before_us: int) -> None:
        """Remove the sessions that ended before ``before_us``."""

    @abstractmethod
    def list(self, include_revoked: bool = False) -> list[Credential]:
        """Return the credentials, oldest first."""

    @abstractmethod
    def count(self) -> int:
        """Return how many credentials exist, revoked ones included."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove a credential entirely (``revoke`` keeps it on record)."""

    @abstractmethod
    def _insert(self, credential: Credential, secret_digest: str) -> None:
        """Store a new credential; ``ValueError`` if the key exists."""

    @abstractmethod
    def _find(self, key: str) -> tuple[Credential, str] | None:
        """Return a credential and its secret's digest, or ``None``."""

    @abstractmethod
    def _update(self, credential: Credential) -> None:
        """Store changed fields of an existing credential (its digest and key stay)."""


def _now() -> datetime:
    # Milliseconds, which every store (BSON dates) keeps exactly.
    return from_us(default_clock.now_us() // 1000 * 1000)


def _check_role(role: object) -> Role:
    for member in Role:
        if member.value == role:
            return member
    known = ", ".join(Role)
    raise InvalidInput(f"unknown role {role!r}; known roles: {known}")
