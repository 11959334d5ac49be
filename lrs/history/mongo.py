"""History kept in a MongoDB collection, one document per entry.

Each entry is its own small document (appending never rewrites anything), in a
collection indexed by block identity and time. Shard it by ``username``, like
the learner state it records.
"""

from collections.abc import Iterator, Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.collection import Collection
from pymongo.database import Database

from lrs.clock import from_us
from lrs.history.base import HistoryEntry, HistoryLog, Retention
from lrs.mongo import collection, ensure_index, translate_errors

COLLECTION = "state_history"


#: History entries deleted per step of a prune by age.
PRUNED_AT_ONCE = 5000


class MongoHistoryLog(HistoryLog):
    """A history log in the ``state_history`` collection of a MongoDB database."""

    def __init__(
        self,
        database: Database[Any],
        retention: Retention | None = None,
        *,
        client: Any = None,
    ) -> None:
        """Open the log in ``database`` and create its indexes.

        Args:
            database: a pymongo (or mongomock) database.
            retention: what ``prune()`` keeps.
            client: the driver client to close with this log, when the log owns it.
        """
        super().__init__(retention)
        self._client = client
        self._collection: Collection[Any] = collection(database, COLLECTION)
        with translate_errors():
            # Reading a block's history newest first is an index walk.
            ensure_index(
                self._collection,
                [
                    ("username", ASCENDING),
                    ("scope", ASCENDING),
                    ("block", ASCENDING),
                    ("time_us", DESCENDING),
                ],
                name="history_by_block",
            )
            # max_age pruning deletes by time alone.
            ensure_index(self._collection, [("time_us", ASCENDING)], name="history_by_time")

    def append(self, entries: Sequence[HistoryEntry]) -> None:
        """Store ``entries`` in one insert."""
        if not entries:
            return
        documents = [
            {
                "username": entry.username,
                "scope": entry.scope,
                "block": entry.block,
                "state": entry.state,
                "time_us": entry.time_us,
                # Milliseconds only, for people reading the collection.
                "updated": from_us(entry.time_us),
            }
            for entry in entries
        ]
        with translate_errors():
            self._collection.insert_many(documents, ordered=False)

    def entries(self, username: str, scope: str, block: str) -> Iterator[HistoryEntry]:
        """Yield the entries of one block, newest first."""
        with translate_errors():
            cursor = self._collection.find(
                {"username": username, "scope": scope, "block": block},
                {"_id": 0, "state": 1, "time_us": 1},
                sort=[("time_us", DESCENDING)],
            )
            for document in cursor:
                yield HistoryEntry(username, scope, block, document["state"], document["time_us"])

    def forget(self, username: str) -> int:
        """Remove every entry of ``username``; return how many went."""
        with translate_errors():
            return int(self._collection.delete_many({"username": username}).deleted_count)

    def _prune(self, keep_last: int | None, cutoff_us: int | None) -> int:
        removed = 0
        with translate_errors():
            if cutoff_us is not None:
                removed += self._prune_before(cutoff_us)
            if keep_last is not None:
                removed += self._prune_beyond(keep_last)
        return removed

    def _prune_before(self, cutoff_us: int) -> int:
        # A batch at a time, oldest first along history_by_time: never one
        # delete of millions that holds the primary and floods the oplog
        # (each batch is one retryable-sized step; a stop loses nothing).
        removed = 0
        while True:
            found = self._collection.find(
                {"time_us": {"$lt": cutoff_us}},
                {"_id": 1},
                sort=[("time_us", ASCENDING)],
                limit=PRUNED_AT_ONCE,
            )
            ids = [document["_id"] for document in found]
            if not ids:
                return removed
            removed += self._collection.delete_many({"_id": {"$in": ids}}).deleted_count

    def _prune_beyond(self, keep_last: int) -> int:
        # Find only the blocks with too many entries, then for each delete what
        # is older than its keep_last-th newest entry: an index range per block.
        # Sorted by the block's fields first, so that the server walks
        # history_by_block alone (a covered scan, no document read).
        crowded = self._collection.aggregate(
            [
                {"$sort": {"username": 1, "scope": 1, "block": 1}},
                {"$project": {"_id": 0, "username": 1, "scope": 1, "block": 1}},
                {
                    "$group": {
                        "_id": {"username": "$username", "scope": "$scope", "block": "$block"},
                        "count": {"$sum": 1},
                    }
                },
                {"$match": {"count": {"$gt": keep_last}}},
            ],
            allowDiskUse=True,
        )
        removed = 0
        for group in crowded:
            identity = group["_id"]
            boundary = self._collection.find_one(
                identity,
                {"time_us": 1},
                sort=[("time_us", DESCENDING)],
                skip=keep_last - 1,
            )
            if boundary is not None:
                removed += self._collection.delete_many(
                    {**identity, "time_us": {"$lt": boundary["time_us"]}}
                ).deleted_count
        return removed

    def close(self) -> None:
        """Close the driver client if this log owns it."""
        if self._client is not None:
            self._client.close()
