"""Progress in MongoDB: ``progress_events`` and ``progress``.

No transactions: the counters of ``lrs.progress.base`` order concurrent
writers. A key's document is created by its first increment
(``find_one_and_update`` with ``$inc``, atomic on the server), and its records
are replaced by an update whose filter says ``written < counter``.
"""

from collections.abc import Sequence
from typing import Any

import orjson
from pymongo import ASCENDING, ReturnDocument
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError

from lrs.mongo import collection, translate_errors
from lrs.progress.base import Key, ProgressStore
from lrs.progress.derive import ContentSession, ContentSummary, Event

# MongoDB's code for a duplicate key.
_DUPLICATE = 11000


class MongoProgressStore(ProgressStore):
    """Events and records of progress in two collections."""

    def __init__(self, database: Database[Any]) -> None:
        """Keep progress in ``database``, creating the indexes the queries use."""
        self._events_collection = collection(database, "progress_events")
        self._progress = collection(database, "progress")
        with translate_errors():
            self._events_collection.create_index(
                [("learner", ASCENDING), ("content", ASCENDING)], name="events_by_key"
            )
            self._progress.create_index(
                [("learner", ASCENDING), ("content", ASCENDING)], name="by_key", unique=True
            )
            self._progress.create_index([("content", ASCENDING)], name="by_content")
            self._progress.create_index([("course", ASCENDING)], name="by_course")

    def summaries(
        self, *, learner: str | None = None, content: str | None = None, course: str | None = None
    ) -> list[ContentSummary]:
        """The content summaries that match every filter given, by learner then content."""
        return [
            ContentSummary(*orjson.loads(document["summary"]))
            for document in self._documents(learner, content, course)
        ]

    def sessions(
        self, *, learner: str | None = None, content: str | None = None, course: str | None = None
    ) -> list[ContentSession]:
        """The content sessions that match every filter given, by learner, content, then start."""
        return [
            ContentSession(*session)
            for document in self._documents(learner, content, course)
            for session in orjson.loads(document["sessions"])
        ]

    def _documents(
        self, learner: str | None, content: str | None, course: str | None
    ) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"summary": {"$ne": None}}
        for name, value in (("learner", learner), ("content", content), ("course", course)):
            if value is not None:
                query[name] = value
        with translate_errors():
            return list(
                self._progress.find(query, sort=[("learner", ASCENDING), ("content", ASCENDING)])
            )

    def _add_events(self, events: Sequence[Event]) -> None:
        documents = [
            {
                "_id": event.statement_id,
                "learner": event.learner,
                "content": event.content,
                "event": orjson.dumps(list(event)).decode(),
            }
            for event in events
        ]
        with translate_errors():
            try:
                self._events_collection.insert_many(documents, ordered=False)
            except BulkWriteError as exc:
                # An event held already (its statement's id) is left as it is.
                if any(error.get("code") != _DUPLICATE for error in exc.details["writeErrors"]):
                    raise

    def _remove_events(self, statement_ids: Sequence[str]) -> set[Key]:
        with translate_errors():
            found = list(
                self._events_collection.find(
                    {"_id": {"$in": list(statement_ids)}}, {"learner": 1, "content": 1}
                )
            )
            self._events_collection.delete_many({"_id": {"$in": list(statement_ids)}})
        return {(document["learner"], document["content"]) for document in found}

    def _bump(self, keys: Sequence[Key]) -> dict[Key, int]:
        counters = {}
        with translate_errors():
            for key in keys:
                try:
                    counters[key] = self._increment(key)
                except DuplicateKeyError:
                    # Two first increments of one key raced to insert it (a
                    # server from 4.2 retries those itself): it exists now.
                    counters[key] = self._increment(key)
        return counters

    def _increment(self, key: Key) -> int:
        learner, content = key
        document = self._progress.find_one_and_update(
            {"learner": learner, "content": content},
            {"$inc": {"counter": 1}, "$setOnInsert": {"written": 0, "summary": None}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return int(document["counter"])

    def _events(self, key: Key) -> list[Event]:
        learner, content = key
        with translate_errors():
            documents = self._events_collection.find({"learner": learner, "content": content})
            return [Event(*orjson.loads(document["event"])) for document in documents]

    def _write(
        self,
        key: Key,
        counter: int,
        summary: ContentSummary | None,
        sessions: Sequence[ContentSession],
    ) -> None:
        learner, content = key
        with translate_errors():
            self._progress.update_one(
                {"learner": learner, "content": content, "written": {"$lt": counter}},
                {
                    "$set": {
                        "written": counter,
                        "course": None if summary is None else summary.course,
                        "summary": None
                        if summary is None
                        else orjson.dumps(list(summary)).decode(),
                        "sessions": orjson.dumps([list(session) for session in sessions]).decode(),
                    }
                },
            )

    def _clear(self) -> None:
        with translate_errors():
            self._events_collection.delete_many({})
            self._progress.delete_many({})
