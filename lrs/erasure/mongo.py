"""Erasure records in MongoDB: erasures, erased identities and secrets, a collection each."""

from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from lrs.clock import to_us
from lrs.erasure.base import Erasure, ErasureStore, erasure_from
from lrs.mongo import collection, ensure_index, translate_errors


class MongoErasureStore(ErasureStore):
    """Erasure records, one document per pseudonym (``_id``)."""

    def __init__(self, database: Database[Any]) -> None:
        """Keep records in ``database``."""
        self._erasures = collection(database, "erasures")
        self._secrets = collection(database, "secrets")
        # Found by _id (the digest) only.
        self._erased = collection(database, "erased_identities")
        with translate_errors():
            ensure_index(self._erasures, [("started_us", ASCENDING)], name="by_start")

    def get(self, pseudonym: str) -> Erasure | None:
        """The record of the learner with this pseudonym, or ``None``."""
        with translate_errors():
            found = self._erasures.find_one({"_id": pseudonym})
        return None if found is None else erasure_from(found["record"])

    def put(self, erasure: Erasure) -> None:
        """Write a record."""
        with translate_errors():
            self._erasures.replace_one(
                {"_id": erasure.pseudonym},
                {"started_us": to_us(erasure.started), "record": erasure.as_json()},
                upsert=True,
            )

    def list(self) -> list[Erasure]:
        """Every record, oldest first."""
        with translate_errors():
            found = self._erasures.find(sort=[("started_us", ASCENDING), ("_id", ASCENDING)])
            return [erasure_from(document["record"]) for document in found]

    def _keep_identities(self, identities: dict[str, str]) -> None:
        with translate_errors():
            for digest, replacement in sorted(identities.items()):
                # One single-document upsert each: a retryable write.
                self._erased.replace_one({"_id": digest}, {"replacement": replacement}, upsert=True)

    def _identities(self, digests: Sequence[str]) -> dict[str, str]:
        with translate_errors():
            found = self._erased.find({"_id": {"$in": digests}})
            return {document["_id"]: document["replacement"] for document in found}

    def _secret(self, name: str) -> bytes | None:
        with translate_errors():
            found = self._secrets.find_one({"_id": name})
        return None if found is None else bytes(found["value"])

    def _keep_secret(self, name: str, value: bytes) -> None:
        with translate_errors():
            try:
                self._secrets.insert_one({"_id": name, "value": value})
            except DuplicateKeyError:
                pass  # another process kept one first: theirs is the salt
