"""Forwarding targets in MongoDB: ``forward_targets`` and ``forward_dead``."""

from typing import Any

from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from lrs.exceptions import Conflict
from lrs.forwarding.base import DeadLetter, ForwardingStore, Target, target_from
from lrs.mongo import collection, ensure_index, translate_errors


class MongoForwardingStore(ForwardingStore):
    """A document per target (its JSON and revision), a document per dead letter."""

    def __init__(self, database: Database[Any]) -> None:
        """Keep targets in ``database``."""
        self._targets = collection(database, "forward_targets")
        self._dead_letters = collection(database, "forward_dead")
        with translate_errors():
            ensure_index(
                self._dead_letters,
                [("target", ASCENDING), ("time_us", ASCENDING)],
                name="dead_by_target",
            )
            # An erasure empties the answers kept about its learner's statements.
            ensure_index(
                self._dead_letters, [("statement_id", ASCENDING)], name="dead_by_statement"
            )

    def _insert(self, target: Target) -> None:
        with translate_errors():
            try:
                self._targets.insert_one(
                    {"_id": target.id, "revision": target.revision, "target": target.as_json()}
                )
            except DuplicateKeyError:
                raise Conflict(f"forwarding target {target.id!r} exists already") from None

    def _read(self, target_id: str) -> Target | None:
        with translate_errors():
            found = self._targets.find_one({"_id": target_id})
        return None if found is None else target_from(found["target"])

    def _list(self) -> list[Target]:
        with translate_errors():
            return [target_from(document["target"]) for document in self._targets.find()]

    def _write(self, target: Target, revision: int) -> bool:
        with translate_errors():
            done = self._targets.update_one(
                {"_id": target.id, "revision": revision},
                {"$set": {"revision": target.revision, "target": target.as_json()}},
            )
        return bool(done.matched_count)

    def _delete(self, target_id: str) -> None:
        with translate_errors():
            self._targets.delete_one({"_id": target_id})

    def _add_dead(self, letters: list[DeadLetter]) -> None:
        with translate_errors():
            for letter in letters:
                self._dead_letters.replace_one(
                    {"_id": f"{letter.target}|{letter.statement_id}"},
                    {
                        "target": letter.target,
                        "statement_id": letter.statement_id,
                        "time_us": letter.time_us,
                        "status": letter.status,
                        "answer": letter.answer,
                    },
                    upsert=True,
                )

    def _dead(self, target_id: str) -> list[DeadLetter]:
        with translate_errors():
            found = self._dead_letters.find({"target": target_id})
            return [
                DeadLetter(
                    item["target"],
                    item["statement_id"],
                    item["time_us"],
                    item["status"],
                    item["answer"],
                )
                for item in found
            ]

    def _remove_dead(self, target_id: str, statement_ids: list[str] | None) -> int:
        query: dict[str, Any] = {"target": target_id}
        if statement_ids is not None:
            query["statement_id"] = {"$in": statement_ids}
        with translate_errors():
            return int(self._dead_letters.delete_many(query).deleted_count)

    def _clear_answers(self, statement_ids: list[str]) -> int:
        with translate_errors():
            done = self._dead_letters.update_many(
                {"statement_id": {"$in": statement_ids}, "answer": {"$ne": ""}},
                {"$set": {"answer": ""}},
            )
        return int(done.modified_count)
