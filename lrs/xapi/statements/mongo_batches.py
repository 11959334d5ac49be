"""The record of each statement batch being stored in MongoDB (docs/mongodb.md).

A batch's statements are inserted *pending* (invisible to reads), and the
batch's fate is one document in ``statement_batches``: ``pending``, then
``committed`` or ``aborted`` by one conditional single-document update, which
exactly one writer wins. Committing is that update; making the statements
visible afterwards (removing ``pending``, marking voided targets) is a
roll-forward that anyone may finish: the writer, a writer that meets the
batch's statements, or the sweeper. A batch whose writer went silent for
``ABANDONED_AFTER_US`` is aborted by whoever finds it, and its statements
deleted. So a batch is visible whole or not at all, whatever dies when, and
no writer answers for a statement that is then taken back.

Pending documents from before this record (their batch has no document)
are deleted once abandoned, as they always were.
"""

from typing import Any

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.database import Database

from lrs.exceptions import ServiceUnavailable
from lrs.mongo import collection, ensure_index, translate_errors

BATCHES = "statement_batches"
PENDING, COMMITTED, ABORTED = "pending", "committed", "aborted"
#: A pending batch this old was abandoned by a writer that died (or stalled) mid-way.
ABANDONED_AFTER_US = 60_000_000
#: How far the clocks of the app servers may disagree, and how long a batch may
#: take from its stamp to its record: ``Consistent-Through`` stays this far back.
CLOCK_MARGIN_US = 2_000_000


class Batches:
    """The ``statement_batches`` collection, beside the statements it speaks for."""

    def __init__(self, database: Database[Any], statements: Collection[Any]) -> None:
        """Open the record in ``database`` and create its index."""
        self._batches: Collection[Any] = collection(database, BATCHES)
        self._statements = statements
        with translate_errors():
            # The oldest pending batch (the watermark) and the sweeper's finds.
            ensure_index(
                self._batches,
                [("state", ASCENDING), ("since_us", ASCENDING)],
                name="batches_by_state",
            )

    def open(self, token: str, now_us: int, first_stored_us: int, voids: list[str]) -> None:
        """Record a batch as pending before any of its statements is inserted."""
        with translate_errors():
            self._batches.insert_one(
                {
                    "_id": token,
                    "state": PENDING,
                    "since_us": now_us,
                    "first_stored_us": first_stored_us,
                    "voids": voids,
                }
            )

    def commit(self, token: str, session: Any = None) -> bool:
        """Commit a pending batch; ``False`` when another writer aborted it first.

        ``session``: the transaction the batch's statements are written in, if any.
        """
        return self._move(token, COMMITTED, session)

    def _move(self, token: str, state: str, session: Any = None) -> bool:
        with translate_errors():
            done = self._batches.update_one(
                {"_id": token, "state": PENDING}, {"$set": {"state": state}}, session=session
            )
        return bool(done.matched_count)

    def finish(self, token: str, ids: list[str] | None = None) -> None:
        """Roll a committed batch forward: its statements visible, its targets voided.

        Every step may be repeated. ``ids``: the statements the caller
        inserted, checked to be visible once done.
        """
        with translate_errors():
            batch = self._batches.find_one({"_id": token})
            if batch is None:
                return  # finished by someone else already
            self._statements.update_many({"pending.token": token}, {"$unset": {"pending": ""}})
            if batch.get("voids"):
                self._statements.update_many(
                    {"_id": {"$in": batch["voids"]}}, {"$set": {"voided": True}}
                )
            if ids is not None:
                visible = self._statements.count_documents(
                    {"_id": {"$in": ids}, "pending": {"$exists": False}}
                )
                if visible != len(ids):
                    # Never expected: nothing deletes a committed batch's statements.
                    raise ServiceUnavailable(
                        f"a committed batch shows {visible} of its {len(ids)} statements"
                    )
            self._batches.delete_one({"_id": token})

    def discard(self, token: str) -> None:
        """Delete an aborted batch's statements (only those it inserted), then its record."""
        with translate_errors():
            self._statements.delete_many({"pending.token": token})
            self._batches.delete_one({"_id": token, "state": {"$ne": COMMITTED}})

    def abort_and_discard(self, token: str) -> None:
        """Take back a batch of one's own that will not be committed."""
        self._move(token, ABORTED)
        self.discard(token)

    def settle(self, token: str, doc_since_us: int, now_us: int) -> bool:
        """Settle the batch a pending statement belongs to, if its fate allows.

        Returns ``True`` when nothing of it is live any more (committed:
        finished; aborted or abandoned: discarded), ``False`` while its
        writer may still be at work.
        """
        abandoned_before = now_us - ABANDONED_AFTER_US
        with translate_errors():
            batch = self._batches.find_one({"_id": token})
        if batch is None:
            if doc_since_us >= abandoned_before:
                return False  # a statement read just before its batch finished: look again
            # A pending statement from before batches were recorded: abandoned.
            with translate_errors():
                self._statements.delete_many(
                    {"pending.token": token, "pending.since_us": {"$lt": abandoned_before}}
                )
            return True
        state = batch["state"]
        if state == PENDING:
            if batch["since_us"] >= abandoned_before:
                return False
            if not self._move(token, ABORTED):
                return True  # committed (or aborted) meanwhile: the caller looks again
            state = ABORTED
        if state == COMMITTED:
            self.finish(token)
        else:
            self.discard(token)
        return True

    def sweep(self, now_us: int) -> int:
        """Settle every batch that can be: finished, aborted, or abandoned; return how many."""
        abandoned_before = now_us - ABANDONED_AFTER_US
        with translate_errors():
            found = list(
                self._batches.find(
                    {
                        "$or": [
                            {"state": {"$in": [COMMITTED, ABORTED]}},
                            {"state": PENDING, "since_us": {"$lt": abandoned_before}},
                        ]
                    },
                    projection=["since_us"],
                )
            )
            # Pending statements older than any live batch could be: of an
            # abandoned batch, recorded or not.
            tokens = self._statements.distinct(
                "pending.token", {"pending.since_us": {"$lt": abandoned_before}}
            )
        settled = 0
        for batch in found:
            settled += self.settle(batch["_id"], batch["since_us"], now_us)
        for token in set(tokens) - {batch["_id"] for batch in found}:
            settled += self.settle(token, abandoned_before - 1, now_us)
        return settled

    def oldest_pending_us(self) -> int | None:
        """The earliest stamp or start of the batches still pending (few: those in flight)."""
        with translate_errors():
            found = list(
                self._batches.find({"state": PENDING}, projection=["since_us", "first_stored_us"])
            )
        if not found:
            return None
        return int(min(min(item["since_us"], item["first_stored_us"]) for item in found))
