"""The erasure record store: one audit record per erased learner, and the salt of pseudonyms.

A learner's pseudonym is ``retired-`` and a keyed hash (HMAC-SHA-256) of
their username under this LRS's salt: the same learner always gets the same
pseudonym, so that an erasure cut short is finished by running it again, and
nobody without the salt can tell whose it is. The salt is made once, at the
first erasure, and kept by the store (it is not personal data; it is a
secret: whoever holds it can test usernames against pseudonyms).

An audit record names the learner by pseudonym only: when, which
credential, the reason, and how many records each store changed.
"""

import hashlib
import hmac
import secrets
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from lrs.closeable import Closeable

#: How a pseudonym starts (Open edX's retired usernames read the same way).
PSEUDONYM_PREFIX = "retired-"
#: Where a retired user's e-mail address points: ``.invalid`` is reserved (RFC 2606).
RETIRED_EMAIL_DOMAIN = "retired.invalid"


def pseudonym_of(username: str, salt: bytes) -> str:
    """The pseudonym of ``username`` under ``salt``: ``retired-`` and 24 hex digits."""
    digest = hmac.new(salt, username.encode(), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:24]


@dataclass(frozen=True)
class Erasure:
    """The record of one learner's erasure, or of one purge by age (``kind``).

    A purge's record is keyed ``purge-`` and its start time, where an
    erasure's is keyed by the learner's pseudonym.
    """

    pseudonym: str
    started: datetime
    credential: str  # the key of the credential that asked for it, or "cli"
    reason: str
    statements: str  # "pseudonymized" or "deleted"
    finished: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)  # per store
    kind: str = "erasure"  # or "purge"

    def as_json(self) -> dict[str, Any]:
        """The record as JSON keeps it."""
        return {
            "pseudonym": self.pseudonym,
            "started": self.started.isoformat(),
            "finished": None if self.finished is None else self.finished.isoformat(),
            "credential": self.credential,
            "reason": self.reason,
            "statements": self.statements,
            "counts": dict(self.counts),
            "kind": self.kind,
        }


def removal(kind: str, started: datetime, credential: str, reason: str) -> Erasure:
    """The audit record of a removal by age (a purge, a history prune), not yet finished.

    Keyed by its kind and start, where an erasure's is keyed by pseudonym.
    """
    return Erasure(
        f"{kind}-{started:%Y%m%dT%H%M%S.%fZ}", started, credential, reason, "deleted", kind=kind
    )


def erasure_from(value: dict[str, Any]) -> Erasure:
    """An erasure from ``Erasure.as_json``."""
    finished = value["finished"]
    return Erasure(
        value["pseudonym"],
        datetime.fromisoformat(value["started"]),
        value["credential"],
        value["reason"],
        value["statements"],
        None if finished is None else datetime.fromisoformat(finished),
        dict(value["counts"]),
        value.get("kind", "erasure"),
    )


class ErasureStore(Closeable, ABC):
    """Erasure records, one per pseudonym, the salt of pseudonyms, and the erased identities.

    An erased identity is an agent key of an erased learner (their account,
    their ``mbox``...), kept as its keyed hash under the salt only, with the
    agent that stands in for it: statements that name it are pseudonymized
    as they arrive (``lrs.usecases.ingest``), so that no statement stored during
    or after the erasure keeps who the learner was.
    """

    _salt: bytes | None = None

    def salt(self) -> bytes:
        """This LRS's salt of pseudonyms, made at the first call and the same ever after."""
        if self._salt is None:
            self._salt = self.secret("erasure-salt")  # never changes once made
        return self._salt

    def erase_identities(self, keys: Iterable[str], replacement: dict[str, Any]) -> None:
        """From now on, statements that name one of these agent keys name ``replacement`` instead.

        Kept before any store is rewritten (``lrs.usecases.erasure``); idempotent.
        """
        text = orjson.dumps(replacement).decode()
        self._keep_identities({self._digest(key): text for key in set(keys)})

    def erased_identities(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Which of these agent keys are erased: each with the agent that stands in for it."""
        digests = {self._digest(key): key for key in set(keys)}
        if not digests:
            return {}
        found = self._identities(sorted(digests))
        return {digests[digest]: orjson.loads(text) for digest, text in found.items()}

    def _digest(self, key: str) -> str:
        """The keyed hash an erased identity is kept as.

        Not remembered: a cache would hold the agent keys themselves, which an
        erasure must not leave behind (one-shot HMAC costs about a microsecond).
        """
        return hmac.digest(self.salt(), key.encode(), "sha256").hex()

    def secret(self, name: str) -> bytes:
        """A secret the LRS makes for itself (32 random bytes), made once, whoever races.

        The salt of pseudonyms, the signing key of dashboard sessions: kept
        by the store, so that every process and every restart share it.
        """
        found = self._secret(name)
        if found is None:
            self._keep_secret(name, secrets.token_bytes(32))  # the first writer's wins
            found = self._secret(name)
            assert found is not None
        return found

    @abstractmethod
    def get(self, pseudonym: str) -> Erasure | None:
        """The record of the learner with this pseudonym, or ``None``."""

    @abstractmethod
    def put(self, erasure: Erasure) -> None:
        """Write a record (a new one, or the same pseudonym's again)."""

    @abstractmethod
    def list(self) -> list[Erasure]:
        """Every record, oldest first."""

    @abstractmethod
    def _keep_identities(self, identities: dict[str, str]) -> None:
        """Keep each digest with its replacement agent (JSON text), replacing any kept."""

    @abstractmethod
    def _identities(self, digests: Sequence[str]) -> dict[str, str]:
        """The digests among ``digests`` that are kept, each with its replacement's text."""

    @abstractmethod
    def _secret(self, name: str) -> bytes | None:
        """The secret kept under ``name``, or ``None``."""

    @abstractmethod
    def _keep_secret(self, name: str, value: bytes) -> None:
        """Keep ``value`` under ``name`` unless a secret is kept there already."""
