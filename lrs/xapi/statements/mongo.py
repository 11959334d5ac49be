"""Statements kept in MongoDB: one document per statement, its query terms indexed.

The statement itself is JSON text (``text``): extension keys are IRIs full of
dots, and values may hold keys that MongoDB refuses. Beside it, ``termsets``
holds its query terms and those it inherits from the statements it targets;
each term is indexed together with the stored time, so a filter is answered
by an index walk in stored order that stops at the limit.

Shard key: ``{_id: "hashed"}`` spreads writes; queries fan out to all shards.

Without multi-document transactions, a batch is all or nothing by a protocol
of its own (see ``MongoStatementStore.save``, ``lrs.xapi.statements.mongo_batches``
and docs/mongodb.md): it is inserted as pending, invisible to reads, its
fate decided by one conditional update of its batch record, then made visible.
"""

import uuid
from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError
from pymongo.read_concern import ReadConcern

from lrs.clock import default_clock
from lrs.mongo import (
    DUPLICATE_KEY,
    building_indexes,
    collection,
    ensure_index,
    has_transactions,
    translate_errors,
)
from lrs.retries import attempts
from lrs.xapi.statements.base import (
    Record,
    StatementQuery,
    StatementStore,
    Terms,
    attachment_hashes,
    check_batch,
    wanted_ids,
)
from lrs.xapi.statements.mongo_batches import CLOCK_MARGIN_US, Batches

COLLECTION = "statements"
# Statements of a batch still being stored carry ``pending``; reads skip them.
_VISIBLE: dict[str, Any] = {"pending": {"$exists": False}}
# Statements rewritten per bulk write (an erasure's).
_REPLACED_AT_ONCE = 1000
# Statements read per query by id (an erasure's, a purge's).
_READ_AT_ONCE = 1000
# Each filter's field inside ``termsets``, indexed with the stored time so
# that a filtered query walks the index in stored order.
_TERM_FIELDS = (
    "verb",
    "agents",
    "related_agents",
    "activity",
    "related_activities",
    "registration",
)


class _Aborted(Exception):
    """Another writer aborted this batch as abandoned before its transaction committed it."""


def _term_set(terms: Terms) -> dict[str, Any]:
    return {
        "verb": terms.verb,
        "agents": sorted(terms.agents),
        "related_agents": sorted(terms.related_agents),
        "activity": terms.activity,
        "related_activities": sorted(terms.related_activities),
        "registration": terms.registration,
        "target": terms.target,
    }


def _terms(document: dict[str, Any]) -> Terms:
    return Terms(
        verb=document["verb"],
        agents=tuple(document["agents"]),
        related_agents=tuple(document["related_agents"]),
        activity=document["activity"],
        related_activities=tuple(document["related_activities"]),
        registration=document["registration"],
        target=document["target"],
    )


def _document(record: Record) -> dict[str, Any]:
    return {
        "_id": record.id,
        "text": record.text,
        "stored_us": record.stored_us,
        "digest": record.digest,
        "voided": record.voided,
        # Its own terms first, then those inherited from its targets.
        "termsets": [_term_set(terms) for terms in record.term_sets],
        "course": record.course,
        "time_us": record.time_us,
        # The attachments it names, for the check before their data is removed.
        "attachments": attachment_hashes(record.text),
    }


def _record(document: dict[str, Any]) -> Record:
    own, *inherited = (_terms(terms) for terms in document["termsets"])
    return Record(
        document["_id"],
        document["text"],
        document["stored_us"],
        document["digest"],
        own,
        document["voided"],
        tuple(inherited),
        document.get("course", ""),
        document.get("time_us", document["stored_us"]),
    )


class MongoStatementStore(StatementStore):
    """Statements in the ``statements`` collection of a MongoDB database."""

    def __init__(self, database: Database[Any]) -> None:
        """Open the store in ``database`` and create its indexes."""
        self._collection: Collection[Any] = collection(database, COLLECTION)
        order = [("stored_us", DESCENDING), ("_id", DESCENDING)]
        with translate_errors():
            ensure_index(self._collection, order, name="statements_by_time")
            for field in _TERM_FIELDS:
                ensure_index(
                    self._collection,
                    [(f"termsets.{field}", ASCENDING), *order],
                    name=f"statements_by_{field}",
                )
            # The sweeper's find of pending statements left by dead writers.
            ensure_index(
                self._collection,
                [("pending.since_us", ASCENDING)],
                name="statements_pending",
                partialFilterExpression={"pending": {"$exists": True}},
            )
            # Whether an attachment's data is still named by a statement.
            ensure_index(
                self._collection, [("attachments", ASCENDING)], name="statements_by_attachment"
            )
            if building_indexes():
                self._backfill_attachments()
            # A course's activity by day; statements in no course stay out of it.
            ensure_index(
                self._collection,
                [("course", ASCENDING), ("time_us", ASCENDING)],
                name="statements_by_course",
                partialFilterExpression={"course": {"$gt": ""}},
            )
        self._batches = Batches(database, self._collection)
        self._durable = self._collection.with_options(read_concern=ReadConcern("majority"))
        self._client = database.client
        #: Whether a batch is one transaction (a replica set or a sharded
        #: cluster); otherwise the pending protocol alone makes it all or nothing.
        self.transactions = has_transactions(self._client)

    def save(self, records: Sequence[Record]) -> list[str]:
        """Store a batch of new statements, all or nothing (see ``StatementStore``).

        The batch is recorded as pending, its statements inserted pending
        (invisible to every read), and it is committed by one conditional
        update of its record, then made visible. A racing writer of one of
        its ids meets a pending statement and waits until its batch is
        settled (visible, or taken back); a batch that meets an id inserted
        meanwhile takes its own statements back and starts again; a batch
        aborted as abandoned by another writer (its writer stalled past
        ``ABANDONED_AFTER_US``) is taken back and tried again. So a batch is
        never seen in part, and no writer answers on the strength of a
        statement that is then taken back.
        """
        wanted = sorted(wanted_ids(records))
        for _ in attempts("the statements with these ids"):
            with translate_errors():
                # Majority-committed only: "same id, same content" must never be
                # answered for a statement that a failover then rolls back.
                found = list(self._durable.find({"_id": {"$in": wanted}}))
            if self._unsettled(found):
                continue  # another batch holds one of these ids: look again after its outcome
            new = check_batch(records, {document["_id"]: _record(document) for document in found})
            if not new:
                return []
            ids = [record.id for record in new]
            token = uuid.uuid4().hex
            now_us = default_clock.now_us()
            voids = [record.voids for record in new if record.voids is not None]
            self._batches.open(token, now_us, min(record.stored_us for record in new), voids)
            if self.transactions:
                if not self._insert_in_transaction(new, token, voids):
                    continue  # an id was inserted meanwhile, or the batch was aborted
            else:
                if not self._insert_pending(new, token, now_us):
                    continue  # an id was inserted meanwhile: look again
                if not self._batches.commit(token):
                    # Aborted by a writer that took this batch for abandoned.
                    self._batches.discard(token)
                    continue
            self._batches.finish(token, ids)
            return ids
        raise AssertionError("attempts() raises when it gives up")  # pragma: no cover

    def _insert_in_transaction(self, new: list[Record], token: str, voids: list[str]) -> bool:
        """Insert a batch visible at once, mark its targets and commit its record: one transaction.

        On a replica set or a sharded cluster: nothing of the batch is ever
        seen before all of it is. ``False`` (nothing written) when an id was
        inserted meanwhile or another writer aborted the batch as abandoned.
        The record stays around it for ``Consistent-Through``; a writer that
        dies after the transaction leaves a committed record, which the
        sweeper deletes.
        """
        documents = [_document(record) for record in new]

        def steps(session: Any) -> None:
            self._collection.insert_many(documents, ordered=False, session=session)
            if voids:
                self._collection.update_many(
                    {"_id": {"$in": voids}}, {"$set": {"voided": True}}, session=session
                )
            if not self._batches.commit(token, session=session):
                raise _Aborted

        try:
            with translate_errors(), self._client.start_session() as session:
                try:
                    session.with_transaction(steps)
                except BulkWriteError as exc:
                    errors = exc.details.get("writeErrors") or []
                    if not errors or any(error.get("code") != DUPLICATE_KEY for error in errors):
                        raise
                    self._batches.abort_and_discard(token)
                    return False
                except DuplicateKeyError:
                    self._batches.abort_and_discard(token)
                    return False
        except _Aborted:
            self._batches.discard(token)
            return False
        return True

    def _insert_pending(self, new: list[Record], token: str, now_us: int) -> bool:
        """Insert a batch's statements pending; ``False`` (all taken back) on a duplicate id."""
        pending = {"token": token, "since_us": now_us}
        try:
            with translate_errors():
                try:
                    self._collection.insert_many(
                        [{**_document(record), "pending": pending} for record in new],
                        ordered=False,
                    )
                except BulkWriteError as exc:
                    errors = exc.details.get("writeErrors") or []
                    only_duplicates = bool(errors) and all(
                        error.get("code") == DUPLICATE_KEY for error in errors
                    )
                    if only_duplicates and not exc.details.get("writeConcernErrors"):
                        self._batches.abort_and_discard(token)
                        return False
                    raise
        except Exception:
            # Whatever went wrong (a timeout, a write concern error), nothing
            # of the batch may stay: take it back, as best one can now; the
            # sweeper takes back what this cannot.
            try:
                self._batches.abort_and_discard(token)
            except Exception:  # noqa: BLE001 - the first error is the one to report
                pass
            raise
        return True

    def _unsettled(self, found: list[dict[str, Any]]) -> bool:
        """Whether one of these is pending; settles the batches that can be."""
        now_us = default_clock.now_us()
        batches = {
            document["pending"]["token"]: document["pending"]["since_us"]
            for document in found
            if document.get("pending") is not None
        }
        for token, since_us in batches.items():
            self._batches.settle(token, since_us, now_us)
        return bool(batches)

    def settle(self) -> int:
        """Finish committed batches and take back abandoned ones (see ``StatementStore``)."""
        return self._batches.sweep(default_clock.now_us())

    def consistent_through_us(self, now_us: int) -> int:
        """Before the oldest pending batch's stamp, and a clock margin back from now.

        A batch stamped earlier may become visible after a later one (writers
        race, app servers' clocks differ): a reader of ``since`` must not get
        past a stamp that a pending batch may still make visible.
        """
        oldest = self._batches.oldest_pending_us()
        through = now_us if oldest is None else min(now_us, oldest)
        return through - CLOCK_MARGIN_US

    def readable_through_us(self, now_us: int) -> int:
        """Consistent-Through: batches become visible out of the order of their stamps here."""
        return self.consistent_through_us(now_us)

    def get(self, statement_id: str) -> Record | None:
        """Return the record with this id, or ``None``."""
        with translate_errors():
            document = self._collection.find_one({"_id": statement_id, **_VISIBLE})
        return None if document is None else _record(document)

    def query(self, query: StatementQuery) -> list[Record]:
        """Return the matching unvoided records (see ``StatementStore``)."""
        conditions: list[dict[str, Any]] = [_VISIBLE]
        if not query.with_voided:
            conditions.append({"voided": False})
        # All the filters must hold in one term set: the statement's own, or
        # one inherited from a target.
        term_set: dict[str, Any] = {}
        if query.verb is not None:
            term_set["verb"] = query.verb
        if query.registration is not None:
            term_set["registration"] = query.registration
        if query.agent is not None:
            term_set["related_agents" if query.related_agents else "agents"] = query.agent
        if query.activity is not None:
            field = "related_activities" if query.related_activities else "activity"
            term_set[field] = query.activity
        if term_set:
            conditions.append({"termsets": {"$elemMatch": term_set}})
        stored: dict[str, int] = {}
        if query.since_us is not None:
            stored["$gt"] = query.since_us
        if query.until_us is not None:
            stored["$lte"] = query.until_us
        if stored:
            conditions.append({"stored_us": stored})
        if query.after is not None:
            at, last = query.after
            beyond = "$gt" if query.ascending else "$lt"
            conditions.append(
                {"$or": [{"stored_us": {beyond: at}}, {"stored_us": at, "_id": {beyond: last}}]}
            )
            # The same bound again, outside the $or: the planner then bounds
            # the index walk by it whatever plan it picks (not only the merge).
            conditions.append({"stored_us": {"$gte" if query.ascending else "$lte": at}})
        direction = ASCENDING if query.ascending else DESCENDING
        with translate_errors():
            cursor = self._collection.find(
                {"$and": conditions},
                sort=[("stored_us", direction), ("_id", direction)],
                limit=query.limit,
            )
            return [_record(document) for document in cursor]

    def _course_times(self, course: str, since_us: int, until_us: int) -> list[int]:
        query = {
            "course": course,
            "time_us": {"$gte": since_us, "$lt": until_us},
            "voided": False,
            **_VISIBLE,
        }
        with translate_errors():
            found = self._collection.find(query, projection={"time_us": 1, "_id": 0})
            return [int(document["time_us"]) for document in found]

    def count(self) -> int:
        """Return how many statements are stored.

        From the collection's metadata, less the pending ones (found through
        the partial index ``statements_pending``): no scan of the statements.
        """
        with translate_errors():
            pending = self._collection.count_documents({"pending": {"$exists": True}})
            return int(self._collection.estimated_document_count()) - pending

    def _ids_with_agents(self, keys: frozenset[str]) -> list[str]:
        # Pending ones too: a batch in flight is rewritten with the others.
        with translate_errors():
            found = self._collection.find(
                {"termsets.related_agents": {"$in": sorted(keys)}}, projection=["_id"]
            )
            return sorted(document["_id"] for document in found)

    def get_many(self, ids: Sequence[str]) -> list[Record]:
        """The visible records with these ids, in the order asked: one read."""
        return self._many({"_id": {"$in": list(ids)}, **_VISIBLE}, ids)

    def _held_many(self, ids: Sequence[str]) -> list[Record]:
        return self._many({"_id": {"$in": list(ids)}}, ids)

    def _many(self, query: dict[str, Any], ids: Sequence[str]) -> list[Record]:
        found: dict[str, Record] = {}
        with translate_errors():
            for start in range(0, len(ids), _READ_AT_ONCE):
                part = {**query, "_id": {"$in": list(ids[start : start + _READ_AT_ONCE])}}
                for document in self._collection.find(part):
                    found[document["_id"]] = _record(document)
        return [found[statement_id] for statement_id in ids if statement_id in found]

    def _replace(self, records: Sequence[Record]) -> None:
        # No multi-document transaction: a failure part way leaves some
        # rewritten, and the erasure, run again, does the rest. Each update
        # names the whole new content, so repeating one is harmless.
        operations = []
        for record in records:
            document = _document(record)
            fields = {name: document[name] for name in ("text", "digest", "termsets")}
            operations.append(UpdateOne({"_id": record.id}, {"$set": fields}))
        with translate_errors():
            for start in range(0, len(operations), _REPLACED_AT_ONCE):
                self._collection.bulk_write(
                    operations[start : start + _REPLACED_AT_ONCE], ordered=False
                )

    def _delete(self, ids: Sequence[str]) -> int:
        with translate_errors():
            return int(self._collection.delete_many({"_id": {"$in": list(ids)}}).deleted_count)

    def _using_attachments(self, hashes: set[str]) -> set[str]:
        # Through statements_by_attachment.
        wanted = sorted(hashes)
        with translate_errors():
            found = self._collection.distinct(
                "attachments", {"attachments": {"$in": wanted}, **_VISIBLE}
            )
        return set(found) & set(wanted)

    def _backfill_attachments(self) -> None:
        """Statements stored before ``attachments`` was kept get it (``lrs db ensure-indexes``)."""
        with translate_errors():
            while True:
                found = list(
                    self._collection.find(
                        {"attachments": {"$exists": False}},
                        projection=["text"],
                        limit=_REPLACED_AT_ONCE,
                    )
                )
                if not found:
                    return
                self._collection.bulk_write(
                    [
                        UpdateOne(
                            {"_id": document["_id"]},
                            {"$set": {"attachments": attachment_hashes(document["text"])}},
                        )
                        for document in found
                    ],
                    ordered=False,
                )

    def _count_older_than(self, stored_us: int) -> int:
        with translate_errors():
            return int(
                self._collection.count_documents({"stored_us": {"$lt": stored_us}, **_VISIBLE})
            )

    def _older_than(self, stored_us: int, limit: int) -> list[str]:
        with translate_errors():
            found = self._collection.find(
                {"stored_us": {"$lt": stored_us}, **_VISIBLE},
                projection=["_id"],
                sort=[("stored_us", ASCENDING), ("_id", ASCENDING)],
                limit=limit,
            )
            return [document["_id"] for document in found]
