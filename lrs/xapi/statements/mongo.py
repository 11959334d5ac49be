"""Statements kept in MongoDB: one document per statement, its query terms indexed.

The statement itself is JSON text (``text``): extension keys are IRIs full of
dots, and values may hold keys that MongoDB refuses. Beside it, ``termsets``
holds its query terms and those it inherits from the statements it targets;
each term is indexed together with the stored time, so a filter is answered
by an index walk in stored order that stops at the limit.

Shard key: ``{_id: "hashed"}`` spreads writes; queries fan out to all shards.

Without multi-document transactions, a batch is all or nothing by a protocol
of its own (see ``MongoStatementStore.save`` and docs/mongodb.md): it is
inserted as pending, invisible to reads, then made visible in one update.
"""

import re
import uuid
from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from lrs.clock import default_clock
from lrs.mongo import DUPLICATE_KEY, collection, translate_errors
from lrs.retries import attempts
from lrs.xapi.statements.base import (
    Record,
    StatementQuery,
    StatementStore,
    Terms,
    check_batch,
    wanted_ids,
)

COLLECTION = "statements"
# Statements of a batch still being stored carry ``pending``; reads skip them.
_VISIBLE: dict[str, Any] = {"pending": {"$exists": False}}
# Statements rewritten per bulk write (an erasure's).
_REPLACED_AT_ONCE = 1000
# A pending batch this old was abandoned by a writer that died mid-way.
ABANDONED_AFTER_US = 60_000_000
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
            self._collection.create_index(order, name="statements_by_time")
            for field in _TERM_FIELDS:
                self._collection.create_index(
                    [(f"termsets.{field}", ASCENDING), *order], name=f"statements_by_{field}"
                )
            # A course's activity by day; statements in no course stay out of it.
            self._collection.create_index(
                [("course", ASCENDING), ("time_us", ASCENDING)],
                name="statements_by_course",
                partialFilterExpression={"course": {"$gt": ""}},
            )

    def save(self, records: Sequence[Record]) -> list[str]:
        """Store a batch of new statements, all or nothing (see ``StatementStore``).

        The batch is inserted as pending, invisible to every read, and made
        visible only once all of it is in. A racing writer of one of its ids
        meets the pending document and waits until it is either visible (then
        compared, as any stored statement is) or gone. If this batch meets an
        id inserted meanwhile, it takes back its own pending documents and
        starts again. So a batch is never seen in part, and a writer never
        answers on the strength of a statement that is then taken back.
        """
        wanted = sorted(wanted_ids(records))
        token = uuid.uuid4().hex
        for _ in attempts("the statements with these ids"):
            with translate_errors():
                found = list(self._collection.find({"_id": {"$in": wanted}}))
            if self._others_pending(found):
                continue  # another batch holds one of these ids: wait for its outcome
            new = check_batch(records, {document["_id"]: _record(document) for document in found})
            if not new:
                return []
            ids = [record.id for record in new]
            pending = {"token": token, "since_us": default_clock.now_us()}
            with translate_errors():
                try:
                    self._collection.insert_many(
                        [{**_document(record), "pending": pending} for record in new],
                        ordered=False,
                    )
                except BulkWriteError as exc:
                    self._take_back(ids, token)
                    if any(e.get("code") != DUPLICATE_KEY for e in exc.details["writeErrors"]):
                        raise
                    continue  # an id was inserted meanwhile: look again
                self._collection.update_many(
                    {"_id": {"$in": ids}, "pending.token": token}, {"$unset": {"pending": ""}}
                )
                targets = [record.voids for record in new if record.voids is not None]
                if targets:
                    self._collection.update_many(
                        {"_id": {"$in": targets}}, {"$set": {"voided": True}}
                    )
            break
        return ids

    def _others_pending(self, found: list[dict[str, Any]]) -> bool:
        """Whether another batch is storing one of these; clears abandoned ones."""
        abandoned_before = default_clock.now_us() - ABANDONED_AFTER_US
        waiting = False
        for document in found:
            pending = document.get("pending")
            if pending is None:
                continue
            if pending["since_us"] < abandoned_before:
                # Its writer died between insert and commit: nobody answered for it.
                self._take_back([document["_id"]], pending["token"])
            waiting = True
        return waiting

    def _take_back(self, ids: list[str], token: str) -> None:
        """Delete the pending documents that the batch ``token`` inserted (and only those)."""
        with translate_errors():
            self._collection.delete_many({"_id": {"$in": ids}, "pending.token": token})

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
        """Return how many statements are stored."""
        with translate_errors():
            return self._collection.count_documents(_VISIBLE)

    def _ids_with_agents(self, keys: frozenset[str]) -> list[str]:
        with translate_errors():
            found = self._collection.find(
                {"termsets.related_agents": {"$in": sorted(keys)}, **_VISIBLE}, projection=["_id"]
            )
            return sorted(document["_id"] for document in found)

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

    def _names(self, text: str) -> bool:
        with translate_errors():
            found = self._collection.find_one(
                {"text": {"$regex": re.escape(text)}, **_VISIBLE}, projection=["_id"]
            )
        return found is not None

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
