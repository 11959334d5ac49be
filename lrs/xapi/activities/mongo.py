"""Canonical activity definitions in MongoDB: the ``activities`` collection."""

from typing import Any

import orjson
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from lrs.mongo import collection, translate_errors
from lrs.retries import attempts
from lrs.xapi.activities.base import ActivityStore, merged_text


class MongoActivityStore(ActivityStore):
    """Definitions in the ``activities`` collection, ``_id`` the activity id.

    The definition is kept as JSON text (extension keys are IRIs, full of
    dots) with a version counter; a merge is a compare-and-set on that
    counter, retried when another writer changed the definition first.
    """

    def __init__(self, database: Database[Any]) -> None:
        """Open the store in ``database``."""
        self._collection = collection(database, "activities")

    def get(self, activity_id: str) -> dict[str, Any] | None:
        """Return the activity's canonical definition, or ``None``."""
        with translate_errors():
            stored = self._collection.find_one({"_id": activity_id})
        return None if stored is None else orjson.loads(stored["definition"])

    def _get_many(self, activity_ids: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        # By _id (its own index), a thousand ids a query.
        for start in range(0, len(activity_ids), 1000):
            with translate_errors():
                documents = list(
                    self._collection.find(
                        {"_id": {"$in": activity_ids[start : start + 1000]}},
                        {"definition": True},
                    )
                )
            found.update(
                (document["_id"], orjson.loads(document["definition"])) for document in documents
            )
        return found

    def _merge(self, definitions: list[tuple[str, dict[str, Any]]]) -> None:
        # One read for the batch: most definitions a statement carries are
        # stored already and change nothing. Then a compare-and-set for each
        # that changes, read again alone when another writer came first.
        with translate_errors():
            stored = {
                document["_id"]: document
                for document in self._collection.find(
                    {"_id": {"$in": [activity_id for activity_id, _ in definitions]}}
                )
            }
        for activity_id, definition in definitions:
            self._merge_one(activity_id, definition, stored.get(activity_id))

    def _merge_one(
        self, activity_id: str, definition: dict[str, Any], read: dict[str, Any] | None
    ) -> None:
        for attempt in attempts(f"activity {activity_id}"):
            with translate_errors():
                stored = read if attempt == 0 else self._collection.find_one({"_id": activity_id})
                new = merged_text(None if stored is None else stored["definition"], definition)
                if new is None:
                    return
                text = new.decode()
                if stored is None:
                    try:
                        self._collection.insert_one(
                            {"_id": activity_id, "definition": text, "version": 1}
                        )
                        return
                    except DuplicateKeyError:
                        continue
                change = {"$set": {"definition": text}, "$inc": {"version": 1}}
                unchanged = {"_id": activity_id, "version": stored["version"]}
                if self._collection.update_one(unchanged, change).matched_count:
                    return
