"""Credentials kept in a MongoDB collection, keyed by the credential key."""

from typing import Any

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from lrs.clock import from_us
from lrs.credentials.base import Credential, CredentialStore, Role
from lrs.exceptions import InvalidInput
from lrs.mongo import collection, ensure_index, translate_errors

COLLECTION = "credentials"


def _credential(document: dict[str, Any]) -> Credential:
    return Credential(
        document["_id"],
        Role(document["role"]),
        document["username"],
        document["name"],
        document["created"],
        document["revoked"],
    )


class MongoCredentialStore(CredentialStore):
    """Credentials in the ``credentials`` collection; ``_id`` is the key."""

    def __init__(self, database: Database[Any], *, client: Any = None) -> None:
        """Open the store in ``database``.

        Args:
            database: a pymongo (or mongomock) database.
            client: the driver client to close with this store, when it owns it.
        """
        self._client = client
        self._collection: Collection[Any] = collection(database, COLLECTION)
        # Found by _id (the token's digest); the TTL index lets the server drop
        # sessions over (the store checks the end itself: the TTL monitor
        # runs once a minute).
        self._sessions: Collection[Any] = collection(database, "sign_in_sessions")
        with translate_errors():
            ensure_index(self._collection, [("created", ASCENDING)], name="credentials_by_age")
            ensure_index(
                self._sessions,
                [("expires", ASCENDING)],
                name="sessions_by_end",
                expireAfterSeconds=0,
            )

    def list(self, include_revoked: bool = False) -> list[Credential]:
        """Return the credentials, oldest first."""
        query = {} if include_revoked else {"revoked": None}
        with translate_errors():
            return [_credential(d) for d in self._collection.find(query, sort=[("created", 1)])]

    def count(self) -> int:
        """Return how many credentials exist, revoked ones included."""
        with translate_errors():
            return self._collection.count_documents({})

    def delete(self, key: str) -> None:
        """Remove a credential entirely."""
        with translate_errors():
            self._collection.delete_one({"_id": key})

    def _insert(self, credential: Credential, secret_digest: str) -> None:
        document = {
            "_id": credential.key,
            "role": credential.role.value,
            "username": credential.username,
            "name": credential.name,
            "created": credential.created,
            "revoked": credential.revoked,
            "digest": secret_digest,
        }
        with translate_errors():
            try:
                self._collection.insert_one(document)
            except DuplicateKeyError:
                raise InvalidInput(
                    f"a credential with key {credential.key!r} exists already"
                ) from None

    def _find(self, key: str) -> tuple[Credential, str] | None:
        with translate_errors():
            document = self._collection.find_one({"_id": key})
        return None if document is None else (_credential(document), document["digest"])

    def _update(self, credential: Credential) -> None:
        with translate_errors():
            self._collection.update_one(
                {"_id": credential.key},
                {
                    "$set": {
                        "revoked": credential.revoked,
                        "name": credential.name,
                        "username": credential.username,
                    }
                },
            )

    def _insert_session(self, token_digest: str, key: str, expires_us: int) -> None:
        with translate_errors():
            self._sessions.insert_one(
                {
                    "_id": token_digest,
                    "key": key,
                    "expires_us": expires_us,
                    "expires": from_us(expires_us),
                }
            )

    def _find_session(self, token_digest: str) -> tuple[str, int] | None:
        with translate_errors():
            found = self._sessions.find_one({"_id": token_digest})
        return None if found is None else (str(found["key"]), int(found["expires_us"]))

    def _delete_session(self, token_digest: str) -> None:
        with translate_errors():
            self._sessions.delete_one({"_id": token_digest})

    def _drop_sessions(self, before_us: int) -> None:
        with translate_errors():
            self._sessions.delete_many({"expires": {"$lt": from_us(before_us)}})

    def close(self) -> None:
        """Close the driver client if this store owns it."""
        if self._client is not None:
            self._client.close()
