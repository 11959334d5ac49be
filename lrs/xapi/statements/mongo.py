"""Statements kept in MongoDB: one document per statement, its query terms indexed.

The statement itself is JSON text (``text``): extension keys are IRIs full of
dots, and values may hold keys that MongoDB refuses. The terms beside it are
plain fields and arrays, each indexed together with the stored time, so every
filter is answered by an index walk in stored order that stops at the limit.

Shard key: ``{_id: "hashed"}`` spreads writes; queries fan out to all shards.

Without multi-document transactions a batch is checked first, then inserted
with one ordered ``insert_many``; only a concurrent insert of one of its ids
between the two can leave part of the batch stored (the rest then fails).
"""

from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.collection import Collection
from pymongo.database import Database

from lrs.mongo import collection, translate_errors
from lrs.xapi.statements.base import Record, StatementQuery, StatementStore, Terms, check_batch

COLLECTION = "statements"
# Each filter's field, indexed with the stored time so that it returns in order.
_TERM_FIELDS = (
    "verb",
    "agents",
    "related_agents",
    "activity",
    "related_activities",
    "registration",
)


def _document(record: Record) -> dict[str, Any]:
    terms = record.terms
    return {
        "_id": record.id,
        "text": record.text,
        "stored_us": record.stored_us,
        "digest": record.digest,
        "voided": record.voided,
        "verb": terms.verb,
        "agents": sorted(terms.agents),
        "related_agents": sorted(terms.related_agents),
        "activity": terms.activity,
        "related_activities": sorted(terms.related_activities),
        "registration": terms.registration,
        "target": terms.target,
    }


def _record(document: dict[str, Any]) -> Record:
    terms = Terms(
        verb=document["verb"],
        agents=frozenset(document["agents"]),
        related_agents=frozenset(document["related_agents"]),
        activity=document["activity"],
        related_activities=frozenset(document["related_activities"]),
        registration=document["registration"],
        target=document["target"],
    )
    return Record(
        document["_id"],
        document["text"],
        document["stored_us"],
        document["digest"],
        terms,
        document["voided"],
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
                    [(field, ASCENDING), *order], name=f"statements_by_{field}"
                )

    def save(self, records: Sequence[Record]) -> list[str]:
        """Store a batch of new statements (see ``StatementStore``)."""
        wanted = [record.id for record in records] + [
            record.voids for record in records if record.voids is not None
        ]
        with translate_errors():
            stored = {
                document["_id"]: _record(document)
                for document in self._collection.find({"_id": {"$in": wanted}})
            }
            new = check_batch(records, stored)
            if new:
                self._collection.insert_many([_document(record) for record in new])
                targets = [record.voids for record in new if record.voids is not None]
                if targets:
                    self._collection.update_many(
                        {"_id": {"$in": targets}}, {"$set": {"voided": True}}
                    )
        return [record.id for record in new]

    def get(self, statement_id: str) -> Record | None:
        """Return the record with this id, or ``None``."""
        with translate_errors():
            document = self._collection.find_one({"_id": statement_id})
        return None if document is None else _record(document)

    def query(self, query: StatementQuery) -> list[Record]:
        """Return the matching unvoided records (see ``StatementStore``)."""
        conditions: list[dict[str, Any]] = [{"voided": False}]
        if query.verb is not None:
            conditions.append({"verb": query.verb})
        if query.registration is not None:
            conditions.append({"registration": query.registration})
        if query.agent is not None:
            field = "related_agents" if query.related_agents else "agents"
            conditions.append({field: query.agent})
        if query.activity is not None:
            field = "related_activities" if query.related_activities else "activity"
            conditions.append({field: query.activity})
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

    def count(self) -> int:
        """Return how many statements are stored."""
        with translate_errors():
            return self._collection.count_documents({})
